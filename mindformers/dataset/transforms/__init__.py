"""Per-row transforms that dataset YAML sections name by `type` (module type `transforms`): every
mindspore.dataset vision / transforms op by its name, and upstream's own (which override MindSpore's names)."""
import inspect as _inspect

from mindspore.dataset import transforms as _ms_transforms, vision as _ms_vision

from mindformers.tools.register import MindFormerModuleType as _Type, MindFormerRegister as _Register
from .text_transforms import TokenizeWithLabel, LabelPadding, RandomChoiceTokenizerForward, TokenizerForward, \
    CaptionTransform, build_transforms
from .vision_transforms import build_vision_transforms
from .upstream_vision import (BCHW2BHWC, BatchResize, BatchCenterCrop, BatchToTensor, BatchNormalize, BatchPILize,
                              RandomCropDecodeResize, RandomResizedCrop, Resize, RandomHorizontalFlip, RandomErasing)
from .mixup import Mixup
from .auto_augment import auto_augment_transform, rand_augment_transform, augment_and_mix_transform

for _module in (_ms_vision, _ms_transforms):
    for _name, _op in _inspect.getmembers(_module, _inspect.isclass):
        if not _name.startswith('_') and not _Register.is_exist(_Type.TRANSFORMS, _name):
            _Register.register_cls(_op, _Type.TRANSFORMS)

__all__ = ['build_transforms', 'Mixup', 'auto_augment_transform', 'rand_augment_transform',
           'augment_and_mix_transform', 'RandomErasing', 'BatchResize', 'BCHW2BHWC', 'BatchPILize', 'BatchNormalize',
           'BatchCenterCrop', 'BatchToTensor', 'RandomCropDecodeResize', 'RandomResizedCrop', 'Resize',
           'RandomHorizontalFlip', 'RandomChoiceTokenizerForward', 'TokenizerForward', 'TokenizeWithLabel',
           'LabelPadding', 'CaptionTransform', 'build_vision_transforms']
