"""T5: an encoder over the source and a decoder over the target with cross-attention, sharing one token table.

Both stacks are pre-norm blocks of the shared modules: T5's LayerNorm is RMSNorm (no mean, no bias), attention has
no biases and no 1/sqrt(d) scaling, the MLP is ReLU without biases (or gated, as T5 v1.1's, with `is_gated_act`).
Positions come from one learned relative position bias per stack (bidirectional buckets in the encoder, causal in
the decoder) added to the scores of every block. The head is the token table (tied), fed the decoder output times
hidden_size^-0.5, or an own `lm_head` (untied, T5 v1.1).

Training rows are upstream's TranslationDataset columns `input_ids, attention_mask, labels`: the decoder reads the
labels shifted right behind `start_token_id`, and the loss skips pad (and -100) labels. Under `use_past` the
encoder runs once (`fill_source_cache` stores every decoder layer's cross keys/values and the source padding),
then the decoder prefills and decodes one token at a time from its own KV cache.
"""
import numpy as np
import mindspore as ms
from mindspore import nn, ops, Parameter, Tensor
from mindspore.common.initializer import initializer, Normal

from mindformers.core.loss.loss import CrossEntropyLoss
from mindformers.core.parallel_config import TransformerOpParallelConfig
from mindformers.generation.text_generator import GeneratorMixin
from mindformers.models.base_model import BaseModel
from mindformers.models.t5.t5_config import T5Config, T5_NAMES
from mindformers.modules.attention import MultiHeadAttention
from mindformers.modules.embeddings import VocabEmbedding
from mindformers.modules.feed_forward import FeedForward, SwiGLUFeedForward
from mindformers.modules.layers import Linear
from mindformers.modules.masks import causal_mask, decode_mask, padding_mask
from mindformers.modules.normalization import RMSNorm
from mindformers.modules.position_bias import RelativePositionBias
from mindformers.modules.transformer import TransformerBlock, apply_parallel_config
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['T5Stack', 'T5ForConditionalGeneration']


def _t5_norm(config):
    return RMSNorm(config.hidden_size, config.layer_norm_epsilon, config.layernorm_compute_type,
                   config.param_init_type)


def _t5_attention(config, use_past=False, cache_length=None):
    return MultiHeadAttention(config.hidden_size, config.num_heads, head_dim=config.d_kv, scale=1.0,
                              attention_dropout=config.attention_dropout_rate,
                              softmax_compute_type=config.softmax_compute_type, use_past=use_past,
                              batch_size=config.batch_size, max_seq_length=cache_length,
                              param_init_type=config.param_init_type, compute_dtype=config.compute_dtype)


def _t5_block(config, is_decoder):
    """Encoder block: self-attention + MLP; decoder block: causal self-attention + cross-attention + MLP, with KV
    caches of max_decode_length (self) and seq_length (cross, the source) slots under use_past."""
    use_past = bool(is_decoder and config.use_past)
    cross = {}
    if is_decoder:
        cross = dict(cross_attention_norm=_t5_norm(config),
                     cross_attention=_t5_attention(config, use_past, config.seq_length))
    dtypes = dict(param_init_type=config.param_init_type, compute_dtype=config.compute_dtype)
    if config.is_gated_act:   # T5 v1.1 / Flan-T5: wo(act(wi_0 x) * wi_1 x)
        feed_forward = SwiGLUFeedForward(config.hidden_size, config.d_ff, has_bias=False,
                                         activation=config.hidden_act, **dtypes)
    else:
        feed_forward = FeedForward(config.hidden_size, config.d_ff, config.hidden_act, has_bias=False, **dtypes)
    return TransformerBlock(_t5_norm(config), _t5_attention(config, use_past, config.max_decode_length),
                            _t5_norm(config), feed_forward, hidden_dropout=config.hidden_dropout_rate, **cross)


