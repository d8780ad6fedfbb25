"""GLMConfig: GLM-6B (ChatGLM-6B) hyperparameters with upstream field names and defaults."""
from mindformers.models.base_config import BaseConfig
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['GLMConfig']


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class GLMConfig(BaseConfig):
    """Sizes, dtypes, GLM token ids and generation defaults of a GLM-6B model.

    The architecture: 2D rotary positions (each head's first half rotated by the position id, the second by the
    block position id), a prefix-LM mask (bidirectional over the prompt up to `<sop>`, causal after), DeepNorm
    residuals (the normed input times sqrt(2 * num_layers)), a GELU MLP of `inner_hidden_size`, LayerNorms and an
    untied output layer. Training records hold `max_source_length + max_target_length + 1` ids (at most
    `seq_length`) with labels shifted by the dataset (KeyWordGenDataset version 1).
    """
    _support_list = ['glm_6b', 'glm_6b_chat', 'glm_6b_lora', 'glm_6b_lora_chat', 'glm_tiny', 'glm_tiny_chat',
                     'glm_tiny_lora', 'glm_tiny_lora_chat']
    model_type = 'glm'

    def __init__(self, batch_size=1, vocab_size=130528, hidden_size=4096, num_layers=28, num_heads=32,
                 inner_hidden_size=16384, seq_length=512, embedding_dropout_prob=0.0, attention_dropout_rate=0.0,
                 hidden_dropout_rate=0.0, hidden_size_per_attention_head=None, layernorm_order='post',
                 layernorm_epsilon=1.0e-5, use_final_layernorm=True, op_parallel_config=None,
                 embed_parallel_config=None, parallel_config=None, moe_config=None, use_past=False,
                 activation_func='GELU', position_encoding_2d=True, param_init_type='float16',
                 layernorm_compute_type='float32', softmax_compute_type='float32', compute_dtype='float16',
                 bos_token_id=130004, eos_token_id=130005, mask_token_id=130000, gmask_token_id=130001,
                 pad_token_id=3, ignore_token_id=-100, is_enhanced_encoder=True, is_sample_acceleration=False,
                 is_npu_acceleration=False, checkpoint_name_or_path='', max_decode_length=2048, top_k=1, top_p=1,
                 repetition_penalty=1.0, do_sample=True, **kwargs):
        super().__init__(**kwargs)
        self.batch_size = batch_size
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.n_kv_heads = None
        self.inner_hidden_size = inner_hidden_size
        self.seq_length = seq_length
        self.embedding_dropout_prob = embedding_dropout_prob
        self.attention_dropout_rate = attention_dropout_rate
        self.hidden_dropout_rate = hidden_dropout_rate
        self.hidden_size_per_attention_head = hidden_size_per_attention_head
        self.layernorm_order = layernorm_order
        self.layernorm_epsilon = layernorm_epsilon
        self.use_final_layernorm = use_final_layernorm
        self.op_parallel_config = op_parallel_config
        self.embed_parallel_config = embed_parallel_config
        self.parallel_config = parallel_config
        self.moe_config = moe_config
        self.use_past = use_past
        self.activation_func = activation_func
        self.position_encoding_2d = position_encoding_2d
        self.param_init_type = param_init_type
        self.layernorm_compute_type = layernorm_compute_type
        self.softmax_compute_type = softmax_compute_type
        self.compute_dtype = compute_dtype
        self.bos_token_id = bos_token_id
        self.eos_token_id = eos_token_id
        self.mask_token_id = mask_token_id
        self.gmask_token_id = gmask_token_id
        self.pad_token_id = pad_token_id
        self.ignore_token_id = ignore_token_id
        self.is_enhanced_encoder = is_enhanced_encoder
        self.is_sample_acceleration = is_sample_acceleration
        self.is_npu_acceleration = is_npu_acceleration
        self.checkpoint_name_or_path = checkpoint_name_or_path
        self.max_decode_length = max_decode_length
        self.top_k = top_k
        self.top_p = top_p
        self.repetition_penalty = repetition_penalty
        self.do_sample = do_sample
        self.tie_word_embeddings = False
        self.validate()

    @property
    def ffn_hidden_size(self):
        """The MLP width under the name the other families use."""
        return self.inner_hidden_size

    @property
    def head_dim(self):
        return self.hidden_size // self.num_heads

    def num_parameters(self):
        """Parameter count computed from the sizes (no allocation): embeddings, untied head, biased projections."""
        hidden, inner = self.hidden_size, self.inner_hidden_size
        layer = (4 * hidden * hidden + 4 * hidden) + (2 * hidden * inner + inner + hidden) + 4 * hidden
        final_norm = 2 * hidden if self.use_final_layernorm else 0
        return 2 * self.vocab_size * hidden + self.num_layers * layer + final_norm

    def validate(self):
        """Check sizes and the settings this implementation has, without allocating anything."""
        for name in ('vocab_size', 'hidden_size', 'num_layers', 'num_heads', 'inner_hidden_size', 'seq_length',
                     'batch_size'):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"GLMConfig.{name} must be a positive integer, got {value!r}")
        if self.hidden_size % self.num_heads:
            raise ConfigError(f"GLMConfig: hidden_size {self.hidden_size} is not divisible by num_heads "
                              f"{self.num_heads}")
        if self.hidden_size_per_attention_head not in (None, self.head_dim):
            raise ConfigError(f"GLMConfig: hidden_size_per_attention_head {self.hidden_size_per_attention_head} "
                              f"other than hidden_size / num_heads ({self.head_dim}) is not implemented; leave it "
                              f"empty")
        if self.position_encoding_2d and self.head_dim % 4:
            raise ConfigError(f"GLMConfig: the head size {self.head_dim} must be a multiple of 4 (2D rotary rotates "
                              f"each half of a head in the rotate-half layout)")
        if not self.position_encoding_2d:
            raise ConfigError("GLMConfig: position_encoding_2d False (1D rotary) is not implemented; every released "
                              "GLM-6B uses True")
        if self.layernorm_order != 'post':
            raise ConfigError(f"GLMConfig: layernorm_order {self.layernorm_order!r} is not implemented; GLM-6B "
                              f"uses 'post' (DeepNorm residuals)")
        if str(self.activation_func).upper() != 'GELU':
            raise ConfigError(f"GLMConfig: activation_func {self.activation_func!r} is not implemented; GLM-6B "
                              f"uses 'GELU'")
