"""BloomConfig: BLOOM hyperparameters with upstream field names and defaults."""
from mindformers.models.base_config import BaseConfig, check_rates
from mindformers.tools.dtype import convert_mstype
from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class BloomConfig(BaseConfig):
    """Sizes, dropouts, dtypes and generation defaults of a BLOOM model (ALiBi positions, no position table).

    `embedding_size` is accepted as the hidden size: upstream's 65B/176B YAMLs spell it so. As upstream, a
    `batch_size` of None turns `use_past` off (the KV cache needs a fixed batch).
    """
    _support_list = ['bloom_560m', 'bloom_7.1b', 'bloom_65b', 'bloom_176b', 'bloom_tiny']

    def __init__(self, embedding_dropout_prob=0.0, batch_size=None, seq_length=1024, vocab_size=250880,
                 hidden_size=64, num_layers=2, num_heads=8, expand_ratio=4, hidden_dropout_rate=0.1,
                 attention_dropout_rate=0.1, unk_token_id=0, bos_token_id=1, eos_token_id=2, pad_token_id=3,
                 param_init_type='float32', embedding_init_type='float32', layernorm_compute_type='float32',
                 softmax_compute_type='float32', compute_dtype='float16', hidden_act='gelu', parallel_config=None,
                 checkpoint_name_or_path='', moe_config=None, use_past=False, use_seq_parallel=False,
                 use_select_recompute=False, repetition_penalty=1, max_decode_length=1024, top_k=5, top_p=1,
                 do_sample=True, is_sample_acceleration=False, layer_norm_epsilon=1e-5, ignore_token_id=-100,
                 initializer_range=0.02, use_flash_attention=False, **kwargs):
        embedding_size = kwargs.pop('embedding_size', None)
        super().__init__(**kwargs)
        self.embedding_dropout_prob = embedding_dropout_prob
        self.batch_size = batch_size
        self.seq_length = seq_length
        self.vocab_size = vocab_size
        self.hidden_size = embedding_size if embedding_size is not None else hidden_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.expand_ratio = expand_ratio
        self.hidden_dropout_rate = hidden_dropout_rate
        self.attention_dropout_rate = attention_dropout_rate
        self.unk_token_id = unk_token_id
        self.bos_token_id = bos_token_id
        self.eos_token_id = eos_token_id
        self.pad_token_id = pad_token_id
        self.param_init_type = param_init_type
        self.embedding_init_type = embedding_init_type
        self.layernorm_compute_type = layernorm_compute_type
        self.softmax_compute_type = softmax_compute_type
        self.compute_dtype = compute_dtype
        self.hidden_act = hidden_act
        self.parallel_config = parallel_config
        self.checkpoint_name_or_path = checkpoint_name_or_path
        self.moe_config = moe_config
        self.use_past = use_past
        self.use_seq_parallel = use_seq_parallel
        self.use_select_recompute = use_select_recompute
        self.repetition_penalty = repetition_penalty
        self.max_decode_length = max_decode_length
        self.top_k = top_k
        self.top_p = top_p
        self.do_sample = do_sample
        self.is_sample_acceleration = is_sample_acceleration
        self.layer_norm_epsilon = layer_norm_epsilon
        self.ignore_token_id = ignore_token_id
        self.initializer_range = initializer_range
        self.use_flash_attention = use_flash_attention
        if self.batch_size is None and (self.use_past or self.is_sample_acceleration):
            logger.warning("BloomConfig: batch_size is None, so use_past is turned off (the KV cache needs a fixed "
                           "batch; set model_config.batch_size)")
            self.use_past = False
            self.is_sample_acceleration = False
        self.validate()

    def validate(self):
        """Check sizes, rates and dtype names without allocating anything."""
        for name in ('seq_length', 'vocab_size', 'hidden_size', 'num_layers', 'num_heads', 'expand_ratio'):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"BloomConfig.{name} must be a positive integer, got {value!r}")
        if self.hidden_size % self.num_heads:
            raise ConfigError(f"BloomConfig: hidden_size {self.hidden_size} is not divisible by num_heads "
                              f"{self.num_heads}")
        check_rates(self, ('embedding_dropout_prob', 'hidden_dropout_rate', 'attention_dropout_rate'))
        for name in ('compute_dtype', 'layernorm_compute_type', 'softmax_compute_type', 'param_init_type',
                     'embedding_init_type'):
            convert_mstype(getattr(self, name))

    @property
    def ffn_hidden_size(self):
        return self.hidden_size * self.expand_ratio

    def num_parameters(self):
        """Parameter count computed from the sizes (no allocation); the head is tied to the embeddings."""
        hidden, ffn = self.hidden_size, self.ffn_hidden_size
        per_layer = 4 * hidden * hidden + 4 * hidden + 2 * hidden * ffn + ffn + hidden + 4 * hidden
        return self.vocab_size * hidden + 2 * hidden + self.num_layers * per_layer + 2 * hidden
