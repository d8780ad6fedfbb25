"""build_model_config: a model config object from a YAML `model_config` section."""
import copy

from mindformers.tools.register import MindFormerRegister, MindFormerModuleType, MindFormerConfig


def build_model_config(config=None, default_args=None, module_type='config', class_name=None, **kwargs):
    if config is None and class_name is None:
        return None
    if config is not None:
        config = MindFormerConfig(copy.deepcopy(config.to_dict() if hasattr(config, 'to_dict') else dict(config)))
        for sub in ('text_config', 'vision_config', 'head_config'):
            if isinstance(config.get(sub), dict) and config[sub].get('type'):
                config[sub] = build_model_config(config[sub])
        return MindFormerRegister.get_instance_from_cfg(config, MindFormerModuleType.CONFIG, default_args)
    return MindFormerRegister.get_instance(module_type, class_name, **kwargs)
