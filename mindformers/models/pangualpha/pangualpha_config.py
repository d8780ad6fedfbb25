"""PanguAlphaConfig: PanGu-Alpha hyperparameters with upstream field names and defaults."""
from mindformers.models.base_config import BaseConfig
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['PanguAlphaConfig']


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class PanguAlphaConfig(BaseConfig):
    """Sizes, dtypes and generation defaults of a PanGu-Alpha model.

    The architecture: token + learned position embeddings, `num_layers - 1` pre-LayerNorm blocks (MHA with biases,
    `hidden_act` MLP of `ffn_hidden_size`), a LayerNorm, then the "top query" layer (a block whose queries are a
    second learned position embedding), and an output layer tied to the token embeddings. Training records hold
    `seq_length + 1` ids; the loss skips inputs equal to `pad_token_id`. `num_labels` is the number of candidate
    prompts per example for PanguAlphaPromptTextClassificationModel.
    """
    _support_list = ['pangualpha_2_6b', 'pangualpha_13b', 'pangualpha_tiny']
    model_type = 'pangualpha'

    def __init__(self, batch_size=1, seq_length=1024, vocab_size=40000, hidden_size=2560, ffn_hidden_size=2560 * 4,
                 num_layers=32, num_heads=32, pad_token_id=6, eos_token_id=8, post_layernorm_residual=False,
                 param_init_type='float32', compute_dtype='float16', softmax_compute_type='float16',
                 layernorm_compute_type='float32', embedding_dropout_prob=0.1, hidden_dropout_rate=0.1,
                 attention_dropout_rate=0.1, hidden_act='fast_gelu', use_past=False, parallel_config=None,
                 moe_config=None, use_moe=False, expert_num=1, per_token_num_experts_chosen=1,
                 checkpoint_name_or_path='', repetition_penalty=1.0, max_decode_length=1024, top_k=5, top_p=1.0,
                 do_sample=True, num_labels=None, eod_token_id=None, ignore_token_id=-100, **kwargs):
        super().__init__(**kwargs)
        self.batch_size = batch_size
        self.seq_length = seq_length
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.ffn_hidden_size = ffn_hidden_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.n_kv_heads = None
        self.pad_token_id = pad_token_id
        self.eos_token_id = eos_token_id
        self.eod_token_id = eod_token_id
        self.post_layernorm_residual = post_layernorm_residual
        self.param_init_type = param_init_type
        self.compute_dtype = compute_dtype
        self.softmax_compute_type = softmax_compute_type
        self.layernorm_compute_type = layernorm_compute_type
        self.embedding_dropout_prob = embedding_dropout_prob
        self.hidden_dropout_rate = hidden_dropout_rate
        self.attention_dropout_rate = attention_dropout_rate
        self.hidden_act = hidden_act
        self.use_past = use_past
        self.parallel_config = parallel_config
        self.moe_config = moe_config
        self.use_moe = bool(use_moe)
        self.expert_num = expert_num
        self.per_token_num_experts_chosen = per_token_num_experts_chosen
        self.checkpoint_name_or_path = checkpoint_name_or_path
        self.repetition_penalty = repetition_penalty
        self.max_decode_length = max_decode_length
        self.top_k = top_k
        self.top_p = top_p
        self.do_sample = do_sample
        self.num_labels = num_labels
        self.ignore_token_id = ignore_token_id
        self.tie_word_embeddings = True
        self.validate()

    def num_parameters(self):
        """Parameter count computed from the sizes (no allocation); the output layer is the token table."""
        hidden, ffn = self.hidden_size, self.ffn_hidden_size
        block = (4 * hidden * hidden + 4 * hidden) + (2 * hidden * ffn + ffn + hidden) + 4 * hidden
        embeddings = self.vocab_size * hidden + 2 * self.seq_length * hidden     # tokens, positions, top queries
        return embeddings + self.num_layers * block + 2 * hidden

    def validate(self):
        """Check sizes and the settings this implementation has, without allocating anything."""
        for name in ('vocab_size', 'hidden_size', 'ffn_hidden_size', 'num_layers', 'num_heads', 'seq_length',
                     'batch_size'):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"PanguAlphaConfig.{name} must be a positive integer, got {value!r}")
        if self.hidden_size % self.num_heads:
            raise ConfigError(f"PanguAlphaConfig: hidden_size {self.hidden_size} is not divisible by num_heads "
                              f"{self.num_heads}")
        if self.num_layers < 2:
            raise ConfigError(f"PanguAlphaConfig: num_layers {self.num_layers} must be >= 2 (num_layers - 1 blocks "
                              f"and the top query layer)")
        if self.post_layernorm_residual:
            raise ConfigError("PanguAlphaConfig: post_layernorm_residual True is not implemented; PanGu-Alpha uses "
                              "False (pre-LayerNorm residuals)")
        if self.use_moe and self.expert_num > 1:
            raise ConfigError("PanguAlphaConfig: use_moe with expert_num > 1 (mixture of experts) is not implemented")
        if self.num_labels is not None and (not isinstance(self.num_labels, int) or self.num_labels < 2):
            raise ConfigError(f"PanguAlphaConfig: num_labels must be an integer >= 2 (candidate prompts per "
                              f"example), got {self.num_labels!r}")
