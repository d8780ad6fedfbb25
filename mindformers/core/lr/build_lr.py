"""build_lr: turn an `lr_schedule` config section into a LearningRateSchedule from the registry."""
import inspect

from mindspore.nn import learning_rate_schedule as ms_lr_schedule

from mindformers.core.lr.lr_schedule import (ConstantWarmUpLR, CosineWithRestartsAndWarmUpLR, CosineWithWarmUpLR,
                                             LinearWithWarmUpLR, PolynomialWithWarmUpLR)
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister
from mindformers.tools.register.register import build_from_registry, register_subclasses

__all__ = ['build_lr']


def build_lr(config=None, default_args=None, module_type=MindFormerModuleType.LR, class_name=None, **kwargs):
    """Build from `config` (a dict with `type`; `default_args` override its keys) or from `class_name` + kwargs.

    Returns None when neither `config` nor `class_name` is given.
    """
    return build_from_registry(config, default_args, module_type, class_name, **kwargs)


def _register_ms_lr_schedules():
    """Make every MindSpore schedule (CosineDecayLR, WarmUpLR, ...) buildable by its class name."""
    register_subclasses([c for _, c in inspect.getmembers(ms_lr_schedule, inspect.isclass)],
                        ms_lr_schedule.LearningRateSchedule, MindFormerModuleType.LR)


def _register_aliases():
    aliases = {
        'constant_with_warmup': ConstantWarmUpLR,
        'linear': LinearWithWarmUpLR,
        'cosine': CosineWithWarmUpLR,
        'cosine_with_restarts': CosineWithRestartsAndWarmUpLR,
        'polynomial': PolynomialWithWarmUpLR,
    }
    for alias, schedule_cls in aliases.items():
        MindFormerRegister.register_cls(schedule_cls, MindFormerModuleType.LR, alias=alias)


_register_ms_lr_schedules()
_register_aliases()
