"""LlamaConfig: LLaMA / LLaMA-2 hyperparameters with upstream field names and defaults."""
from mindformers.models.base_config import BaseConfig
from mindformers.tools.dtype import convert_mstype
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class LlamaConfig(BaseConfig):
    """Sizes, dtypes and generation defaults of a LLaMA model.

    `intermediate_size` wins when given; otherwise the FFN width is derived from hidden_size,
    `ffn_dim_multiplier` and `multiple_of` as in the LLaMA paper's code.
    """
    _support_list = ['llama_7b', 'llama_13b', 'llama_65b', 'llama_7b_lora', 'llama2_7b', 'llama2_13b', 'llama2_70b']

    def __init__(self, batch_size=1, seq_length=2048, hidden_size=4096, num_layers=32, num_heads=32,
                 n_kv_heads=None, max_position_embedding=None, intermediate_size=None, vocab_size=32000,
                 multiple_of=256, ffn_dim_multiplier=None, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2,
                 pad_token_id=0, ignore_token_id=-100, theta=10000.0, compute_dtype='float16',
                 layernorm_compute_type='float32', softmax_compute_type='float32', rotary_dtype='float32',
                 param_init_type='float16', embedding_init_type=None, qkv_has_bias=False, qkv_concat=False,
                 use_past=False, extend_method='None', scaling_factor=1.0, use_flash_attention=False,
                 use_paged_attention=False, offset=0, checkpoint_name_or_path='', repetition_penalty=1.0,
                 max_decode_length=1024, top_k=5, top_p=1.0, do_sample=True, tie_word_embeddings=False,
                 block_size=16, num_blocks=512, parallel_config=None, moe_config=None, **kwargs):
        super().__init__(**kwargs)
        self.batch_size = batch_size
        self.seq_length = seq_length
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.n_kv_heads = n_kv_heads
        self.max_position_embedding = max_position_embedding or seq_length
        self.intermediate_size = intermediate_size
        self.vocab_size = vocab_size
        self.multiple_of = multiple_of
        self.ffn_dim_multiplier = ffn_dim_multiplier
        self.rms_norm_eps = rms_norm_eps
        self.bos_token_id = bos_token_id
        self.eos_token_id = eos_token_id
        self.pad_token_id = pad_token_id
        self.ignore_token_id = ignore_token_id
        self.theta = theta
        self.compute_dtype = compute_dtype
        self.layernorm_compute_type = layernorm_compute_type
        self.softmax_compute_type = softmax_compute_type
        self.rotary_dtype = rotary_dtype
        self.param_init_type = param_init_type
        self.embedding_init_type = embedding_init_type or param_init_type
        self.qkv_has_bias = qkv_has_bias
        self.qkv_concat = qkv_concat
        self.use_past = use_past
        self.extend_method = extend_method
        self.scaling_factor = scaling_factor
        self.use_flash_attention = use_flash_attention
        self.use_paged_attention = use_paged_attention
        self.offset = offset
        self.checkpoint_name_or_path = checkpoint_name_or_path
        self.repetition_penalty = repetition_penalty
        self.max_decode_length = max_decode_length
        self.top_k = top_k
        self.top_p = top_p
        self.do_sample = do_sample
        self.tie_word_embeddings = tie_word_embeddings
        self.block_size = block_size
        self.num_blocks = num_blocks
        self.parallel_config = parallel_config
        self.moe_config = moe_config
        self.validate()

    def validate(self):
        """Check sizes and dtype names without allocating anything."""
        for name in ('seq_length', 'hidden_size', 'num_layers', 'num_heads', 'vocab_size'):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"LlamaConfig.{name} must be a positive integer, got {value!r}")
        for name in ('n_kv_heads', 'intermediate_size'):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
                raise ConfigError(f"LlamaConfig.{name} must be a positive integer or null, got {value!r}")
        if self.intermediate_size is None:
            if not isinstance(self.multiple_of, int) or isinstance(self.multiple_of, bool) or self.multiple_of <= 0:
                raise ConfigError(f"LlamaConfig.multiple_of must be a positive integer, got {self.multiple_of!r}")
            if self.ffn_dim_multiplier is not None and (
                    not isinstance(self.ffn_dim_multiplier, (int, float)) or isinstance(self.ffn_dim_multiplier, bool)
                    or self.ffn_dim_multiplier <= 0):
                raise ConfigError(f"LlamaConfig.ffn_dim_multiplier must be a positive number or null, got "
                                  f"{self.ffn_dim_multiplier!r}")
        if self.hidden_size % self.num_heads:
            raise ConfigError(f"LlamaConfig: hidden_size {self.hidden_size} is not divisible by num_heads "
                              f"{self.num_heads}")
        kv_heads = self.n_kv_heads or self.num_heads
        if self.num_heads % kv_heads:
            raise ConfigError(f"LlamaConfig: num_heads {self.num_heads} is not divisible by n_kv_heads {kv_heads}")
        if (self.hidden_size // self.num_heads) % 2:
            raise ConfigError(f"LlamaConfig: head dim {self.hidden_size // self.num_heads} must be even for RoPE")
        for name in ('compute_dtype', 'layernorm_compute_type', 'softmax_compute_type', 'rotary_dtype',
                     'param_init_type', 'embedding_init_type'):
            convert_mstype(getattr(self, name))

    @property
    def ffn_hidden_size(self):
        if self.intermediate_size:
            return self.intermediate_size
        # MindFormers' order (multiplier + 0.01 first, then 2/3): gives the released 70B width 28672
        # with multiple_of 256, as upstream's YAMLs ship it
        hidden = 4 * self.hidden_size
        if self.ffn_dim_multiplier is not None:
            hidden = int((self.ffn_dim_multiplier + 0.01) * hidden)
        hidden = int(2 * hidden / 3)
        return self.multiple_of * ((hidden + self.multiple_of - 1) // self.multiple_of)

    def num_parameters(self):
        """Parameter count computed from the sizes (no allocation)."""
        head_dim = self.hidden_size // self.num_heads
        kv_dim = (self.n_kv_heads or self.num_heads) * head_dim
        attn = self.hidden_size * (2 * self.hidden_size + 2 * kv_dim)
        if self.qkv_has_bias:
            attn += self.hidden_size + 2 * kv_dim
        ffn = 3 * self.hidden_size * self.ffn_hidden_size
        per_layer = attn + ffn + 2 * self.hidden_size
        embed = self.vocab_size * self.hidden_size
        head = 0 if self.tie_word_embeddings else embed
        return embed + self.num_layers * per_layer + self.hidden_size + head
