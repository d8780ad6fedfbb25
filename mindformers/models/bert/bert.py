"""BERT: token + position + segment embeddings -> LayerNorm -> post-norm encoder blocks (biased MHA without a
mask between real tokens, GELU MLP) -> a tanh pooler over the first token. The blocks are the shared ones of
`modules/`; what only BERT has (segment embeddings, pooler, MLM transform, NSP) lives here.

Every model keeps the trunk under `bert.`, so a pre-training checkpoint loads into any task model (the task
heads it lacks start fresh). Positional `construct` arguments follow upstream MindFormers (dataset columns are
fed by position): `input_ids, input_mask, token_type_id, <labels...>`; `BertModel` keeps upstream's
`input_ids, token_type_ids, input_mask` order.
"""
import mindspore as ms
from mindspore import nn, ops, Parameter
from mindspore.common.initializer import initializer

from mindformers.core.loss.loss import CrossEntropyLoss
from mindformers.models.base_model import BaseModel
from mindformers.models.bert.bert_config import BertConfig, BERT_NAMES, TXTCLS_NAMES, TOKCLS_NAMES, QA_NAMES
from mindformers.modules.activation import get_activation
from mindformers.modules.embeddings import VocabEmbedding, LearnedPositionEmbedding
from mindformers.modules.layers import Linear
from mindformers.modules.masks import padding_mask
from mindformers.modules.normalization import LayerNorm
from mindformers.modules.transformer import apply_parallel_config, layernorm_block
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['BertBackbone', 'BertModel', 'BertForPreTraining', 'BertForMaskedLM', 'BertForSequenceClassification',
           'BertForMultipleChoice', 'BertForTokenClassification', 'BertForQuestionAnswering']

IGNORE_INDEX = -100


def _linear(config, in_channels, out_channels, has_bias=True):
    return Linear(in_channels, out_channels, has_bias=has_bias,
                  weight_init=ms.common.initializer.Normal(sigma=config.initializer_range),
                  param_init_type=config.dtype, compute_dtype=config.compute_dtype)


def _layer_norm(config):
    return LayerNorm(config.hidden_size, config.layer_norm_eps, config.layernorm_dtype, config.dtype)


def _masked_mean_ce(loss, logits, labels, keep):
    """Cross entropy over the rows of `logits` (.., C) whose `keep` is 1 (float32 scalar)."""
    return loss(ops.reshape(logits, (-1, logits.shape[-1])), ops.reshape(labels, (-1,)), ops.reshape(keep, (-1,)))


