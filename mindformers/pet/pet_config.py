"""PetConfig / LoraConfig: the `model.model_config.pet_config` section as a checked object."""
import re

from mindspore.common import dtype as mstype

from mindformers.tools.dtype import convert_mstype
from mindformers.pet.constants import PetType
from mindformers.tools.errors import ConfigError


class PetConfig:
    """Base of every PET config: `pet_type` plus the method's own fields as attributes."""

    def __init__(self, pet_type=None, **kwargs):
        self.pet_type = pet_type
        for key, value in kwargs.items():
            setattr(self, key, value)

    def to_dict(self):
        out = {}
        for key, value in self.__dict__.items():
            if key.startswith('_'):
                continue
            out[key] = str(value).lower() if isinstance(value, mstype.Type) else value  # ms.float16 -> 'float16'
        return out

    def __repr__(self):
        return f"{self.__class__.__name__}({self.to_dict()})"


def _check_patterns(name, value, regex=True):
    """`value` is None, a string or a list of strings; with `regex`, each must compile as a regular expression."""
    if value is None:
        return
    patterns = [value] if isinstance(value, str) else value
    if not isinstance(patterns, (list, tuple)) or not all(isinstance(p, str) for p in patterns):
        raise ConfigError(f"pet_config.{name} must be a string or a list of strings, got {value!r}")
    for pattern in patterns if regex else ():
        try:
            re.compile(pattern)
        except re.error as err:
            raise ConfigError(f"pet_config.{name}: '{pattern}' is not a valid regular expression ({err})") from None


class LoraConfig(PetConfig):
    """LoRA: W x + (alpha / rank) * B A dropout(x) on the Linears whose attribute name matches `target_modules`.

    `lora_a_init` / `lora_b_init` are kept for YAML compatibility but, as upstream, not used: A starts
    HeUniform and B starts at zero, so the adapted model begins exactly as the base model.
    """

    def __init__(self, lora_rank=8, lora_alpha=16, lora_dropout=0.01, lora_a_init='normal', lora_b_init='zero',
                 param_init_type='float16', compute_dtype='float16', target_modules=None, exclude_layers=None,
                 freeze_include=None, freeze_exclude=None, pet_type=PetType.LORA.value, **kwargs):
        if getattr(pet_type, 'value', pet_type) != PetType.LORA.value:
            raise ConfigError(f"LoraConfig: pet_type is '{pet_type}'; a LoraConfig always has pet_type 'lora'")
        super().__init__(pet_type=PetType.LORA.value, **kwargs)
        if not isinstance(lora_rank, int) or isinstance(lora_rank, bool) or lora_rank <= 0:
            raise ConfigError(f"pet_config.lora_rank must be a positive integer, got {lora_rank!r}")
        if not isinstance(lora_alpha, (int, float)) or isinstance(lora_alpha, bool):
            raise ConfigError(f"pet_config.lora_alpha must be a number, got {lora_alpha!r}")
        if not isinstance(lora_dropout, (int, float)) or not 0.0 <= lora_dropout < 1.0:
            raise ConfigError(f"pet_config.lora_dropout must be in [0, 1), got {lora_dropout!r}")
        _check_patterns('target_modules', target_modules)
        _check_patterns('exclude_layers', exclude_layers)
        _check_patterns('freeze_include', freeze_include, regex=False)  # fnmatch patterns, e.g. '*norm*'
        _check_patterns('freeze_exclude', freeze_exclude, regex=False)
        if isinstance(target_modules, (list, tuple)):
            target_modules = '|'.join(target_modules)
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha
        self.lora_dropout = float(lora_dropout)
        self.lora_a_init = lora_a_init
        self.lora_b_init = lora_b_init
        self.param_init_type = convert_mstype(param_init_type)
        self.compute_dtype = convert_mstype(compute_dtype)
        self.target_modules = target_modules
        self.exclude_layers = exclude_layers
        self.freeze_include = freeze_include
        self.freeze_exclude = freeze_exclude


def check_prefix_fields(pre_seq_len, projection_dim, dropout_prob):
    """One-line errors for the fields every prefix method (P-Tuning v2, prefix tuning) shares."""
    for name, value in (('pre_seq_len', pre_seq_len), ('projection_dim', projection_dim)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"pet_config.{name} must be a positive integer, got {value!r}")
    if not isinstance(dropout_prob, (int, float)) or not 0.0 <= dropout_prob < 1.0:
        raise ConfigError(f"pet_config.dropout_prob must be in [0, 1), got {dropout_prob!r}")


class Ptuning2Config(PetConfig):
    """P-Tuning v2: `pre_seq_len` trainable key/value vectors per layer that every token attends to, before its
    own; with `prefix_projection` they come from an embedding through a tanh MLP of `projection_dim` (upstream's
    fields); `dropout_prob` on the prefix while training. Everything else is frozen."""

    def __init__(self, pre_seq_len=128, prefix_projection=False, projection_dim=128, dropout_prob=0.01,
                 pet_type=PetType.P_TUNING_V2.value, **kwargs):
        if getattr(pet_type, 'value', pet_type) != PetType.P_TUNING_V2.value:
            raise ConfigError(f"Ptuning2Config: pet_type is '{pet_type}'; a Ptuning2Config always has pet_type "
                              f"'ptuning2'")
        super().__init__(pet_type=PetType.P_TUNING_V2.value, **kwargs)
        check_prefix_fields(pre_seq_len, projection_dim, dropout_prob)
        self.pre_seq_len = pre_seq_len
        self.prefix_projection = bool(prefix_projection)
        self.projection_dim = projection_dim
        self.dropout_prob = float(dropout_prob)
