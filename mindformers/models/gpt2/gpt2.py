"""GPT-2: token + learned position embeddings -> pre-norm blocks (LayerNorm, biased MHA, GELU MLP) -> LayerNorm
-> head tied to the token embeddings. Layers are the shared ones in `modules/`; the LM head, loss and
generation are `CausalLMBase`'s. Also GPT2ForSequenceClassification (the last real token's hidden state)."""
import mindspore as ms
from mindspore import nn, ops

from mindformers.core.loss.loss import CrossEntropyLoss
from mindformers.models.base_model import BaseModel
from mindformers.models.causal_lm import CausalLMBase
from mindformers.models.gpt2.gpt2_config import GPT2Config
from mindformers.modules.embeddings import VocabEmbedding, LearnedPositionEmbedding
from mindformers.modules.layers import Linear
from mindformers.modules.masks import causal_mask, decode_mask
from mindformers.modules.normalization import LayerNorm
from mindformers.modules.transformer import apply_parallel_config, layernorm_block
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

# our child names -> upstream GPT-2's, so upstream LoRA regexes ('.*dense1.*|.*dense3.*') select the same layers
GPT2_UPSTREAM_NAMES = {'wq': 'dense1', 'wk': 'dense2', 'wv': 'dense3', 'wo': 'projection', 'w1': 'mapping',
                       'w2': 'projection', 'attention_norm': 'layernorm1', 'ffn_norm': 'layernorm2'}


def gpt2_block(config):
    """LayerNorm -> attention (q/k/v/out biases, no rotary) -> LayerNorm -> GELU MLP, dropout on both branches."""
    return layernorm_block(config.hidden_size, config.num_heads, config.ffn_hidden_size, config.hidden_act,
                           config.layer_norm_epsilon, config.attention_dropout_rate, config.hidden_dropout_rate,
                           config.layernorm_compute_type, config.softmax_compute_type, config.param_init_type,
                           config.compute_dtype, config.use_past, config.batch_size, config.seq_length)


class GPT2Model(nn.Cell):
    """The trunk: returns final hidden states (batch, seq, hidden)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.tok_embeddings = VocabEmbedding(config.vocab_size, config.hidden_size, config.param_init_type,
                                             config.initializer_range)
        self.position_embeddings = LearnedPositionEmbedding(config.max_position_embeddings, config.hidden_size,
                                                            config.param_init_type, config.initializer_range,
                                                            seq_length=config.seq_length, owner='GPT2Config')
        self.embedding_dropout = nn.Dropout(p=config.embedding_dropout_prob) if config.embedding_dropout_prob \
            else None
        self.layers = nn.CellList([gpt2_block(config) for _ in range(config.num_layers)])
        self.norm_out = LayerNorm(config.hidden_size, config.layer_norm_epsilon, config.layernorm_compute_type,
                                  config.param_init_type)
        self.mask = causal_mask(config.seq_length)
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')

    def apply_parallel_config(self, parallel_config):
        dp, mp = parallel_config.data_parallel, parallel_config.model_parallel
        self.tok_embeddings.shard(((1, 1), (dp, 1)) if parallel_config.vocab_emb_dp else ((mp, 1), (dp, 1)))
        self.position_embeddings.shard(((1, 1), (dp, 1)))
        apply_parallel_config(parallel_config, self.layers, first=[self.tok_embeddings, self.position_embeddings],
                              last=[self.norm_out], num_heads=self.config.num_heads)

    def _embed(self, tokens, positions):
        h = ops.cast(self.tok_embeddings(tokens) + positions, self.compute_dtype)
        if self.embedding_dropout is not None:
            h = self.embedding_dropout(h)
        return h

    def construct(self, tokens, fill_cache=False):
        seq_len = tokens.shape[1]
        h = self._embed(tokens, self.position_embeddings.prefill(seq_len))
        mask = self.mask[:seq_len, :seq_len]
        for layer in self.layers:
            h = layer(h, mask, None, fill_cache)
        return self.norm_out(h)

    def decode(self, tokens, position):
        """tokens: (batch, 1) at `position` (batch,) of each row; the KV caches hold every earlier slot."""
        h = self._embed(tokens, self.position_embeddings(ops.reshape(position, (-1, 1))))
        mask = decode_mask(position, self.config.seq_length)
        for layer in self.layers:
            h = layer.decode(h, mask, None, position)
        return self.norm_out(h)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class GPT2LMHeadModel(CausalLMBase):
    """GPT-2 with the LM head tied to its token embeddings.

    As upstream, the training loss skips labels equal to `pad_token_id` (50256, also EOS) unless an
    `attention_mask` column is given, whose label positions then say what counts.
    """
    _support_list = GPT2Config._support_list
    config_class = GPT2Config
    upstream_param_aliases = GPT2_UPSTREAM_NAMES
    pad_mask_at_labels = True

    def __init__(self, config=None):
        config = config if config is not None else GPT2Config()
        config.tie_word_embeddings = True
        super().__init__(config)
        self.build_causal_lm(GPT2Model(config), config)

    def construct(self, input_ids, attention_mask=None, input_embeds=None, labels=None, input_position=None,
                  position_ids=None, init_reset=True, batch_valid_length=None):
        return self.lm_forward(input_ids, labels, attention_mask)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class GPT2ForSequenceClassification(BaseModel):
    """GPT-2 trunk + `score` (hidden -> num_labels, no bias) read at each row's last real token
    (index sum(attention_mask) - 1). Train: cross entropy with `labels`; eval with labels:
    (logits, labels) for the Accuracy metric; without labels: logits (batch, num_labels)."""
    _support_list = ['gpt2_txtcls']
    config_class = GPT2Config
    upstream_param_aliases = GPT2_UPSTREAM_NAMES
    checkpoint_optional_keys = ('score.',)  # fine-tuning starts from a language-model checkpoint

    def __init__(self, config=None):
        config = config if config is not None else GPT2Config()
        super().__init__(config)
        self.model = GPT2Model(config)
        self.score = Linear(config.hidden_size, config.num_labels, has_bias=False,
                            param_init_type=config.param_init_type, compute_dtype=config.compute_dtype)
        self.loss = CrossEntropyLoss()
        self.num_labels = config.num_labels
        self.load_checkpoint(config)

    def construct(self, input_ids, attention_mask=None, labels=None, input_embeds=None, input_position=None,
                  position_ids=None, init_reset=True, batch_valid_length=None):
        hidden = self.model(input_ids)                                                    # (b, s, h)
        if attention_mask is None:
            attention_mask = ops.not_equal(input_ids, self.config.pad_token_id)
        last = ops.reduce_sum(ops.cast(attention_mask, ms.int32), 1) - 1                  # (b,)
        last = ops.maximum(last, 0)
        index = ops.broadcast_to(ops.reshape(last, (-1, 1, 1)), (hidden.shape[0], 1, hidden.shape[2]))
        pooled = ops.squeeze(ops.gather_elements(hidden, 1, index), 1)                    # (b, h)
        logits = ops.cast(self.score(pooled), ms.float32)                                 # (b, labels)
        if labels is None:
            return logits
        labels = ops.cast(ops.reshape(labels, (-1,)), ms.int32)
        if not self.training:
            return logits, labels
        return self.loss(logits, labels, ops.ones_like(ops.cast(labels, ms.float32)))