class BertBackbone(nn.Cell):
    """The encoder: `construct(input_ids, token_type_ids=None, input_mask=None)` ->
    (sequence_output (b, s, h), pooled_output (b, h), embedding_table (vocab, h)), as upstream's BertModel.
    A missing input_mask means every token is real, missing token_type_ids mean segment 0."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        std = config.initializer_range
        self.tok_embeddings = VocabEmbedding(config.vocab_size, config.hidden_size, config.dtype, std)
        self.position_embeddings = LearnedPositionEmbedding(config.max_position_embeddings, config.hidden_size,
                                                            config.dtype, std, seq_length=config.seq_length,
                                                            owner='BertConfig')
        self.token_type_embeddings = VocabEmbedding(config.type_vocab_size, config.hidden_size, config.dtype, std)
        self.embedding_norm = _layer_norm(config)
        self.embedding_dropout = nn.Dropout(p=config.hidden_dropout_prob) if config.hidden_dropout_prob else None
        self.layers = nn.CellList([
            layernorm_block(config.hidden_size, config.num_attention_heads, config.intermediate_size,
                            config.hidden_act, config.layer_norm_eps, config.attention_probs_dropout_prob,
                            config.hidden_dropout_prob, config.layernorm_dtype, config.softmax_dtype, config.dtype,
                            config.compute_dtype, norm_position='post')
            for _ in range(config.num_hidden_layers)])
        self.pooler = _linear(config, config.hidden_size, config.hidden_size)
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')

    def apply_parallel_config(self, parallel_config):
        dp, mp = parallel_config.data_parallel, parallel_config.model_parallel
        self.tok_embeddings.shard(((1, 1), (dp, 1)) if parallel_config.vocab_emb_dp else ((mp, 1), (dp, 1)))
        apply_parallel_config(parallel_config, self.layers,
                              first=[self.tok_embeddings, self.position_embeddings, self.token_type_embeddings],
                              last=[], num_heads=self.config.num_attention_heads)

    def construct(self, input_ids, token_type_ids=None, input_mask=None):
        seq_len = input_ids.shape[1]
        if token_type_ids is None:
            token_type_ids = ops.zeros_like(input_ids)
        if input_mask is None:
            input_mask = ops.ones_like(input_ids)
        h = self.tok_embeddings(input_ids) + self.position_embeddings.prefill(seq_len) \
            + self.token_type_embeddings(ops.cast(token_type_ids, ms.int32))
        h = ops.cast(self.embedding_norm(h), self.compute_dtype)
        if self.embedding_dropout is not None:
            h = self.embedding_dropout(h)
        bias = padding_mask(input_mask)
        for layer in self.layers:
            h = layer(h, bias)
        pooled = ops.tanh(self.pooler(h[:, 0]))
        return h, pooled, self.tok_embeddings.embedding_weight


class BertMLMHead(nn.Cell):
    """Masked-LM scores: dense -> activation -> LayerNorm -> the token embeddings (tied) + `bias` (vocab)."""

    def __init__(self, config):
        super().__init__()
        self.dense = _linear(config, config.hidden_size, config.hidden_size)
        self.activation = get_activation(config.hidden_act)
        self.norm = _layer_norm(config)
        self.bias = Parameter(initializer('zeros', (config.vocab_size,), runtime_dtype(config.dtype, 'dtype')),
                              name='bias')
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')
        self.matmul = ops.MatMul(transpose_b=True)

    def construct(self, hidden, embedding_table):
        hidden = self.norm(self.activation(self.dense(hidden)))
        shape = hidden.shape[:-1] + (embedding_table.shape[0],)
        flat = ops.reshape(ops.cast(hidden, self.compute_dtype), (-1, hidden.shape[-1]))
        scores = self.matmul(flat, ops.cast(embedding_table, self.compute_dtype)) + ops.cast(self.bias,
                                                                                           self.compute_dtype)
        return ops.cast(ops.reshape(scores, shape), ms.float32)


class _BertTaskModel(BaseModel):
    """A BaseModel holding the encoder as `bert` and loading `config.checkpoint_name_or_path` at the end."""
    config_class = BertConfig

    def __init__(self, config=None):
        config = config if config is not None else BertConfig()
        super().__init__(config)
        self.bert = BertBackbone(config)
        self.loss = CrossEntropyLoss()

    def apply_parallel_config(self, parallel_config):
        self.bert.apply_parallel_config(parallel_config)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class BertModel(_BertTaskModel):
    """The bare encoder as a model (what a Hugging Face `BertModel` directory such as all-MiniLM-L6-v2 holds):
    `construct(input_ids, token_type_ids=None, input_mask=None)` -> (sequence_output, pooled_output,
    embedding_table)."""
    _support_list = BERT_NAMES

    def __init__(self, config=None):
        super().__init__(config)
        self.load_checkpoint(self.config)

    def construct(self, input_ids, token_type_ids=None, input_mask=None):
        return self.bert(input_ids, token_type_ids, input_mask)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class BertForPreTraining(_BertTaskModel):
    """Masked LM + next-sentence prediction. Train: mean MLM cross entropy at `masked_lm_positions` weighted by
    `masked_lm_weights` plus the NSP cross entropy. Eval: (sequence_output, pooled_output, prediction_scores,
    seq_relationship_score), the MLM scores gathered at masked_lm_positions (all positions when none); given
    `masked_lm_ids` (a fill_mask eval set), (prediction_scores, masked_lm_ids, masked_lm_weights,
    seq_relationship_score, next_sentence_labels) for MLMPerplexityMetric."""
    _support_list = BERT_NAMES
    checkpoint_optional_keys = ('nsp_head.',)

    def __init__(self, config=None):
        super().__init__(config)
        self.mlm_head = BertMLMHead(self.config)
        self.nsp_head = _linear(self.config, self.config.hidden_size, 2)
        self.load_checkpoint(self.config)

    def bert_forward(self, input_ids, input_mask, token_type_id, masked_lm_positions=None):
        sequence_output, pooled_output, table = self.bert(input_ids, token_type_id, input_mask)
        hidden = sequence_output
        if masked_lm_positions is not None:
            index = ops.cast(masked_lm_positions, ms.int32)
            index = ops.broadcast_to(ops.expand_dims(index, -1), index.shape + (hidden.shape[-1],))
            hidden = ops.gather_elements(hidden, 1, index)                        # (b, n_masked, h)
        prediction_scores = self.mlm_head(hidden, table)
        seq_relationship_score = ops.cast(self.nsp_head(pooled_output), ms.float32)
        return sequence_output, pooled_output, prediction_scores, seq_relationship_score

    def construct(self, input_ids, input_mask, token_type_id, next_sentence_labels=None, masked_lm_positions=None,
                  masked_lm_ids=None, masked_lm_weights=None):
        outputs = self.bert_forward(input_ids, input_mask, token_type_id, masked_lm_positions)
        if not self.training and masked_lm_ids is None:
            return outputs
        _, _, prediction_scores, seq_relationship_score = outputs
        if masked_lm_weights is None:
            masked_lm_weights = ops.not_equal(masked_lm_ids, IGNORE_INDEX)
        if not self.training:
            return (prediction_scores, masked_lm_ids, masked_lm_weights, seq_relationship_score,
                    next_sentence_labels)
        mlm = _masked_mean_ce(self.loss, prediction_scores, masked_lm_ids, ops.cast(masked_lm_weights, ms.float32))
        labels = ops.reshape(next_sentence_labels, (-1,))
        nsp = _masked_mean_ce(self.loss, seq_relationship_score, labels, ops.ones(labels.shape, ms.float32))
        return mlm + nsp

    def masked_lm_scores(self, input_ids, input_mask, token_type_id):
        """MLM scores (b, s, vocab) at every position (what fill_mask reads)."""
        return self.bert_forward(input_ids, input_mask, token_type_id)[2]


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class BertForMaskedLM(_BertTaskModel):
    """Masked LM over every position (fill_mask). Train: cross entropy at the `labels` that are not -100.
    Eval: prediction scores (b, s, vocab); with labels, (scores, labels) for the metric."""
    _support_list = BERT_NAMES

    def __init__(self, config=None):
        super().__init__(config)
        self.mlm_head = BertMLMHead(self.config)
        self.load_checkpoint(self.config)

    def masked_lm_scores(self, input_ids, input_mask=None, token_type_id=None):
        """MLM scores (b, s, vocab) at every position (what fill_mask reads)."""
        sequence_output, _, table = self.bert(input_ids, token_type_id, input_mask)
        return self.mlm_head(sequence_output, table)

    def construct(self, input_ids, input_mask=None, token_type_id=None, labels=None):
        scores = self.masked_lm_scores(input_ids, input_mask, token_type_id)
        if labels is None:
            return scores
        if not self.training:
            return scores, labels
        keep = ops.cast(ops.not_equal(labels, IGNORE_INDEX), ms.float32)
        return _masked_mean_ce(self.loss, scores, labels, keep)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class BertForSequenceClassification(_BertTaskModel):
    """Pooled output -> dropout(`dropout_prob`) -> `classifier` (hidden -> num_labels). Train: cross entropy
    with `label_ids`; eval with labels: (logits, labels) for Accuracy; without: logits (b, num_labels)."""
    _support_list = TXTCLS_NAMES
    checkpoint_optional_keys = ('classifier.',)  # fine-tuning starts from an encoder checkpoint

    def __init__(self, config=None):
        super().__init__(config)
        self.dropout = nn.Dropout(p=self.config.dropout_prob) if self.config.dropout_prob else None
        self.classifier = _linear(self.config, self.config.hidden_size, self.config.num_labels)
        self.num_labels = self.config.num_labels
        self.load_checkpoint(self.config)

    def construct(self, input_ids, input_mask=None, token_type_id=None, label_ids=None):
        _, pooled, _ = self.bert(input_ids, token_type_id, input_mask)
        if self.dropout is not None:
            pooled = self.dropout(pooled)
        logits = ops.cast(self.classifier(pooled), ms.float32)
        if label_ids is None:
            return logits
        labels = ops.cast(ops.reshape(label_ids, (-1,)), ms.int32)
        if not self.training:
            return logits, labels
        return _masked_mean_ce(self.loss, logits, labels, ops.ones(labels.shape, ms.float32))


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class BertForMultipleChoice(BertForSequenceClassification):
    """Upstream MindFormers' name for the BERT text classifier (`txtcls_bert_base_uncased` YAMLs use it)."""


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class BertForTokenClassification(_BertTaskModel):
    """Each token's hidden state -> dropout -> `classifier` (num_labels). Train: cross entropy over the real
    tokens (input_mask 1) whose label is not -100. Eval: logits (b, s, num_labels); with labels,
    (logits, labels with -100 on padding) for EntityScore."""
    _support_list = TOKCLS_NAMES
    checkpoint_optional_keys = ('classifier.',)

    def __init__(self, config=None):
        super().__init__(config)
        self.dropout = nn.Dropout(p=self.config.hidden_dropout_prob) if self.config.hidden_dropout_prob else None
        self.classifier = _linear(self.config, self.config.hidden_size, self.config.num_labels)
        self.num_labels = self.config.num_labels
        self.load_checkpoint(self.config)

    def construct(self, input_ids, input_mask=None, token_type_ids=None, label_ids=None):
        sequence_output, _, _ = self.bert(input_ids, token_type_ids, input_mask)
        if self.dropout is not None:
            sequence_output = self.dropout(sequence_output)
        logits = ops.cast(self.classifier(sequence_output), ms.float32)
        if label_ids is None:
            return logits
        label_ids = ops.cast(label_ids, ms.int32)
        if input_mask is not None:   # padding is never a token: scored as ignored (-100) in both loss and metric
            label_ids = ops.select(ops.cast(input_mask, ms.bool_), label_ids, ops.full_like(label_ids, IGNORE_INDEX))
        if not self.training:
            return logits, label_ids
        keep = ops.cast(ops.not_equal(label_ids, IGNORE_INDEX), ms.float32)
        return _masked_mean_ce(self.loss, logits, label_ids, keep)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class BertForQuestionAnswering(_BertTaskModel):
    """Each token's hidden state -> `qa_outputs` (2): start and end logits (b, s). Train: the mean of the start
    and end cross entropies (positions clipped into the sequence, as upstream). Eval: (start_logits,
    end_logits), with `unique_id` first when given (SQuAD post-processing)."""
    _support_list = QA_NAMES
    checkpoint_optional_keys = ('qa_outputs.',)

    def __init__(self, config=None):
        super().__init__(config)
        self.qa_outputs = _linear(self.config, self.config.hidden_size, 2)
        self.load_checkpoint(self.config)

    def construct(self, input_ids, input_mask=None, token_type_id=None, start_position=None, end_position=None,
                  unique_id=None):
        sequence_output, _, _ = self.bert(input_ids, token_type_id, input_mask)
        logits = ops.cast(self.qa_outputs(sequence_output), ms.float32)
        start_logits, end_logits = logits[:, :, 0], logits[:, :, 1]
        if not self.training:
            return (start_logits, end_logits) if unique_id is None else (unique_id, start_logits, end_logits)
        seq_len = start_logits.shape[1]
        total = 0
        for positions, scores in ((start_position, start_logits), (end_position, end_logits)):
            positions = ops.clip_by_value(ops.cast(ops.reshape(positions, (-1,)), ms.int32), 0, seq_len - 1)
            total = total + _masked_mean_ce(self.loss, scores, positions, ops.ones(positions.shape, ms.float32))
        return total / 2
