"""Train-step wrappers."""
from .wrapper import MFTrainOneStepCell, DynamicLossScale
from .build_wrapper import build_wrapper

__all__ = ['MFTrainOneStepCell', 'DynamicLossScale', 'build_wrapper']
