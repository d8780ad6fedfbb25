"""T5Config: T5 hyperparameters with upstream MindFormers field names and defaults."""
from mindformers.models.base_config import BaseConfig, check_rates
from mindformers.modules.activation import get_activation
from mindformers.tools.dtype import convert_mstype
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

# the names of the upstream book a T5 config / model answers to
T5_NAMES = ['t5_small', 't5_tiny']
_DTYPE_FIELDS = ('compute_dtype', 'param_init_type', 'layernorm_compute_type', 'softmax_compute_type')


def _check_int(name, value, minimum=1):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"T5Config.{name} must be an integer >= {minimum}, got {value!r}")


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class T5Config(BaseConfig):
    """Sizes, dropouts, dtypes and generation defaults of a T5 encoder-decoder.

    As upstream: `hidden_size` is the model width (Hugging Face's d_model), `d_kv` the width of one head (so
    num_heads * d_kv may differ from hidden_size), `seq_length` the encoder (source) length and
    `max_decode_length` the decoder (target) length; the decoder starts from `start_token_id` (0, the pad id);
    `scale_output` multiplies the decoder output by hidden_size^-0.5 before the tied head.

    Beyond upstream: `num_hidden_layers` (the key upstream's tiny YAML writes) sets `num_layers` when that is not
    given (upstream silently kept 6 layers); `relative_attention_max_distance` (128) and `tie_word_embeddings`
    (True; False gives a separate `lm_head` and no output scaling, as T5 v1.1 checkpoints) are Hugging Face's
    fields; `ignore_token_id` (-100) labels are masked out of the loss as pad labels are; `is_gated_act` (Hugging
    Face's) gives the gated MLP of T5 v1.1 / Flan-T5, wo(act(wi_0 x) * wi_1 x), with `hidden_act` on the gate.
    """
    _support_list = T5_NAMES

    def __init__(self, vocab_size=32128, hidden_size=512, d_kv=64, d_ff=2048, num_layers=None, num_decoder_layers=None,
                 num_heads=8, relative_attention_num_buckets=32, hidden_dropout_rate=0.1, attention_dropout_rate=0.1,
                 embedding_dropout_prob=0.1, layer_norm_epsilon=1e-6, initializer_factor=1.0, is_encoder_decoder=True,
                 use_cache=True, pad_token_id=0, start_token_id=0, eos_token_id=1, batch_size=1, seq_length=1024,
                 max_position_embeddings=1024, initializer_range=0.02, max_decode_length=128,
                 length_penalty_weight=1.0, compute_dtype='float32', has_relative_bias=True, scale_output=True,
                 parallel_config=None, checkpoint_name_or_path=None, top_p=0.95, top_k=1, repetition_penalty=1.0,
                 max_length=20, do_sample=False, param_init_type='float32', layernorm_compute_type='float32',
                 softmax_compute_type='float32', hidden_act='relu', post_layernorm_residual=False, offset=0,
                 use_past=False, moe_config=None, relative_attention_max_distance=128, tie_word_embeddings=True,
                 ignore_token_id=-100, is_gated_act=False, **kwargs):
        num_hidden_layers = kwargs.pop('num_hidden_layers', None)
        if num_layers is None:
            num_layers = 6 if num_hidden_layers is None else num_hidden_layers
        elif num_hidden_layers is not None and num_hidden_layers != num_layers:
            raise ConfigError(f"T5Config: num_layers {num_layers} and num_hidden_layers {num_hidden_layers} disagree; "
                              f"set one of them")
        kwargs.pop('kv_size', None)   # upstream's stored name of d_kv (written back by to_dict)
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.d_kv = d_kv
        self.d_ff = d_ff
        self.num_layers = num_layers
        self.num_decoder_layers = num_layers if num_decoder_layers is None else num_decoder_layers
        self.num_heads = num_heads
        self.relative_attention_num_buckets = relative_attention_num_buckets
        self.relative_attention_max_distance = relative_attention_max_distance
        self.hidden_dropout_rate = hidden_dropout_rate
        self.attention_dropout_rate = attention_dropout_rate
        self.embedding_dropout_prob = embedding_dropout_prob
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_factor = initializer_factor
        self.is_encoder_decoder = is_encoder_decoder
        self.use_cache = use_cache
        self.pad_token_id = pad_token_id
        self.start_token_id = start_token_id
        self.eos_token_id = eos_token_id
        self.batch_size = batch_size
        self.seq_length = seq_length
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range = initializer_range
        self.max_decode_length = max_decode_length
        self.length_penalty_weight = length_penalty_weight
        self.compute_dtype = compute_dtype
        self.has_relative_bias = has_relative_bias
        self.scale_output = scale_output
        self.parallel_config = None if parallel_config == 'default' else parallel_config
        self.checkpoint_name_or_path = checkpoint_name_or_path
        self.top_p = top_p
        self.top_k = top_k
        self.repetition_penalty = repetition_penalty
        self.max_length = max_length
        self.do_sample = do_sample
        self.param_init_type = param_init_type
        self.layernorm_compute_type = layernorm_compute_type
        self.softmax_compute_type = softmax_compute_type
        self.hidden_act = hidden_act
        self.post_layernorm_residual = post_layernorm_residual
        self.offset = offset
        self.use_past = use_past
        self.moe_config = None if moe_config == 'default' else moe_config
        self.tie_word_embeddings = tie_word_embeddings
        self.ignore_token_id = ignore_token_id
        self.is_gated_act = is_gated_act
        self.validate()

    @property
    def kv_size(self):
        """Upstream's attribute name for d_kv."""
        return self.d_kv

    @property
    def decoder_start_token_id(self):
        """The first decoder token (Hugging Face's name for start_token_id)."""
        return self.start_token_id

    def validate(self):
        """Check sizes, rates, dtypes and the activation without allocating anything."""
        for name in ('vocab_size', 'hidden_size', 'd_kv', 'd_ff', 'num_layers', 'num_decoder_layers', 'num_heads',
                     'relative_attention_num_buckets', 'relative_attention_max_distance', 'batch_size', 'seq_length',
                     'max_decode_length'):
            _check_int(name, getattr(self, name))
        if self.relative_attention_num_buckets % 2 or self.relative_attention_num_buckets < 4:
            raise ConfigError(f"T5Config.relative_attention_num_buckets must be an even number >= 4, got "
                              f"{self.relative_attention_num_buckets}")
        for name in ('pad_token_id', 'start_token_id', 'eos_token_id'):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < self.vocab_size:
                raise ConfigError(f"T5Config.{name} must be a token id in 0..{self.vocab_size - 1}, got {value!r}")
        check_rates(self, ('hidden_dropout_rate', 'attention_dropout_rate', 'embedding_dropout_prob'))
        if self.post_layernorm_residual:
            raise ConfigError("T5Config.post_layernorm_residual: True is not T5 (its norms come before each "
                              "sub-layer); remove it")
        if not self.has_relative_bias:
            raise ConfigError("T5Config.has_relative_bias: False leaves T5 without positions; T5 here always "
                              "learns relative position buckets")
        get_activation(self.hidden_act)
        for name in _DTYPE_FIELDS:
            convert_mstype(getattr(self, name))

    def num_parameters(self):
        """Parameter count computed from the sizes (no allocation)."""
        hidden, inner = self.hidden_size, self.num_heads * self.d_kv
        attention, mlp = 4 * hidden * inner, (3 if self.is_gated_act else 2) * hidden * self.d_ff
        stacks = 2 * (self.relative_attention_num_buckets * self.num_heads + hidden)
        encoder = self.num_layers * (attention + mlp + 2 * hidden)
        decoder = self.num_decoder_layers * (2 * attention + mlp + 3 * hidden)
        head = 0 if self.tie_word_embeddings else self.vocab_size * hidden
        return self.vocab_size * hidden + stacks + encoder + decoder + head

    def to_dict(self):
        out = super().to_dict()
        out.pop('num_hidden_layers', None)
        return out