class T5Stack(nn.Cell):
    """The encoder (`is_decoder=False`: bidirectional over the source, padding masked) or the decoder (causal,
    plus cross-attention to the encoder output). Children: `relative_attention_bias`, `layers`, `final_norm`."""

    def __init__(self, config, is_decoder):
        super().__init__()
        self.is_decoder = is_decoder
        self.length = config.max_decode_length if is_decoder else config.seq_length
        self.relative_attention_bias = RelativePositionBias(
            config.num_heads, config.relative_attention_num_buckets, config.relative_attention_max_distance,
            bidirectional=not is_decoder, max_query_length=self.length, param_init_type=config.param_init_type)
        count = config.num_decoder_layers if is_decoder else config.num_layers
        self.layers = nn.CellList([_t5_block(config, is_decoder) for _ in range(count)])
        self.final_norm = _t5_norm(config)
        self.dropout = nn.Dropout(p=config.hidden_dropout_rate) if config.hidden_dropout_rate else None
        if is_decoder:
            self.mask = causal_mask(self.length)

    def _output(self, h):
        h = self.final_norm(h)
        return h if self.dropout is None else self.dropout(h)

    def construct(self, h, bias=None, encoder_output=None, cross_bias=None, fill_cache=False):
        """h: embedded tokens (batch, seq, hidden). Encoder: bias is the source padding mask (batch, 1, 1, seq).
        Decoder: the causal mask is its own; encoder_output (None: the cross caches) and cross_bias (the source
        padding) feed the cross-attention; fill_cache prefills the self-attention caches."""
        seq_len = h.shape[1]
        position_bias = self.relative_attention_bias.prefill(seq_len, seq_len)
        if self.is_decoder:
            bias = self.mask[:seq_len, :seq_len] + position_bias
        else:
            bias = bias + position_bias
        for layer in self.layers:
            h = layer(h, bias, None, fill_cache, None, None, encoder_output, cross_bias)
        return self._output(h)

    def decode(self, h, position, cross_bias):
        """Decoder only: h (batch, 1, hidden) at `position` (batch,), reading the self and cross KV caches."""
        bias = decode_mask(position, self.length) + self.relative_attention_bias.decode(position)
        for layer in self.layers:
            h = layer.decode(h, bias, None, position, None, cross_bias)
        return self._output(h)

    def fill_cross_cache(self, encoder_output):
        """Decoder only: every layer's cross-attention keys/values from the encoder output."""
        for layer in self.layers:
            layer.fill_cross_cache(encoder_output)
        return encoder_output


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class T5ForConditionalGeneration(BaseModel, GeneratorMixin):
    """T5 for translation (and any text-to-text task).

    `construct(input_ids, attention_mask, labels=None, decoder_input_ids=None, decoder_attention_mask=None,
    memory_mask=None, encoder_outputs=None, return_loss=False)` as upstream: in training (or with `return_loss`)
    the masked cross-entropy of `labels`; otherwise the logits (batch, target_len, vocab). `decoder_input_ids`
    default to the labels shifted right; `decoder_attention_mask` (default: labels that are not padding) weighs
    the loss; `encoder_outputs` replaces the encoder run. `generate(source_ids)` returns the decoder rows.
    """
    config_class = T5Config
    _support_list = T5_NAMES
    generation_length_field = 'max_decode_length'
    is_encoder_decoder = True

    def __init__(self, config=None):
        config = config if config is not None else T5Config()
        super().__init__(config)
        self.shared = VocabEmbedding(config.vocab_size, config.hidden_size, config.param_init_type)
        self.encoder = T5Stack(config, is_decoder=False)
        self.decoder = T5Stack(config, is_decoder=True)
        self.embedding_dropout = nn.Dropout(p=config.embedding_dropout_prob) if config.embedding_dropout_prob \
            else None
        self.tie_word_embeddings = bool(config.tie_word_embeddings)
        self.output_scale = config.hidden_size ** -0.5 if self.tie_word_embeddings and config.scale_output else 1.0
        if not self.tie_word_embeddings:
            self.lm_head = Linear(config.hidden_size, config.vocab_size, has_bias=False,
                                  param_init_type=config.param_init_type, compute_dtype=config.compute_dtype)
        self.head_matmul = ops.MatMul(transpose_b=True)
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')
        self.vocab_size = config.vocab_size
        self.pad_token_id = config.pad_token_id
        self.ignore_token_id = config.ignore_token_id
        self.start_token_id = config.start_token_id
        parallel_config = getattr(config, 'parallel_config', None)
        self.loss = CrossEntropyLoss(parallel_config=parallel_config)
        if isinstance(parallel_config, TransformerOpParallelConfig):
            self.apply_parallel_config(parallel_config)
        if config.use_past:
            # the source padding of the rows being generated ('decode_state_' names are optional on load)
            self.decode_state_source_bias = Parameter(
                Tensor(np.zeros((config.batch_size, 1, 1, config.seq_length), np.float32)),
                name='decode_state_source_bias', requires_grad=False)
        self._init_weights(config)
        self.load_checkpoint(config)

    def _init_weights(self, config):
        """T5's initialisation (Mesh TensorFlow's): normals scaled by fan-in, the token table at std 1, all times
        `initializer_factor`, so a model trained from scratch starts with unit-scale activations."""
        factor, hidden, inner = config.initializer_factor, config.hidden_size, config.num_heads * config.d_kv
        stds = {'attention.wq.': (hidden * config.d_kv) ** -0.5, 'attention.wk.': hidden ** -0.5,
                'attention.wv.': hidden ** -0.5, 'attention.wo.': inner ** -0.5,
                'feed_forward.w1.': hidden ** -0.5, 'feed_forward.w3.': hidden ** -0.5,
                'feed_forward.w2.': config.d_ff ** -0.5,
                'relative_attention_bias.': hidden ** -0.5, 'shared.': 1.0, 'lm_head.': hidden ** -0.5}
        for param in self.trainable_params():
            std = next((value for key, value in stds.items() if key in param.name), None)
            if std is not None:
                param.set_data(initializer(Normal(sigma=factor * std), param.shape, param.dtype))

    def apply_parallel_config(self, parallel_config):
        dp, mp = parallel_config.data_parallel, parallel_config.model_parallel
        self.shared.shard(((1, 1), (dp, 1)) if parallel_config.vocab_emb_dp else ((mp, 1), (dp, 1)))
        blocks = list(self.encoder.layers) + list(self.decoder.layers)
        apply_parallel_config(parallel_config, blocks, first=[self.shared],
                              last=[self.encoder.final_norm, self.decoder.final_norm],
                              num_heads=self.config.num_heads)

    # ------------------------------------------------------------------ pieces
    def _embed(self, ids):
        h = ops.cast(self.shared(ids), self.compute_dtype)
        return h if self.embedding_dropout is None else self.embedding_dropout(h)

    def encoder_forward(self, source_ids, source_mask):
        """The encoder output (batch, source_len, hidden) of `source_ids` with 1/0 `source_mask`."""
        return self.encoder(self._embed(source_ids), padding_mask(source_mask))

    def _head(self, hidden):
        """Decoder output (batch, seq, hidden) -> logits (batch, seq, vocab), float32."""
        if not self.tie_word_embeddings:
            return ops.cast(self.lm_head(hidden), ms.float32)
        bsz, seq_len, dim = hidden.shape
        hidden = ops.reshape(hidden * self.output_scale, (-1, dim))
        logits = self.head_matmul(ops.cast(hidden, self.compute_dtype),
                                  ops.cast(self.shared.embedding_weight, self.compute_dtype))
        return ops.cast(ops.reshape(logits, (bsz, seq_len, self.vocab_size)), ms.float32)

    def shift_right(self, labels):
        """Decoder inputs for `labels`: start_token_id, then the labels but the last; -100 labels read as pad."""
        start = ops.fill(labels.dtype, (labels.shape[0], 1), self.start_token_id)
        shifted = ops.concat((start, labels[:, :-1]), 1)
        return ops.where(ops.equal(shifted, self.ignore_token_id), ops.full_like(shifted, self.pad_token_id),
                         shifted)

    # ------------------------------------------------------------------ forward
    def construct(self, input_ids, attention_mask=None, labels=None, decoder_input_ids=None,
                  decoder_attention_mask=None, memory_mask=None, encoder_outputs=None, return_loss=False):
        if attention_mask is None:
            attention_mask = ops.cast(ops.not_equal(input_ids, self.pad_token_id), ms.int32)
        # memory_mask (batch, target_len, source_len) is upstream's explicit cross mask; by default the source
        # padding, the same for every target position
        cross_bias = padding_mask(attention_mask) if memory_mask is None else \
            ops.expand_dims((1.0 - ops.cast(memory_mask, ms.float32)) * -1e9, 1)
        if encoder_outputs is None:
            encoder_outputs = self.encoder_forward(input_ids, attention_mask)
        if decoder_input_ids is None:
            decoder_input_ids = self.shift_right(labels)
        hidden = self.decoder(self._embed(decoder_input_ids), None, encoder_outputs, cross_bias)
        logits = self._head(hidden)
        if not self.training and not return_loss:
            return logits
        if decoder_attention_mask is None:
            decoder_attention_mask = ops.not_equal(labels, self.pad_token_id)
        weights = ops.cast(decoder_attention_mask, ms.float32) * \
            ops.cast(ops.not_equal(labels, self.ignore_token_id), ms.float32)
        return self.loss(ops.reshape(logits, (-1, self.vocab_size)), ops.reshape(ops.maximum(labels, 0), (-1,)),
                         ops.reshape(weights, (-1,)))

    # --------------------------------------------------------------- generation
    def seq2seq_logits(self, source_ids, source_mask, decoder_ids):
        """Full recompute: logits (batch, target_len, vocab) of `decoder_ids` given the source."""
        encoder_output = self.encoder_forward(source_ids, source_mask)
        hidden = self.decoder(self._embed(decoder_ids), None, encoder_output, padding_mask(source_mask))
        return self._head(hidden)

    def fill_source_cache(self, source_ids, source_mask):
        """use_past: run the encoder once, store every decoder layer's cross keys/values and the source padding."""
        encoder_output = self.encoder_forward(source_ids, source_mask)
        ops.assign(self.decode_state_source_bias, padding_mask(source_mask))
        return self.decoder.fill_cross_cache(encoder_output)

    def prefill_next_logits(self, input_ids, batch_valid_length):
        """use_past prefill of the decoder rows (batch, max_decode_length), right-padded -> the logits after each
        row's last real token (batch, vocab)."""
        hidden = self.decoder(self._embed(input_ids), None, None, self.decode_state_source_bias, True)
        last = ops.broadcast_to(ops.reshape(batch_valid_length - 1, (-1, 1, 1)), (hidden.shape[0], 1, hidden.shape[2]))
        hidden = ops.gather_elements(hidden, 1, ops.cast(last, ms.int32))
        return ops.squeeze(self._head(hidden), 1)

    def decode_next_logits(self, input_ids, position):
        """use_past decode: one decoder token per row (batch, 1) at `position` -> next-token logits (batch, vocab)."""
        hidden = self.decoder.decode(self._embed(input_ids), position, self.decode_state_source_bias)
        return ops.squeeze(self._head(hidden), 1)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class MT5ForConditionalGeneration(T5ForConditionalGeneration):
    """mT5, the multilingual T5: T5 v1.1's architecture (gated-GELU MLP, untied head, no tied-output scaling) with
    a 250k-piece vocabulary. A T5Config built for it defaults to those settings unless they are given; Hugging
    Face `mt5` checkpoints load through AutoModel / convert_weight.py as T5's do."""
    _support_list = []

    def __init__(self, config=None, **kwargs):
        if config is None:
            config = T5Config(is_gated_act=True, hidden_act='gelu', tie_word_embeddings=False)
        super().__init__(config, **kwargs)
