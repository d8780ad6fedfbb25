"""PrefixTuningAdapter: prefix tuning (Li & Liang) on a built causal LM whose trunk takes per-layer prefix keys and
values (the RoPE decoders: LLaMA, Qwen2, ChatGLM2): trainable prefixes reparametrised through a tanh MLP, every
other weight frozen."""
from mindformers.modules.transformer import RotaryDecoderTrunk
from mindformers.pet.pet_config import PetConfig, check_prefix_fields
from mindformers.pet.constants import PetType
from mindformers.pet.tuners.ptuning2_adapter import Ptuning2Encoder
from mindformers.tools.errors import ConfigError

__all__ = ['PrefixTuningAdapter', 'PrefixTuningConfig']


class PrefixTuningConfig(PetConfig):
    """`pre_seq_len` virtual tokens per layer; their keys and values come from a (pre_seq_len, layers x 2 x kv
    width) table through Linear -> tanh -> Linear of `projection_dim` (prefix tuning's reparametrisation);
    `dropout_prob` on them while training."""

    def __init__(self, pre_seq_len=16, projection_dim=128, dropout_prob=0.0, pet_type=PetType.PREFIX_TUNING.value,
                 **kwargs):
        if getattr(pet_type, 'value', pet_type) != PetType.PREFIX_TUNING.value:
            raise ConfigError(f"PrefixTuningConfig: pet_type is '{pet_type}'; it is always 'prefixtuning'")
        super().__init__(pet_type=PetType.PREFIX_TUNING.value, **kwargs)
        check_prefix_fields(pre_seq_len, projection_dim, dropout_prob)
        self.pre_seq_len = pre_seq_len
        self.projection_dim = projection_dim
        self.dropout_prob = dropout_prob


class _PrefixTuned:
    """Mixed into the model's class: every forward passes the prefix keys/values to the trunk; generation
    recomputes the sequence (the KV cache holds no prefix)."""
    takes_prefix = True
    kv_cache_generation = False

    def logits(self, tokens, *trunk_inputs):
        prefix = self.prefix_encoder(tokens.shape[0])
        return self._head(self.model(tokens, False, prefix))


class PrefixTuningAdapter:
    """`PrefixTuningAdapter.get_pet_model(model, config)` adapts `model` in place (and returns it): a
    `prefix_encoder` (parameters `prefix_encoder.mindpet_delta_ptuning2_*`) is added, only it trains."""

    @staticmethod
    def get_pet_model(model, config):
        if not isinstance(config, PrefixTuningConfig):
            config = PrefixTuningConfig(**dict(config))
        trunk = getattr(model, 'model', None)
        if not isinstance(trunk, RotaryDecoderTrunk):
            raise ConfigError(f"prefix tuning needs a causal LM with a RoPE decoder trunk (LLaMA, Qwen2, ChatGLM2); "
                              f"{type(model).__name__} has none")
        if getattr(model.config, 'use_past', False):
            raise ConfigError("prefix tuning: use_past True is not supported (the KV cache holds no prefix); set "
                              "model_config.use_past False")
        model_config = model.config
        kv_heads = getattr(model_config, 'n_kv_heads', None) or model_config.num_heads
        head_dim = model_config.hidden_size // model_config.num_heads
        model.prefix_encoder = Ptuning2Encoder(config.pre_seq_len, model_config.num_layers, kv_heads, head_dim,
                                               True, config.projection_dim, config.dropout_prob,
                                               model_config.param_init_type, model_config.compute_dtype)
        for param in model.get_parameters():
            param.requires_grad = param.name.startswith('prefix_encoder.')
        base = type(model)
        model.__class__ = type(f'{base.__name__}WithPrefixTuning', (_PrefixTuned, base), {})
        model.pet_config = config
        return model
