"""build_loss: turn a `loss` config section into a loss cell from the registry."""
from mindspore import nn
from mindspore.nn import loss as ms_loss

from mindformers.core.loss.loss import CrossEntropyLoss
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister
from mindformers.tools.register.register import build_from_registry, register_subclasses

__all__ = ['build_loss']


def build_loss(config=None, default_args=None, module_type=MindFormerModuleType.LOSS, class_name=None, **kwargs):
    """Build from `config` (a dict with `type`; `default_args` override its keys) or from `class_name` + kwargs.

    Returns None when neither `config` nor `class_name` is given.
    """
    return build_from_registry(config, default_args, module_type, class_name, **kwargs)


def _register_ms_losses():
    """Make every MindSpore loss (SoftmaxCrossEntropyWithLogits, MSELoss, L1Loss, ...) buildable by name."""
    register_subclasses([getattr(ms_loss, name) for name in ms_loss.__all__ if name != 'LossBase'], nn.Cell,
                        MindFormerModuleType.LOSS)


_register_ms_losses()
# `type: CrossEntropyLoss` means mindformers' masked loss, not mindspore.nn.CrossEntropyLoss
MindFormerRegister.register_cls(CrossEntropyLoss, MindFormerModuleType.LOSS)
