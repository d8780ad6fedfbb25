"""GPT2Config: GPT-2 hyperparameters with upstream field names and defaults."""
from mindformers.models.base_config import BaseConfig, check_rates
from mindformers.tools.dtype import convert_mstype
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


def _positive_int(owner, name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{owner}.{name} must be a positive integer, got {value!r}")


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class GPT2Config(BaseConfig):
    """Sizes, dropouts, dtypes and generation defaults of a GPT-2 model.

    `hidden_act: gelu` is the tanh-approximated GELU (MindSpore's default, what GPT-2 was trained with);
    `max_position_embeddings` (learned positions) defaults to `seq_length`.
    """
    _support_list = ['gpt2', 'gpt2_lora', 'gpt2_xl', 'gpt2_xl_lora', 'gpt2_13b', 'gpt2_52b', 'gpt2_tiny']

    def __init__(self, batch_size=1, eos_token_id=50256, pad_token_id=50256, bos_token_id=50256,
                 unk_token_id=50256, seq_length=1024, vocab_size=50257, hidden_size=768, num_layers=12,
                 num_heads=12, num_labels=2, expand_ratio=4, embedding_dropout_prob=0.1, hidden_dropout_rate=0.1,
                 attention_dropout_rate=0.1, param_init_type='float32', layernorm_compute_type='float32',
                 softmax_compute_type='float32', compute_dtype='float16', hidden_act='gelu', use_past=False,
                 post_layernorm_residual=False, offset=0, parallel_config=None, checkpoint_name_or_path='',
                 moe_config=None, repetition_penalty=1.0, max_decode_length=1024, top_k=5, top_p=1.0,
                 do_sample=True, max_position_embeddings=None, layer_norm_epsilon=1e-5, ignore_token_id=-100,
                 use_flash_attention=False, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.batch_size = batch_size
        self.eos_token_id = eos_token_id
        self.pad_token_id = pad_token_id
        self.bos_token_id = bos_token_id
        self.unk_token_id = unk_token_id
        self.seq_length = seq_length
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.num_labels = num_labels
        self.expand_ratio = expand_ratio
        self.embedding_dropout_prob = embedding_dropout_prob
        self.hidden_dropout_rate = hidden_dropout_rate
        self.attention_dropout_rate = attention_dropout_rate
        self.param_init_type = param_init_type
        self.layernorm_compute_type = layernorm_compute_type
        self.softmax_compute_type = softmax_compute_type
        self.compute_dtype = compute_dtype
        self.hidden_act = hidden_act
        self.use_past = use_past
        self.post_layernorm_residual = post_layernorm_residual
        self.offset = offset
        self.parallel_config = parallel_config
        self.checkpoint_name_or_path = checkpoint_name_or_path
        self.moe_config = moe_config
        self.repetition_penalty = repetition_penalty
        self.max_decode_length = max_decode_length
        self.top_k = top_k
        self.top_p = top_p
        self.do_sample = do_sample
        self.max_position_embeddings = max_position_embeddings or seq_length
        self.layer_norm_epsilon = layer_norm_epsilon
        self.ignore_token_id = ignore_token_id
        self.use_flash_attention = use_flash_attention
        self.initializer_range = initializer_range
        self.validate()

    def validate(self):
        """Check sizes, rates and dtype names without allocating anything."""
        for name in ('seq_length', 'vocab_size', 'hidden_size', 'num_layers', 'num_heads', 'expand_ratio',
                     'num_labels', 'max_position_embeddings'):
            _positive_int('GPT2Config', name, getattr(self, name))
        if self.hidden_size % self.num_heads:
            raise ConfigError(f"GPT2Config: hidden_size {self.hidden_size} is not divisible by num_heads "
                              f"{self.num_heads}")
        if self.seq_length > self.max_position_embeddings:
            raise ConfigError(f"GPT2Config: seq_length {self.seq_length} is larger than max_position_embeddings "
                              f"{self.max_position_embeddings} (GPT-2 learns one embedding per position); lower "
                              f"seq_length or raise max_position_embeddings")
        check_rates(self, ('embedding_dropout_prob', 'hidden_dropout_rate', 'attention_dropout_rate'))
        if self.post_layernorm_residual:
            raise ConfigError("GPT2Config.post_layernorm_residual: True is not supported; GPT-2 is pre-norm")
        for name in ('compute_dtype', 'layernorm_compute_type', 'softmax_compute_type', 'param_init_type'):
            convert_mstype(getattr(self, name))

    @property
    def ffn_hidden_size(self):
        return self.hidden_size * self.expand_ratio

    def num_parameters(self):
        """Parameter count computed from the sizes (no allocation); the head is tied to the embeddings."""
        hidden = self.hidden_size
        per_layer = 4 * hidden * hidden + 4 * hidden + 2 * hidden * self.ffn_hidden_size + self.ffn_hidden_size \
            + hidden + 4 * hidden
        return (self.vocab_size + self.max_position_embeddings) * hidden + self.num_layers * per_layer + 2 * hidden
