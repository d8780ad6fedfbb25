"""BLOOM: token embeddings -> LayerNorm -> pre-norm blocks (LayerNorm, biased MHA with ALiBi, GELU MLP) ->
LayerNorm -> head tied to the token embeddings. No position table: ALiBi biases the scores per head by key
position. Layers are the shared ones in `modules/`; the LM head, loss and generation are `CausalLMBase`'s."""
from mindspore import nn, ops

from mindformers.models.bloom.bloom_config import BloomConfig
from mindformers.models.causal_lm import CausalLMBase
from mindformers.modules.embeddings import VocabEmbedding
from mindformers.modules.masks import causal_mask, decode_mask
from mindformers.modules.normalization import LayerNorm
from mindformers.modules.position_bias import AlibiBias
from mindformers.modules.transformer import apply_parallel_config, layernorm_block
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

# our child names -> upstream BLOOM's (LoRA target regexes from upstream YAMLs match either)
BLOOM_UPSTREAM_NAMES = {'wq': 'dense1', 'wk': 'dense2', 'wv': 'dense3', 'wo': 'projection', 'w1': 'mapping',
                        'w2': 'projection', 'attention_norm': 'layernorm1', 'ffn_norm': 'layernorm2'}


def bloom_block(config):
    """LayerNorm -> attention (q/k/v/out biases; ALiBi comes in through the bias) -> LayerNorm -> GELU MLP."""
    return layernorm_block(config.hidden_size, config.num_heads, config.ffn_hidden_size, config.hidden_act,
                           config.layer_norm_epsilon, config.attention_dropout_rate, config.hidden_dropout_rate,
                           config.layernorm_compute_type, config.softmax_compute_type, config.param_init_type,
                           config.compute_dtype, config.use_past, config.batch_size or 1, config.seq_length)


class BloomModel(nn.Cell):
    """The trunk: returns final hidden states (batch, seq, hidden)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.tok_embeddings = VocabEmbedding(config.vocab_size, config.hidden_size, config.embedding_init_type,
                                             config.initializer_range)
        self.embedding_norm = LayerNorm(config.hidden_size, config.layer_norm_epsilon,
                                        config.layernorm_compute_type, config.param_init_type)
        self.embedding_dropout = nn.Dropout(p=config.embedding_dropout_prob) if config.embedding_dropout_prob \
            else None
        self.layers = nn.CellList([bloom_block(config) for _ in range(config.num_layers)])
        self.norm_out = LayerNorm(config.hidden_size, config.layer_norm_epsilon, config.layernorm_compute_type,
                                  config.param_init_type)
        self.alibi = AlibiBias(config.num_heads, config.seq_length)
        self.mask = causal_mask(config.seq_length)
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')

    def apply_parallel_config(self, parallel_config):
        dp, mp = parallel_config.data_parallel, parallel_config.model_parallel
        self.tok_embeddings.shard(((1, 1), (dp, 1)) if parallel_config.vocab_emb_dp else ((mp, 1), (dp, 1)))
        self.embedding_norm.shard((dp, 1, 1))
        apply_parallel_config(parallel_config, self.layers, first=[self.tok_embeddings, self.embedding_norm],
                              last=[self.norm_out], num_heads=self.config.num_heads)

    def _embed(self, tokens):
        h = self.embedding_norm(ops.cast(self.tok_embeddings(tokens), self.compute_dtype))
        if self.embedding_dropout is not None:
            h = self.embedding_dropout(h)
        return h

    def construct(self, tokens, fill_cache=False):
        seq_len = tokens.shape[1]
        h = self._embed(tokens)
        bias = self.alibi.prefill(seq_len) + self.mask[:seq_len, :seq_len]             # (1, heads, seq, seq)
        for layer in self.layers:
            h = layer(h, bias, None, fill_cache)
        return self.norm_out(h)

    def decode(self, tokens, position):
        """tokens: (batch, 1) at `position` (batch,) of each row; the KV caches hold every earlier slot."""
        h = self._embed(tokens)
        bias = self.alibi.decode() + decode_mask(position, self.config.seq_length)      # (batch, heads, 1, seq)
        for layer in self.layers:
            h = layer.decode(h, bias, None, position)
        return self.norm_out(h)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class BloomLMHeadModel(CausalLMBase):
    """BLOOM with the LM head tied to its token embeddings. As upstream, the training loss skips positions whose
    *input* is `eos_token_id` (BLOOM data is padded with EOS)."""
    _support_list = BloomConfig._support_list
    config_class = BloomConfig
    upstream_param_aliases = BLOOM_UPSTREAM_NAMES
    loss_mask_token = 'eos_token_id'

    def __init__(self, config=None):
        config = config if config is not None else BloomConfig()
        config.tie_word_embeddings = True
        super().__init__(config)
        self.build_causal_lm(BloomModel(config), config)

    def construct(self, input_ids, input_position=None, position_ids=None, attention_mask=None, init_reset=True,
                  batch_valid_length=None):
        return self.lm_forward(input_ids)
