"""BertConfig: BERT hyperparameters with upstream MindFormers field names and defaults."""
from mindformers.models.base_config import BaseConfig, check_rates
from mindformers.tools.dtype import convert_mstype
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

# the names of the upstream book (mindformer_book.py) a BERT config / model answers to
BERT_NAMES = ['bert_base_uncased', 'bert_tiny_uncased']
TXTCLS_NAMES = ['txtcls_bert_base_uncased', 'txtcls_bert_base_uncased_mnli', 'mindspore/txtcls_bert_base_uncased_mnli',
                'txtcls_bert_tiny_uncased']
TOKCLS_NAMES = ['tokcls_bert_base_chinese', 'tokcls_bert_base_chinese_cluener',
                'mindspore/tokcls_bert_base_chinese_cluener', 'tokcls_bert_tiny_chinese']
QA_NAMES = ['qa_bert_base_uncased', 'qa_bert_base_uncased_squad', 'mindspore/qa_bert_base_uncased',
            'qa_bert_base_chinese_uncased', 'qa_bert_tiny_uncased']
_DTYPE_FIELDS = ('dtype', 'layernorm_dtype', 'softmax_dtype', 'compute_dtype')


def _check_int(name, value, minimum=1):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"BertConfig.{name} must be an integer >= {minimum}, got {value!r}")


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class BertConfig(BaseConfig):
    """Sizes, dropouts and dtypes of a BERT encoder and its task heads.

    As upstream: `post_layernorm_residual: True` (the norm after each residual, as the original BERT),
    `hidden_act: gelu` is MindSpore's tanh-approximated GELU (`gelu_exact` is the erf form Hugging Face BERT
    checkpoints use), `max_position_embeddings` defaults to 128, `compute_dtype` to float16.
    `layer_norm_eps` (1e-12, BERT's) and `pad_token_id` (0) are Hugging Face fields added here.
    """
    _support_list = BERT_NAMES + TXTCLS_NAMES + TOKCLS_NAMES + QA_NAMES

    def __init__(self, model_type='bert', use_one_hot_embeddings=False, num_labels=1, assessment_method='',
                 dropout_prob=0.1, batch_size=16, seq_length=128, vocab_size=30522, hidden_size=768,
                 num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072, hidden_act='gelu',
                 post_layernorm_residual=True, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                 max_position_embeddings=128, type_vocab_size=2, initializer_range=0.02,
                 use_relative_positions=False, dtype='float32', layernorm_dtype='float32', softmax_dtype='float32',
                 compute_dtype='float16', use_past=False, parallel_config='default', checkpoint_name_or_path='',
                 moe_config='default', layer_norm_eps=1e-12, pad_token_id=0, **kwargs):
        super().__init__(**kwargs)
        self.model_type = model_type
        self.use_one_hot_embeddings = use_one_hot_embeddings
        self.num_labels = num_labels
        self.assessment_method = assessment_method
        self.dropout_prob = dropout_prob
        self.batch_size = batch_size
        self.seq_length = seq_length
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.post_layernorm_residual = post_layernorm_residual
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.initializer_range = initializer_range
        self.use_relative_positions = use_relative_positions
        self.dtype = dtype
        self.layernorm_dtype = layernorm_dtype
        self.softmax_dtype = softmax_dtype
        self.compute_dtype = compute_dtype
        self.use_past = use_past
        self.parallel_config = None if parallel_config == 'default' else parallel_config
        self.checkpoint_name_or_path = checkpoint_name_or_path
        self.moe_config = None if moe_config == 'default' else moe_config
        self.layer_norm_eps = layer_norm_eps
        self.pad_token_id = pad_token_id
        self.validate()

    def validate(self):
        """Check sizes, rates and dtype names without allocating anything."""
        for name in ('seq_length', 'vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads',
                     'intermediate_size', 'max_position_embeddings', 'type_vocab_size', 'num_labels', 'batch_size'):
            _check_int(name, getattr(self, name))
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(f"BertConfig: hidden_size {self.hidden_size} is not divisible by num_attention_heads "
                              f"{self.num_attention_heads}")
        if self.seq_length > self.max_position_embeddings:
            raise ConfigError(f"BertConfig: seq_length {self.seq_length} is larger than max_position_embeddings "
                              f"{self.max_position_embeddings} (BERT learns one embedding per position); lower "
                              f"seq_length or raise max_position_embeddings")
        check_rates(self, ('dropout_prob', 'hidden_dropout_prob', 'attention_probs_dropout_prob'))
        if not self.post_layernorm_residual:
            raise ConfigError("BertConfig.post_layernorm_residual: False is not BERT (its norms follow the "
                              "residuals); remove it")
        if self.use_relative_positions:
            raise ConfigError("BertConfig.use_relative_positions: True is not supported; BERT here learns absolute "
                              "positions (max_position_embeddings)")
        if self.use_past:
            raise ConfigError("BertConfig.use_past: True has no meaning for an encoder (nothing is generated token "
                              "by token); remove it")
        for name in _DTYPE_FIELDS:
            convert_mstype(getattr(self, name))

    def num_parameters(self):
        """Parameter count of the encoder and pooler, computed from the sizes (no allocation)."""
        hidden, inner = self.hidden_size, self.intermediate_size
        embeddings = (self.vocab_size + self.max_position_embeddings + self.type_vocab_size) * hidden + 2 * hidden
        per_layer = 4 * hidden * hidden + 4 * hidden + 2 * hidden * inner + inner + hidden + 4 * hidden
        return embeddings + self.num_hidden_layers * per_layer + hidden * hidden + hidden
