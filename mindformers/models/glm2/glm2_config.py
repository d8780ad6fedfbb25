"""ChatGLM2Config: ChatGLM2-6B hyperparameters with upstream field names and defaults."""
from mindformers.models.base_config import BaseConfig
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class ChatGLM2Config(BaseConfig):
    """Sizes, attention layout, dtypes and generation defaults of a ChatGLM2 model.

    `kv_channels` is the head size (num_attention_heads * kv_channels must equal hidden_size); RoPE rotates its
    first half in neighbouring pairs. `multi_query_attention` with `multi_query_group_num` groups is grouped-query
    attention. Records are `seq_length` tokens with `labels` already shifted by the dataset (upstream's
    KeyWordGenDataset), so no extra token is needed.
    """
    _support_list = ['glm2_6b', 'glm2_tiny']
    model_type = 'glm2'

    def __init__(self, batch_size=1, num_layers=28, padded_vocab_size=65024, hidden_size=4096, ffn_hidden_size=13696,
                 kv_channels=128, num_attention_heads=32, seq_length=2048, hidden_dropout=0.0, attention_dropout=0.0,
                 layernorm_epsilon=1e-5, rope_ratio=1, rmsnorm=True, apply_residual_connection_post_layernorm=False,
                 post_layer_norm=True, add_bias_linear=False, add_qkv_bias=True, bias_dropout_fusion=True,
                 multi_query_attention=True, multi_query_group_num=2, apply_query_key_layer_scaling=True,
                 attention_softmax_in_fp32=True, fp32_residual_connection=False, quantization_bit=0,
                 pre_seq_len=None, prefix_projection=False, param_init_type='float16', compute_dtype='float16',
                 layernorm_compute_type='float32', use_past=False, use_flash_attention=False, eos_token_id=2,
                 pad_token_id=0, gmask_token_id=None, bos_token_id=None, ignore_token_id=-100,
                 repetition_penalty=1.0, max_decode_length=1024, top_k=1, top_p=1.0, do_sample=False,
                 checkpoint_name_or_path=None, parallel_config=None, offset=0, **kwargs):
        super().__init__(**kwargs)
        self.batch_size = batch_size
        self.num_layers = num_layers
        self.padded_vocab_size = padded_vocab_size
        self.vocab_size = padded_vocab_size
        self.hidden_size = hidden_size
        self.ffn_hidden_size = ffn_hidden_size
        self.kv_channels = kv_channels
        self.num_attention_heads = num_attention_heads
        self.num_heads = num_attention_heads
        self.seq_length = seq_length
        self.hidden_dropout = hidden_dropout
        self.attention_dropout = attention_dropout
        self.layernorm_epsilon = layernorm_epsilon
        self.rope_ratio = rope_ratio
        self.rmsnorm = rmsnorm
        self.apply_residual_connection_post_layernorm = apply_residual_connection_post_layernorm
        self.post_layer_norm = post_layer_norm
        self.add_bias_linear = add_bias_linear
        self.add_qkv_bias = add_qkv_bias
        self.bias_dropout_fusion = bias_dropout_fusion
        self.multi_query_attention = multi_query_attention
        self.multi_query_group_num = multi_query_group_num
        self.n_kv_heads = multi_query_group_num if multi_query_attention else None
        self.apply_query_key_layer_scaling = apply_query_key_layer_scaling
        self.attention_softmax_in_fp32 = attention_softmax_in_fp32
        self.fp32_residual_connection = fp32_residual_connection
        self.quantization_bit = quantization_bit
        self.pre_seq_len = pre_seq_len
        self.prefix_projection = prefix_projection
        self.param_init_type = param_init_type
        self.compute_dtype = compute_dtype
        self.layernorm_compute_type = layernorm_compute_type
        self.softmax_compute_type = 'float32' if attention_softmax_in_fp32 else compute_dtype
        self.use_past = use_past
        self.use_flash_attention = use_flash_attention
        self.eos_token_id = eos_token_id
        self.pad_token_id = pad_token_id
        self.gmask_token_id = gmask_token_id
        self.bos_token_id = bos_token_id
        self.ignore_token_id = ignore_token_id
        self.repetition_penalty = repetition_penalty
        self.max_decode_length = max_decode_length
        self.top_k = top_k
        self.top_p = top_p
        self.do_sample = do_sample
        self.checkpoint_name_or_path = checkpoint_name_or_path
        self.parallel_config = parallel_config
        self.offset = offset
        self.tie_word_embeddings = False
        self.validate()

    def num_parameters(self):
        """Parameter count computed from the sizes (no allocation); the output layer is untied."""
        hidden, ffn = self.hidden_size, self.ffn_hidden_size
        kv_dim = (self.n_kv_heads or self.num_heads) * self.kv_channels
        attention = hidden * (2 * hidden + 2 * kv_dim)
        if self.add_qkv_bias or self.add_bias_linear:
            attention += hidden + 2 * kv_dim
        mlp = 3 * hidden * ffn
        norms = (2 if self.rmsnorm else 4) * hidden
        if self.add_bias_linear:
            attention += hidden
            mlp += 2 * ffn + hidden
        final_norm = ((1 if self.rmsnorm else 2) * hidden) if self.post_layer_norm else 0
        return 2 * self.vocab_size * hidden + self.num_layers * (attention + mlp + norms) + final_norm

    def validate(self):
        """Check sizes and the head layout without allocating anything."""
        for name in ('num_layers', 'padded_vocab_size', 'hidden_size', 'ffn_hidden_size', 'kv_channels',
                     'num_attention_heads', 'seq_length', 'batch_size'):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"ChatGLM2Config.{name} must be a positive integer, got {value!r}")
        if self.num_attention_heads * self.kv_channels != self.hidden_size:
            raise ConfigError(f"ChatGLM2Config: num_attention_heads {self.num_attention_heads} x kv_channels "
                              f"{self.kv_channels} must equal hidden_size {self.hidden_size}")
        if self.kv_channels % 4:
            raise ConfigError(f"ChatGLM2Config: kv_channels {self.kv_channels} must be a multiple of 4 (RoPE "
                              f"rotates its first half in pairs)")
        if self.multi_query_attention:
            groups = self.multi_query_group_num
            if not isinstance(groups, int) or groups <= 0 or self.num_attention_heads % groups:
                raise ConfigError(f"ChatGLM2Config: multi_query_group_num {groups!r} must divide "
                                  f"num_attention_heads {self.num_attention_heads}")
        if self.apply_residual_connection_post_layernorm:
            raise ConfigError("ChatGLM2Config: apply_residual_connection_post_layernorm True (the residual taken "
                              "after the norm) is not implemented; every released ChatGLM2 uses False")
        if self.pre_seq_len is not None and (not isinstance(self.pre_seq_len, int) or self.pre_seq_len < 0):
            raise ConfigError(f"ChatGLM2Config: pre_seq_len must be null or a positive integer, got "
                              f"{self.pre_seq_len!r}")
