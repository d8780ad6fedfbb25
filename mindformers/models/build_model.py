"""build_model / build_network: a model from a YAML `model` section ({model_config, arch})."""
from mindformers.models.base_config import BaseConfig
from mindformers.models.build_config import build_model_config
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


def build_model(config=None, default_args=None, module_type='models', class_name=None, **kwargs):
    """`config.model_config` is built first; each default arg (parallel_config, ...) is set on it;
    then `config.arch.type` is instantiated with `config=<model config>`.

    With `model_config.pet_config` (e.g. pet_type lora) the base model is built without its weights, adapted
    by `get_pet_model`, and then `checkpoint_name_or_path` is loaded into the adapted network (the base
    parameter names are unchanged, so only the new PET parameters are missing from the file)."""
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
    pet_config = getattr(model_config, 'pet_config', None)
    if not pet_config:
        return MindFormerRegister.get_instance_from_cfg({'type': arch_type}, MindFormerModuleType.MODELS,
                                                        {'config': model_config})
    from mindformers.pet import get_pet_model  # pylint: disable=import-outside-toplevel
    checkpoint = getattr(model_config, 'checkpoint_name_or_path', None)
    model_config.checkpoint_name_or_path = ''
    try:
        model = MindFormerRegister.get_instance_from_cfg({'type': arch_type}, MindFormerModuleType.MODELS,
                                                         {'config': model_config})
    finally:
        model_config.checkpoint_name_or_path = checkpoint
    model = get_pet_model(model, pet_config)
    if checkpoint:
        model.load_checkpoint(model_config)
    return model


build_network = build_model
