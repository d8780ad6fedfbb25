"""get_pet_model: apply the `pet_config` of a model section (LoRA) to a built base model."""
from mindformers.pet.constants import PetType
from mindformers.pet.models import LoraModel
from mindformers.pet.pet_config import PetConfig, LoraConfig
from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger

PET_TYPE_TO_MODEL_MAPPING = {PetType.LORA.value: LoraModel}
PET_TYPE_TO_CONFIG_MAPPING = {PetType.LORA.value: LoraConfig}
_ADAPTERS = (PetType.ADAPTER.value, PetType.PREFIX_TUNING.value)   # applied by their tuner classes


def _pet_type(pet_config):
    pet_type = pet_config.pet_type if isinstance(pet_config, PetConfig) else dict(pet_config).get('pet_type')
    return pet_type.value if isinstance(pet_type, PetType) else pet_type


def is_supported_pet_type(pet_type):
    """True for the pet types get_pet_model applies ('lora', 'adapter', 'prefixtuning')."""
    pet_type = pet_type.value if isinstance(pet_type, PetType) else pet_type
    return pet_type in PET_TYPE_TO_MODEL_MAPPING or pet_type in _ADAPTERS


def get_pet_model(base_model, pet_config):
    """`pet_config` is a PetConfig or a dict/YAML section with `pet_type`. LoRA, bottleneck adapters ('adapter')
    and prefix tuning ('prefixtuning') adapt `base_model` in place and return it with only their parameters
    trainable; other known PET types return the model unchanged with a warning; an unknown `pet_type` is a
    ConfigError."""
    if not pet_config or getattr(base_model, 'pet_config', None) is not None:   # none asked, or built in already
        return base_model
    pet_type = _pet_type(pet_config)
    known = [t.value for t in PetType]
    if pet_type not in known:
        raise ConfigError(f"pet_config.pet_type '{pet_type}' is unknown; use one of {known}")
    if pet_type in _ADAPTERS:
        from mindformers.pet.tuners.ada_adapter import AdaAdapter  # pylint: disable=import-outside-toplevel
        from mindformers.pet.tuners.prefix_tuning_adapter import \
            PrefixTuningAdapter  # pylint: disable=import-outside-toplevel
        adapter = {'adapter': AdaAdapter, 'prefixtuning': PrefixTuningAdapter}[pet_type]
        config = pet_config.to_dict() if isinstance(pet_config, PetConfig) else dict(pet_config)
        model = adapter.get_pet_model(base_model, config)
        logger.info("%s: %d trainable parameters", pet_type, sum(p.size for p in model.trainable_params()))
        return model
    if not is_supported_pet_type(pet_type):
        logger.warning("pet_config.pet_type '%s' is not implemented for %s; training the model without PET",
                       pet_type, type(base_model).__name__)
        return base_model
    if not isinstance(pet_config, PetConfig):
        pet_config = PET_TYPE_TO_CONFIG_MAPPING[pet_type](**dict(pet_config))
    model = PET_TYPE_TO_MODEL_MAPPING[pet_type](pet_config, base_model)
    params = model.get_parameters()
    total = 0
    trainable = 0
    for param in params:
        total += param.size
        trainable += param.size if param.requires_grad else 0
    logger.info("LoRA: %d trainable of %d parameters (%.4f%%) in %d adapted layers", trainable, total,
                100.0 * trainable / max(total, 1), len(model.lora_layers))
    return model
