"""PanGu-Alpha: token + learned position embeddings -> num_layers - 1 pre-LayerNorm blocks (MHA with biases, fast
GELU MLP) -> LayerNorm -> the top query layer, a block whose queries are projected from a second learned position
embedding (keys and values from the hidden states) -> output layer tied to the token embeddings.

The blocks are the shared `layernorm_block`s of modules/transformer.py (the top query layer is one more, fed its
queries through the attention's `query_input`); the head, loss and generation are `CausalLMBase`'s.
"""
from mindspore import nn, ops

from mindformers.models.causal_lm import CausalLMBase
from mindformers.models.pangualpha.pangualpha_config import PanguAlphaConfig
from mindformers.modules.embeddings import LearnedPositionEmbedding, VocabEmbedding
from mindformers.modules.masks import causal_mask, decode_mask
from mindformers.modules.normalization import LayerNorm
from mindformers.modules.transformer import apply_parallel_config, layernorm_block
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['PanguAlphaModel', 'PanguAlphaHeadModel', 'PanguAlphaPromptTextClassificationModel']

# our child name -> upstream's (LoRA target regexes written against upstream names match either)
PANGU_UPSTREAM_NAMES = {'wq': 'dense1', 'wk': 'dense2', 'wv': 'dense3', 'wo': 'projection', 'w1': 'mapping',
                        'w2': 'projection', 'attention_norm': 'layernorm1', 'ffn_norm': 'layernorm2',
                        'layers': 'blocks', 'tok_embeddings': 'word_embedding',
                        'position_embeddings': 'position_embedding'}


def pangu_block(config):
    return layernorm_block(config.hidden_size, config.num_heads, config.ffn_hidden_size, config.hidden_act, 1e-5,
                           config.attention_dropout_rate, config.hidden_dropout_rate, config.layernorm_compute_type,
                           config.softmax_compute_type, config.param_init_type, config.compute_dtype,
                           config.use_past, config.batch_size, config.seq_length)


class PanguAlphaModel(nn.Cell):
    """The PanGu-Alpha trunk: returns the top query layer's output (batch, seq, hidden)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.tok_embeddings = VocabEmbedding(config.vocab_size, config.hidden_size, config.param_init_type)
        self.position_embeddings = LearnedPositionEmbedding(config.seq_length, config.hidden_size,
                                                            config.param_init_type)
        self.embedding_dropout = nn.Dropout(p=config.embedding_dropout_prob) if config.embedding_dropout_prob \
            else None
        self.layers = nn.CellList([pangu_block(config) for _ in range(config.num_layers - 1)])
        self.norm_out = LayerNorm(config.hidden_size, 1e-5, config.layernorm_compute_type, config.param_init_type)
        self.top_query_embedding = LearnedPositionEmbedding(config.seq_length, config.hidden_size,
                                                            config.param_init_type)
        self.top_query_layer = pangu_block(config)
        self.mask = causal_mask(config.seq_length)
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')

    def apply_parallel_config(self, parallel_config):
        dp, mp = parallel_config.data_parallel, parallel_config.model_parallel
        self.tok_embeddings.shard(((1, 1), (dp, 1)) if parallel_config.vocab_emb_dp else ((mp, 1), (dp, 1)))
        self.position_embeddings.shard(((1, 1), (dp, 1)))
        self.top_query_embedding.shard(((1, 1), (dp, 1)))
        apply_parallel_config(parallel_config, list(self.layers) + [self.top_query_layer],
                              first=[self.tok_embeddings, self.position_embeddings], last=[self.norm_out],
                              num_heads=self.config.num_heads)
        self.top_query_embedding.pipeline_stage = parallel_config.pipeline_stage - 1

    def _embed(self, tokens, positions):
        h = ops.cast(self.tok_embeddings(tokens) + positions, self.compute_dtype)
        return self.embedding_dropout(h) if self.embedding_dropout is not None else h

    def construct(self, tokens, fill_cache=False):
        bsz, seq_len = tokens.shape
        h = self._embed(tokens, self.position_embeddings.prefill(seq_len))
        mask = self.mask[:seq_len, :seq_len]
        for layer in self.layers:
            h = layer(h, mask, None, fill_cache)
        h = self.norm_out(h)
        query = ops.cast(ops.broadcast_to(self.top_query_embedding.prefill(seq_len), (bsz, seq_len, h.shape[2])),
                         self.compute_dtype)
        return self.top_query_layer(h, mask, None, fill_cache, None, query)

    def decode(self, tokens, position):
        """tokens: (batch, 1) at `position` (batch,) of each row; the KV caches hold every earlier slot."""
        position_2d = ops.reshape(position, (-1, 1))
        h = self._embed(tokens, self.position_embeddings(position_2d))
        mask = decode_mask(position, self.config.seq_length)
        for layer in self.layers:
            h = layer.decode(h, mask, None, position)
        h = self.norm_out(h)
        query = ops.cast(self.top_query_embedding(position_2d), self.compute_dtype)
        return self.top_query_layer.decode(h, mask, None, position, query)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class PanguAlphaHeadModel(CausalLMBase):
    """PanGu-Alpha with its output layer tied to the token embeddings. Train: records of seq_length + 1 ids (the
    loss skips inputs equal to pad_token_id, as upstream); eval/predict: (logits, tokens, input_mask)."""
    _support_list = PanguAlphaConfig._support_list
    config_class = PanguAlphaConfig
    upstream_param_aliases = PANGU_UPSTREAM_NAMES

    def __init__(self, config=None):
        config = config if config is not None else PanguAlphaConfig()
        super().__init__(config)
        self.build_causal_lm(PanguAlphaModel(config), config)

    def construct(self, input_ids, input_position=None, attention_mask=None, init_reset=True,
                  batch_valid_length=None):
        return self.lm_forward(input_ids)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class PanguAlphaPromptTextClassificationModel(PanguAlphaHeadModel):
    """Classification by prompts (upstream's arch of run_pangualpha_2_6b_prompt_txtcls.yaml), evaluation only.

    Each example holds `num_labels` candidate texts (the prompt filled with one label, then the passage): input_ids
    and attention_mask are (batch, num_labels * seq_length), the mask marking the tokens whose loss counts (the
    passage), labels (batch,) the index of the true candidate. Returns (logits (batch, num_labels, seq, vocab),
    input_ids (batch * num_labels, seq), mask (batch * num_labels, seq), labels) for PromptAccMetric, which picks
    the candidate with the lowest loss."""
    _support_list = ['pangualpha_2_6b_prompt_txtcls', 'pangualpha_tiny_prompt_txtcls']

    def __init__(self, config=None):
        config = config if config is not None else PanguAlphaConfig()
        if not config.num_labels:
            raise ConfigError("PanguAlphaPromptTextClassificationModel needs model_config.num_labels (candidate "
                              "prompts per example, e.g. 4)")
        super().__init__(config)
        self.num_labels = config.num_labels

    def record_length(self, seq_length):
        return self.num_labels * seq_length

    def construct(self, input_ids=None, labels=None, attention_mask=None, position_ids=None, input_embeds=None,
                  init_reset=True, batch_valid_length=None):
        if self.training:
            raise ConfigError("PanguAlphaPromptTextClassificationModel only evaluates (run_mode eval)")
        bsz = input_ids.shape[0]
        seq_len = input_ids.shape[1] // self.num_labels
        tokens = ops.reshape(input_ids, (bsz * self.num_labels, seq_len))
        logits = ops.reshape(self.logits(tokens), (bsz, self.num_labels, seq_len, -1))
        return logits, tokens, ops.reshape(attention_mask, (bsz * self.num_labels, seq_len)), labels
