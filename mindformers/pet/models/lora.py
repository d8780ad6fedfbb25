"""LoraModel: a base model with LoRA layers in its backbone and everything else frozen."""
from mindformers.pet.pet_config import LoraConfig
from mindformers.pet.tuners import LoraAdapter, PetAdapter
from mindformers.tools.errors import ConfigError

BACKBONE_NAMES = ('backbone', 'model', 'transformer')


class LoraModel:
    """`LoraModel(config, base_model)` adapts `base_model` in place and returns it (not a wrapper), so the
    network keeps its class, its methods (generate, load_checkpoint) and its parameter names.

    As upstream, the Linears are replaced inside the first of `base_model.backbone` / `.model` /
    `.transformer` that exists (the LM head stays frozen), or inside the whole model if none does.
    """

    def __new__(cls, config, base_model):
        if not isinstance(config, LoraConfig):
            config = LoraConfig(**dict(config))
        if config.target_modules is None:   # a family may name its upstream default (ChatGLM2WithLora)
            config.target_modules = getattr(base_model, 'default_lora_target_modules', None)
        if config.target_modules is None:
            raise ConfigError("pet_config.target_modules is not set; give a regex of Linear names to adapt, "
                              "e.g. '.*wq|.*wk|.*wv|.*wo'")
        prefix = next((name for name in BACKBONE_NAMES if name in base_model.name_cells()), '')
        network = getattr(base_model, prefix) if prefix else base_model
        replaced = LoraAdapter.get_pet_model(network, config, prefix=prefix,
                                             aliases=getattr(base_model, 'upstream_param_aliases', None))
        if not replaced:
            raise ConfigError(f"pet_config.target_modules '{config.target_modules}' matches no Linear layer of "
                              f"{type(base_model).__name__}; match attribute names such as 'wq' or 'w1'")
        PetAdapter.freeze_pet(base_model, 'lora', config.freeze_include, config.freeze_exclude)
        base_model.pet_config = config
        base_model.lora_layers = replaced
        return base_model
