"""build_loss: turn a `loss` config section into a loss cell from the registry."""
import inspect

from mindspore import nn
from mindspore.nn import loss as ms_loss

from mindformers.core.loss.loss import CrossEntropyLoss
from mindformers.tools.register import MindFormerConfig, MindFormerModuleType, MindFormerRegister

__all__ = ['build_loss']


def build_loss(config=None, default_args=None, module_type=MindFormerModuleType.LOSS, class_name=None, **kwargs):
    """Build from `config` (a dict with `type`; `default_args` override its keys) or from `class_name` + kwargs.

    Returns None when neither `config` nor `class_name` is given.
    """
    if config is None and class_name is None:
        return None
    if config is not None:
        if isinstance(config, dict) and not isinstance(config, MindFormerConfig):
            config = MindFormerConfig(**config)
        return MindFormerRegister.get_instance_from_cfg(config, module_type, default_args)
    return MindFormerRegister.get_instance(module_type, class_name, **kwargs)


def _register_ms_losses():
    """Make every MindSpore loss (SoftmaxCrossEntropyWithLogits, MSELoss, L1Loss, ...) buildable by name."""
    for name in ms_loss.__all__:
        loss_cls = getattr(ms_loss, name)
        if not inspect.isclass(loss_cls) or not issubclass(loss_cls, nn.Cell) or loss_cls is ms_loss.LossBase:
            continue
        # our own classes win over a MindSpore class with the same name
        if not MindFormerRegister.is_exist(MindFormerModuleType.LOSS, name):
            MindFormerRegister.register_cls(loss_cls, MindFormerModuleType.LOSS)


_register_ms_losses()
# `type: CrossEntropyLoss` means mindformers' masked loss, not mindspore.nn.CrossEntropyLoss
MindFormerRegister.register_cls(CrossEntropyLoss, MindFormerModuleType.LOSS)
