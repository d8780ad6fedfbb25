"""Per-row transforms that dataset YAML sections name by `type` (module type `transforms`)."""
from .text_transforms import TokenizeWithLabel, LabelPadding, RandomChoiceTokenizerForward, TokenizerForward, \
    build_transforms
from .vision_transforms import build_vision_transforms
from .mixup import Mixup

__all__ = ['TokenizeWithLabel', 'LabelPadding', 'RandomChoiceTokenizerForward', 'TokenizerForward',
           'build_transforms', 'build_vision_transforms', 'Mixup']
