"""Train-step wrappers."""
from .wrapper import MFTrainOneStepCell, MFPipelineWithLossScaleCell, DynamicLossScale
from .adaptive_loss_scale import AdaptiveLossScaleUpdateCell
from .build_wrapper import build_wrapper

__all__ = ['MFTrainOneStepCell', 'MFPipelineWithLossScaleCell', 'AdaptiveLossScaleUpdateCell', 'DynamicLossScale',
           'build_wrapper']
