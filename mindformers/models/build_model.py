"""build_model / build_network: a model from a YAML `model` section ({model_config, arch})."""
from mindformers.models.base_config import BaseConfig
from mindformers.models.build_config import build_model_config
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


def build_model(config=None, default_args=None, module_type='models', class_name=None, **kwargs):
    """`config.model_config` is built first; each default arg (parallel_config, ...) is set on it;
    then `config.arch.type` is instantiated with `config=<model config>`."""
    if config is None and class_name is None:
        return None
    if config is None:
        return MindFormerRegister.get_instance(module_type, class_name, **kwargs)
    if config.model_config is None or config.arch is None:
        raise ConfigError("the model section needs both model.model_config and model.arch")
    model_config = config.model_config
    if not isinstance(model_config, BaseConfig):
        model_config = build_model_config(model_config)
    for key, value in (default_args or {}).items():
        setattr(model_config, key, value)
    arch = config.arch
    arch_type = arch.get('type') if isinstance(arch, dict) else arch
    return MindFormerRegister.get_instance_from_cfg({'type': arch_type}, MindFormerModuleType.MODELS,
                                                    {'config': model_config})


build_network = build_model
