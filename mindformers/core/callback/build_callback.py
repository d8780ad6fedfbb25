"""build_callback: one callback or a list from YAML; MFLossMonitor/CheckpointMonitor get run-time defaults."""
import inspect

from mindspore.train import callback as ms_callback

from mindformers.tools.register import MindFormerRegister, MindFormerModuleType, MindFormerConfig
from mindformers.tools.register.register import register_subclasses

register_subclasses([c for _, c in inspect.getmembers(ms_callback, inspect.isclass)], ms_callback.Callback,
                    MindFormerModuleType.CALLBACK)


def build_callback(config=None, default_args=None, module_type='callback', class_name=None, **kwargs):
    """`config` is a dict with `type` or a list of them; `default_args` maps callback type -> extra kwargs."""
    if config is None and class_name is None:
        return None
    if config is None:
        return MindFormerRegister.get_instance(module_type, class_name, **kwargs)
    configs = config if isinstance(config, (list, tuple)) else [config]
    built = []
    for item in configs:
        item = MindFormerConfig(dict(item))
        extra = (default_args or {}).get(item.type) if isinstance(default_args, dict) else None
        if item.type == 'CheckpointMointor':
            extra = (default_args or {}).get('CheckpointMonitor', extra)
        built.append(MindFormerRegister.get_instance_from_cfg(item, module_type, extra))
    return built if isinstance(config, (list, tuple)) else built[0]
