"""build_optim: turn an `optimizer` config section into an optimizer from the registry."""
from mindspore import nn
from mindspore.nn import optim as ms_optim

from mindformers.core.lr.build_lr import build_lr
from mindformers.core.optim.optim import FP32StateAdamWeightDecay, FusedAdamWeightDecay
from mindformers.tools.register import MindFormerConfig, MindFormerModuleType, MindFormerRegister
from mindformers.tools.register.register import register_subclasses

__all__ = ['build_optim']

# values that must reach the optimizer as the very objects given, never deep-copied with the config
_OBJECT_KEYS = ('params', 'learning_rate')


def build_optim(config=None, default_args=None, module_type=MindFormerModuleType.OPTIMIZER, class_name=None,
                **kwargs):
    """Build from `config` (a dict with `type`; `default_args` override its keys) or from `class_name` + kwargs.

    A `learning_rate` that is itself a config with `type` is built with `build_lr` first, unless
    `default_args` replace it (the trainer passes `{"params": groups, "learning_rate": lr_schedule}`).
    Returns None when neither `config` nor `class_name` is given.
    """
    if config is None and class_name is None:
        return None
    if config is None:
        return MindFormerRegister.get_instance(module_type, class_name, **kwargs)
    if not isinstance(config, MindFormerConfig):
        config = MindFormerConfig(**config)
    else:
        config = MindFormerConfig(**dict(config))  # shallow copy: the caller's config is left as given
    object_args = {}
    for key in _OBJECT_KEYS:
        if key in config:
            object_args[key] = config.pop(key)
    learning_rate = object_args.get('learning_rate')
    replaced = default_args is not None and 'learning_rate' in default_args
    if isinstance(learning_rate, dict) and 'type' in learning_rate and not replaced:
        object_args['learning_rate'] = build_lr(learning_rate)
    object_args.update(default_args or {})
    return MindFormerRegister.get_instance_from_cfg(config, module_type, object_args)


def _register_ms_optimizers():
    """Make every MindSpore optimizer (AdamWeightDecay, Momentum, ...) buildable by its class name."""
    register_subclasses([getattr(ms_optim, name) for name in ms_optim.__all__], ms_optim.Optimizer,
                        MindFormerModuleType.OPTIMIZER)


def _register_aliases():
    aliases = {
        'adamw': nn.AdamWeightDecay,
        'fused_adamw': FusedAdamWeightDecay,
        'fp32_adamw': FP32StateAdamWeightDecay,
        'adam': nn.Adam,
        'sgd': nn.SGD,
        'adagrad': nn.Adagrad,
    }
    if hasattr(nn, 'AdaFactor'):
        aliases['adafactor'] = nn.AdaFactor
    for alias, optim_cls in aliases.items():
        MindFormerRegister.register_cls(optim_cls, MindFormerModuleType.OPTIMIZER, alias=alias)


_register_ms_optimizers()
_register_aliases()
