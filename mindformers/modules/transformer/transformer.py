"""Upstream's MindSpore-parallel-style transformer API, built on the shared layers: Linear, LayerNorm (gamma/beta),
the activations, attention_probs (softmax of scores plus an additive bias) and the parallel config classes.

Conventions are upstream's: attention masks hold 1 where a query may attend and 0 where it may not (added to the
scores as (1 - mask) * -10000); keys are returned pre-transposed, (batch, heads, size_per_head, seq), values as
(batch, heads, seq, size_per_head); under `use_past` the caller keeps the past keys/values (MultiHeadAttention) or
the layer keeps them in `key_past` / `value_past` Parameters (TransformerEncoderLayer), `init_reset` False clears
them, `batch_valid_length` is the number of valid tokens at the first iteration and the length including the new
token afterwards; `is_first_iteration` is switched with `add_flags_recursive(is_first_iteration=...)`.
float16 compute types compute in float32 on CPU (see mindformers.tools.dtype.runtime_dtype).
Mixture-of-experts (moe_config.expert_num > 1) is refused in one line: it is not implemented here.
"""
import math

import numpy as np
import mindspore as ms
from mindspore import nn, ops, Parameter, Tensor
from mindspore.common.initializer import initializer

from mindformers.core.parallel_config import (TransformerOpParallelConfig, TransformerRecomputeConfig,
                                              EmbeddingOpParallelConfig, OpParallelConfig, MoEParallelConfig,
                                              MoEConfig, default_dpmp_config, default_embedding_parallel_config,
                                              default_moe_config, default_transformer_config)
from mindformers.modules.layers import Linear, LayerNorm, attention_probs, runtime_dtype_name, _check_positive_int
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.errors import ConfigError, ConfigTypeError

__all__ = ['AttentionMask', 'AttentionMaskHF', 'LowerTriangularMaskWithDynamic', 'VocabEmbedding',
           'MultiHeadAttention', 'FeedForward', 'TransformerEncoder', 'TransformerDecoder', 'TransformerEncoderLayer',
           'TransformerDecoderLayer', 'Transformer', 'TransformerOpParallelConfig', 'EmbeddingOpParallelConfig',
           'TransformerRecomputeConfig']

default_transformer_recompute_config = TransformerRecomputeConfig()
MASK_MULTIPLIER = -10000.0
_FLOATS = ('float32', 'float16', 'bfloat16')


# ------------------------------------------------------------------------------------------------ argument checks
def _positive_int(owner, **values):
    for name, value in values.items():
        _check_positive_int(value, name, owner)


def _rate(owner, **values):
    for name, value in values.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
            raise ConfigError(f"{owner}: {name} must be a number in [0, 1), got {value!r}")


def _bools(owner, **values):
    for name, value in values.items():
        if not isinstance(value, bool):
            raise ConfigTypeError(f"{owner}: {name} must be True or False, got {value!r}")


def _float_types(owner, **values):
    for name, value in values.items():
        if runtime_dtype_name(value) not in _FLOATS:
            raise ConfigTypeError(f"{owner}: {name} must be float32, float16 or bfloat16, got {value}")


def _parallel(owner, config, *allowed):
    if not isinstance(config, allowed):
        raise ConfigTypeError(f"{owner}: parallel_config must be a {' or '.join(c.__name__ for c in allowed)}, got "
                              f"{type(config).__name__}")
    return config.data_parallel, config.model_parallel


def _divisible(owner, model_parallel, **values):
    for name, value in values.items():
        if value % model_parallel:
            raise ConfigError(f"{owner}: {name} {value} must be divisible by parallel_config.model_parallel "
                              f"{model_parallel}")


def _no_moe(owner, moe_config):
    if not isinstance(moe_config, MoEConfig):
        raise ConfigTypeError(f"{owner}: moe_config must be a MoEConfig, got {type(moe_config).__name__}")
    if moe_config.expert_num > 1:
        raise ConfigError(f"{owner}: mixture of experts (moe_config.expert_num {moe_config.expert_num} > 1) is not "
                          f"implemented in this build; use expert_num=1")


def _check_batch_size(owner, batch_size, use_past):
    if batch_size or use_past:
        _positive_int(owner, batch_size=batch_size)


# ---------------------------------------------------------------------------------------------------------- masks
class AttentionMask(nn.Cell):
    """(batch, seq_length) 1/0 padding mask -> (batch, seq_length, seq_length) float mask: query i may attend key j
    when both are real tokens and j <= i."""

    def __init__(self, seq_length, parallel_config=default_dpmp_config, compute_dtype=ms.float16):
        super().__init__()
        _positive_int(self.__class__.__name__, seq_length=seq_length)
        _parallel(self.__class__.__name__, parallel_config, OpParallelConfig)
        self.seq_length = seq_length
        self.compute_dtype = runtime_dtype(compute_dtype, 'compute_dtype')
        self.lower_triangle = Tensor(np.tril(np.ones((seq_length, seq_length), np.float32)))

    def _keep(self, input_mask):
        return ops.cast(ops.not_equal(input_mask, 0), ms.float32)

    def construct(self, input_mask):
        keep = self._keep(input_mask)                                            # (batch, seq)
        pairs = ops.expand_dims(keep, 2) * ops.expand_dims(keep, 1)
        return pairs * ops.expand_dims(self.lower_triangle, 0)


class AttentionMaskHF(AttentionMask):
    """Like AttentionMask but padding is ignored (as Hugging Face causal models do): the causal lower triangle for
    every row of the batch."""

    def _keep(self, input_mask):
        return ops.ones(input_mask.shape, ms.float32)


class LowerTriangularMaskWithDynamic(nn.Cell):
    """Causal mask from token ids (padding = `pad_token_id`) or a given (batch, seq) mask: out[b, i, j] =
    keep[b, j] * (j <= i), shape (batch, seq, seq). With `is_dynamic` the sequence may be shorter than seq_length.
    `post_process` turns it into the additive form (1 - mask) * -10000 with a head axis."""

    def __init__(self, seq_length, compute_type=ms.float16, mask_type=ms.float32, is_dynamic=False, pad_token_id=2,
                 use_flash_attention=False):
        super().__init__()
        _positive_int(self.__class__.__name__, seq_length=seq_length)
        self.seq_length = seq_length
        self.is_dynamic = is_dynamic
        self.pad_token_id = pad_token_id
        self.use_flash_attention = use_flash_attention
        self.compute_type = runtime_dtype(compute_type, 'compute_type')
        self.mask_type = runtime_dtype(mask_type, 'mask_type')
        self.lower_triangle_mask = Tensor(np.tril(np.ones((seq_length, seq_length), np.float32)), self.mask_type)
        self.multiply_data = Tensor([MASK_MULTIPLIER], self.compute_type)
        self.one = Tensor([1.0], self.compute_type)

    def shard(self, parallel_config):
        del parallel_config                                   # element-wise over the batch split
        return self

    def construct(self, tokens=None, masks=None):
        if tokens is not None:
            keep = ops.cast(ops.not_equal(tokens, self.pad_token_id), self.compute_type)
        else:
            keep = ops.cast(masks, self.compute_type)
        bsz, seq_len = keep.shape
        if not self.is_dynamic and seq_len != self.seq_length:
            raise ValueError(f"LowerTriangularMaskWithDynamic: the input has {seq_len} positions, seq_length is "
                             f"{self.seq_length} (set is_dynamic=True for shorter inputs)")
        lower = ops.cast(self.lower_triangle_mask[:seq_len, :seq_len], self.compute_type)
        return ops.reshape(keep, (bsz, 1, seq_len)) * ops.expand_dims(lower, 0)

    def increment(self, seq_range, batch_valid_length, zactivate_len=None):
        if zactivate_len is not None:
            seq_range = seq_range[:, :, :zactivate_len.shape[0]]
        return ops.less_equal(ops.reshape(seq_range, (1, 1, -1)), ops.reshape(batch_valid_length, (-1, 1, 1)))

    def increment_slice(self, seq_range, seq_length, batch_valid_length, zactivate_len=None):
        length = zactivate_len.shape[0] if zactivate_len is not None else seq_length
        return self.increment(seq_range[:, :, :length], batch_valid_length)

    def post_process(self, mask):
        masked = self.one - ops.cast(mask, self.compute_type)
        if self.use_flash_attention:
            return ops.cast(masked, ms.uint8)
        return ops.expand_dims(masked, 1) * self.multiply_data


# ------------------------------------------------------------------------------------------------------ embedding
class VocabEmbedding(nn.Cell):
    """Token ids (int32) -> (output (ids.shape + (embedding_size,)), the table). Parameter `embedding_table`
    (vocab_size, embedding_size)."""

    def __init__(self, vocab_size, embedding_size, parallel_config=default_embedding_parallel_config,
                 param_init='normal'):
        super().__init__()
        _positive_int(self.__class__.__name__, vocab_size=vocab_size, embedding_size=embedding_size)
        _, mp = _parallel(self.__class__.__name__, parallel_config, EmbeddingOpParallelConfig)
        if not parallel_config.vocab_emb_dp and vocab_size % mp:
            raise ConfigError(f"VocabEmbedding: vocab_size {vocab_size} must be a multiple of "
                              f"parallel_config.model_parallel {mp} when vocab_emb_dp is False")
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        if isinstance(param_init, str) and param_init == 'normal':
            param_init = ms.common.initializer.Normal(sigma=0.01)     # MindSpore's 'normal', as upstream
        self.embedding_table = Parameter(initializer(param_init, (vocab_size, embedding_size), ms.float32),
                                         name='embedding_table', parallel_optimizer=False)
        self.gather = ops.Gather()

    def construct(self, input_ids):
        if input_ids.dtype != ms.int32:
            raise TypeError(f"VocabEmbedding: input_ids must be int32, got {input_ids.dtype}")
        return self.gather(self.embedding_table, input_ids, 0), self.embedding_table


# ----------------------------------------------------------------------------------------------------- attention
class MultiHeadAttention(nn.Cell):
    """Upstream's MultiHeadAttention: query from `query_tensor`, keys/values from `key_tensor`/`value_tensor`
    (self- or cross-attention). Parameters dense1 (q), dense2 (k), dense3 (v) with (out, in) weights and
    `projection` with an (in, out) weight. Returns (output like the query, (key (B, heads, d, T), value
    (B, heads, T, d))). Under `use_past` the given key_past/value_past are the state: the first iteration
    returns the keys/values with padding (positions >= batch_valid_length) zeroed, later iterations add the new
    token's key/value at position batch_valid_length - 1 and attend to positions < batch_valid_length."""

    def __init__(self, batch_size, src_seq_length, tgt_seq_length, hidden_size, num_heads, hidden_dropout_rate=0.1,
                 attention_dropout_rate=0.1, compute_dtype=ms.float16, softmax_compute_type=ms.float32,
                 param_init_type=ms.float32, use_past=False, parallel_config=default_dpmp_config,
                 use_flash_attention=False, use_prompt_flash_attention=False, use_incre_flash_attention=False):
        super().__init__()
        owner = self.__class__.__name__
        _positive_int(owner, hidden_size=hidden_size, num_heads=num_heads, src_seq_length=src_seq_length,
                      tgt_seq_length=tgt_seq_length)
        _rate(owner, hidden_dropout_rate=hidden_dropout_rate, attention_dropout_rate=attention_dropout_rate)
        _float_types(owner, compute_dtype=compute_dtype, softmax_compute_type=softmax_compute_type,
                     param_init_type=param_init_type)
        _bools(owner, use_past=use_past, use_flash_attention=use_flash_attention,
               use_prompt_flash_attention=use_prompt_flash_attention,
               use_incre_flash_attention=use_incre_flash_attention)
        _check_batch_size(owner, batch_size, False)
        _, mp = _parallel(owner, parallel_config, OpParallelConfig)
        if hidden_size % num_heads:
            raise ConfigError(f"{owner}: hidden_size {hidden_size} must be a multiple of num_heads {num_heads}")
        _divisible(owner, mp, num_heads=num_heads)
        self.batch_size = batch_size
        self.src_seq_length = src_seq_length
        self.tgt_seq_length = tgt_seq_length
        self.hidden_size = hidden_size
        self.n_head = num_heads
        self.size_per_head = hidden_size // num_heads
        self.use_past = use_past
        self.is_first_iteration = True
        self.compute_dtype = runtime_dtype(compute_dtype, 'compute_dtype')
        self.softmax_dtype = runtime_dtype(softmax_compute_type, 'softmax_compute_type')
        dtypes = dict(param_init_type=param_init_type, compute_dtype=compute_dtype)
        self.dense1 = Linear(hidden_size, hidden_size, **dtypes)
        self.dense2 = Linear(hidden_size, hidden_size, **dtypes)
        self.dense3 = Linear(hidden_size, hidden_size, **dtypes)
        self.projection = Linear(hidden_size, hidden_size, transpose_b=False, **dtypes)
        self.dropout = nn.Dropout(p=hidden_dropout_rate)
        self.prob_dropout = nn.Dropout(p=attention_dropout_rate)
        self.scale = 1.0 / math.sqrt(self.size_per_head)
        self.batch_matmul = ops.BatchMatMul()
        self.softmax = ops.Softmax()
        self.range = Tensor(np.arange(src_seq_length, dtype=np.int32).reshape(1, 1, src_seq_length))

    def _split(self, x, bsz, order):
        return ops.transpose(ops.reshape(x, (bsz, -1, self.n_head, self.size_per_head)), order)

    def construct(self, query_tensor, key_tensor, value_tensor, attention_mask, key_past=None, value_past=None,
                  batch_valid_length=None):
        owner = self.__class__.__name__
        if not self.use_past and batch_valid_length is not None:
            raise TypeError(f"{owner}: batch_valid_length must be None when use_past is False")
        if self.use_past and batch_valid_length is None:
            raise TypeError(f"{owner}: use_past needs batch_valid_length (int32, one length per row)")
        incremental = self.use_past and not self.is_first_iteration
        query_shape, query_dtype = query_tensor.shape, query_tensor.dtype
        if len(query_shape) == 3:
            bsz = query_shape[0]
        else:
            bsz = query_shape[0] if incremental else query_shape[0] // self.src_seq_length
        query = self.dense1(ops.cast(ops.reshape(query_tensor, (-1, self.hidden_size)), self.compute_dtype))
        key = self.dense2(ops.cast(ops.reshape(key_tensor, (-1, self.hidden_size)), self.compute_dtype))
        value = self.dense3(ops.cast(ops.reshape(value_tensor, (-1, self.hidden_size)), self.compute_dtype))
        query = self._split(query, bsz, (0, 2, 1, 3))                      # (B, h, S, d)
        key = self._split(key, bsz, (0, 2, 3, 1))                          # (B, h, d, T)
        value = self._split(value, bsz, (0, 2, 1, 3))                      # (B, h, T, d)
        mask = attention_mask
        if mask is not None and len(mask.shape) == 3:
            mask = ops.expand_dims(mask, 1)
        if self.use_past:
            lengths = ops.reshape(ops.cast(batch_valid_length, ms.int32), (-1, 1, 1))
            if incremental:
                current = ops.cast(ops.equal(self.range, lengths - 1), self.compute_dtype)      # (B, 1, S)
                key = ops.cast(key_past, self.compute_dtype) + key * ops.expand_dims(current, 2)
                value = ops.cast(value_past, self.compute_dtype) + value * ops.expand_dims(current, 3)
                mask = ops.expand_dims(ops.cast(ops.less(self.range, lengths), self.compute_dtype), 1)
            else:
                valid = ops.cast(ops.less(self.range, lengths), self.compute_dtype)             # (B, 1, S)
                key = key * ops.expand_dims(valid, 2)
                value = value * ops.expand_dims(valid, 3)
        layer_present = (key, value)
        scores = self.batch_matmul(query, key) * self.scale                                    # (B, h, S, T)
        bias = None
        if mask is not None:
            bias = (1.0 - ops.cast(mask, self.softmax_dtype)) * MASK_MULTIPLIER
        probs = attention_probs(scores, bias, self.softmax, self.softmax_dtype, scores.dtype, self.prob_dropout)
        context = ops.transpose(self.batch_matmul(probs, value), (0, 2, 1, 3))                 # (B, S, h, d)
        output = self.dropout(self.projection(ops.reshape(context, (-1, self.hidden_size))))
        return ops.cast(ops.reshape(output, query_shape), query_dtype), layer_present


class FeedForward(nn.Cell):
    """projection(act(mapping(x))) then dropout; `mapping` (hidden, ffn) and `projection` (ffn, hidden) weights are
    (in, out), as upstream. Input (batch, seq, hidden) or (batch * seq, hidden); output the same shape in the
    compute dtype (float16 upstream; float32 on CPU)."""

    def __init__(self, hidden_size, ffn_hidden_size, dropout_rate, hidden_act='gelu', expert_num=1,
                 expert_group_size=None, param_init_type=ms.float32, parallel_config=default_dpmp_config,
                 compute_dtype=ms.float16):
        super().__init__()
        owner = self.__class__.__name__
        _positive_int(owner, hidden_size=hidden_size, ffn_hidden_size=ffn_hidden_size)
        _float_types(owner, param_init_type=param_init_type)
        if hidden_act is None or not (isinstance(hidden_act, (str, nn.Cell)) or
                                      (isinstance(hidden_act, type) and issubclass(hidden_act, nn.Cell))):
            raise ConfigTypeError(f"{owner}: hidden_act must be an activation name or an nn.Cell class, got "
                                  f"{hidden_act!r}")
        _, mp = _parallel(owner, parallel_config, OpParallelConfig, MoEParallelConfig)
        _divisible(owner, mp, ffn_hidden_size=ffn_hidden_size, hidden_size=hidden_size)
        _rate(owner, dropout_rate=dropout_rate)
        if expert_num != 1:
            raise ConfigError(f"{owner}: mixture of experts (expert_num {expert_num} > 1) is not implemented in "
                              f"this build; use expert_num=1")
        del expert_group_size
        self.hidden_size = hidden_size
        self.compute_dtype = runtime_dtype(compute_dtype, 'compute_dtype')
        dtypes = dict(param_init_type=param_init_type, compute_dtype=compute_dtype)
        self.mapping = Linear(hidden_size, ffn_hidden_size, activation=hidden_act, transpose_b=False, **dtypes)
        self.projection = Linear(ffn_hidden_size, hidden_size, transpose_b=False, **dtypes)
        self.dropout = nn.Dropout(p=dropout_rate)

    def construct(self, x):
        x = ops.cast(x, self.compute_dtype)
        return self.dropout(self.projection(self.mapping(x)))


# --------------------------------------------------------------------------------------------------------- layers
def _layer_norm(hidden_size, compute_type, param_init_type):
    norm = LayerNorm((hidden_size,), param_init_type=param_init_type)
    norm.compute_type = runtime_dtype(compute_type, 'layernorm_compute_type')
    return norm


def _check_layer_args(owner, hidden_size, ffn_hidden_size, num_heads, attention_dropout_rate, hidden_dropout_rate,
                      post_layernorm_residual, use_past, layernorm_compute_type, softmax_compute_type,
                      param_init_type, moe_config, parallel_config):
    _positive_int(owner, hidden_size=hidden_size, ffn_hidden_size=ffn_hidden_size, num_heads=num_heads)
    _rate(owner, attention_dropout_rate=attention_dropout_rate, hidden_dropout_rate=hidden_dropout_rate)
    _bools(owner, post_layernorm_residual=post_layernorm_residual, use_past=use_past)
    _float_types(owner, layernorm_compute_type=layernorm_compute_type, softmax_compute_type=softmax_compute_type,
                 param_init_type=param_init_type)
    _no_moe(owner, moe_config)
    _, mp = _parallel(owner, parallel_config, OpParallelConfig, MoEParallelConfig)
    _divisible(owner, mp, num_heads=num_heads, hidden_size=hidden_size, ffn_hidden_size=ffn_hidden_size)
    if hidden_size % num_heads:
        raise ConfigError(f"{owner}: hidden_size {hidden_size} must be a multiple of num_heads {num_heads}")


def _check_hidden(owner, x, hidden_size, seq_length, incremental):
    """x: (B, S, H) or (B * S, H) with H = hidden_size (S = 1 in an incremental step)."""
    if x.shape[-1] != hidden_size or len(x.shape) not in (2, 3):
        raise ValueError(f"{owner}: the input must be (batch, seq, {hidden_size}) or (batch * seq, {hidden_size}), "
                         f"got {x.shape}")
    length = 1 if incremental else seq_length
    if len(x.shape) == 3 and x.shape[1] != length:
        raise ValueError(f"{owner}: the input has {x.shape[1]} positions, expected {length}")
    if len(x.shape) == 2 and x.shape[0] % length:
        raise ValueError(f"{owner}: the flattened input has {x.shape[0]} rows, not a multiple of {length}")


class TransformerEncoderLayer(nn.Cell):
    """Self-attention block. Pre-norm (default): x1 = x + attention(layernorm1(x)); out = x1 +
    output(layernorm2(x1)). `post_layernorm_residual`: x1 = x + attention(x); h = layernorm2(x1);
    out = layernorm1(h + output(h)). Returns (out, (key, value)); under use_past the layer keeps `key_past` /
    `value_past` Parameters (init_reset False clears them first)."""

    def __init__(self, batch_size, hidden_size, ffn_hidden_size, num_heads, seq_length, attention_dropout_rate=0.1,
                 hidden_dropout_rate=0.1, post_layernorm_residual=False, layernorm_compute_type=ms.float32,
                 softmax_compute_type=ms.float32, param_init_type=ms.float32, hidden_act='gelu', use_past=False,
                 moe_config=default_moe_config, parallel_config=default_dpmp_config, use_flash_attention=False,
                 use_prompt_flash_attention=False, use_incre_flash_attention=False):
        super().__init__()
        owner = self.__class__.__name__
        _positive_int(owner, seq_length=seq_length)
        _check_batch_size(owner, batch_size, use_past)
        _check_layer_args(owner, hidden_size, ffn_hidden_size, num_heads, attention_dropout_rate,
                          hidden_dropout_rate, post_layernorm_residual, use_past, layernorm_compute_type,
                          softmax_compute_type, param_init_type, moe_config, parallel_config)
        self.batch_size = batch_size
        self.hidden_size = hidden_size
        self.seq_length = seq_length
        self.use_past = use_past
        self.post_layernorm_residual = post_layernorm_residual
        self.is_first_iteration = True
        self.layernorm1 = _layer_norm(hidden_size, layernorm_compute_type, param_init_type)
        self.layernorm2 = _layer_norm(hidden_size, layernorm_compute_type, param_init_type)
        self.attention = MultiHeadAttention(batch_size, seq_length, seq_length, hidden_size, num_heads,
                                            hidden_dropout_rate, attention_dropout_rate,
                                            softmax_compute_type=softmax_compute_type,
                                            param_init_type=param_init_type, use_past=use_past,
                                            parallel_config=_op_config(parallel_config),
                                            use_flash_attention=use_flash_attention,
                                            use_prompt_flash_attention=use_prompt_flash_attention,
                                            use_incre_flash_attention=use_incre_flash_attention)
        self.output = FeedForward(hidden_size, ffn_hidden_size, hidden_dropout_rate, hidden_act,
                                  param_init_type=param_init_type, parallel_config=parallel_config)
        self.compute_dtype = self.attention.compute_dtype
        if use_past:
            size_per_head = hidden_size // num_heads
            state = runtime_dtype(ms.float16, 'key_past')
            self.key_past = Parameter(Tensor(np.zeros((batch_size, num_heads, size_per_head, seq_length)), state),
                                      name='key_past', requires_grad=False)
            self.value_past = Parameter(Tensor(np.zeros((batch_size, num_heads, seq_length, size_per_head)), state),
                                        name='value_past', requires_grad=False)

    def construct(self, x, input_mask=None, init_reset=True, batch_valid_length=None):
        owner = self.__class__.__name__
        _check_past_args(owner, self.use_past, init_reset, batch_valid_length)
        incremental = self.use_past and not self.is_first_iteration
        _check_hidden(owner, x, self.hidden_size, self.seq_length, incremental)
        x_shape = x.shape
        x = ops.reshape(x, (-1, self.hidden_size))
        normed = x if self.post_layernorm_residual else self.layernorm1(x)
        normed = ops.cast(normed, self.compute_dtype)
        key_past, value_past = None, None
        if self.use_past:
            keep = ops.cast(init_reset, self.key_past.dtype)
            key_past = self.key_past * keep
            value_past = self.value_past * keep
        attention, layer_present = self.attention(normed, normed, normed, input_mask, key_past, value_past,
                                                  batch_valid_length)
        x1 = (normed if self.post_layernorm_residual else x) + attention
        hidden = ops.cast(self.layernorm2(x1), self.compute_dtype)
        mlp = self.output(hidden)
        if self.use_past:
            ops.assign(self.key_past, ops.cast(layer_present[0], self.key_past.dtype))
            ops.assign(self.value_past, ops.cast(layer_present[1], self.value_past.dtype))
        out = self.layernorm1(hidden + mlp) if self.post_layernorm_residual else x1 + mlp
        return ops.reshape(out, x_shape), layer_present


def _check_past_args(owner, use_past, init_reset, batch_valid_length):
    if not use_past:
        if init_reset is not True:
            raise TypeError(f"{owner}: init_reset must be True when use_past is False")
        if batch_valid_length is not None:
            raise TypeError(f"{owner}: batch_valid_length must be None when use_past is False")
    elif not isinstance(init_reset, Tensor) or not isinstance(batch_valid_length, Tensor):
        raise TypeError(f"{owner}: use_past needs init_reset (a bool Tensor) and batch_valid_length (an int32 "
                        f"Tensor)")


def _op_config(parallel_config):
    return parallel_config.dpmp if isinstance(parallel_config, MoEParallelConfig) else parallel_config


class TransformerDecoderLayer(nn.Cell):
    """Self-attention, cross-attention over `encoder_output`, then the MLP. x = layernorm1(h) (in both modes);
    x1 = (x if post-norm else h) + attention(x); with an encoder output m = cross_attention_layernorm(x1),
    x1 = (m if post-norm else x1) + cross_attention(m, encoder_output); o = layernorm2(x1);
    out = (o if post-norm else x1) + output(o). Returns (out, (self key, self value[, cross key, cross value]))."""

    def __init__(self, hidden_size, ffn_hidden_size, num_heads, batch_size, src_seq_length, tgt_seq_length,
                 attention_dropout_rate=0.1, hidden_dropout_rate=0.1, post_layernorm_residual=False, use_past=False,
                 layernorm_compute_type=ms.float32, softmax_compute_type=ms.float32, param_init_type=ms.float32,
                 hidden_act='gelu', moe_config=default_moe_config, parallel_config=default_dpmp_config):
        super().__init__()
        owner = self.__class__.__name__
        _positive_int(owner, src_seq_length=src_seq_length, tgt_seq_length=tgt_seq_length)
        _check_layer_args(owner, hidden_size, ffn_hidden_size, num_heads, attention_dropout_rate,
                          hidden_dropout_rate, post_layernorm_residual, use_past, layernorm_compute_type,
                          softmax_compute_type, param_init_type, moe_config, parallel_config)
        _check_batch_size(owner, batch_size, use_past)
        if use_past:
            raise ConfigError(f"{owner}: use_past=True is not supported (as upstream)")
        self.hidden_size = hidden_size
        self.src_seq_length = src_seq_length
        self.tgt_seq_length = tgt_seq_length
        self.post_layernorm_residual = post_layernorm_residual
        self.layernorm1 = _layer_norm(hidden_size, layernorm_compute_type, param_init_type)
        self.layernorm2 = _layer_norm(hidden_size, layernorm_compute_type, param_init_type)
        attention = dict(hidden_dropout_rate=hidden_dropout_rate, attention_dropout_rate=attention_dropout_rate,
                         softmax_compute_type=softmax_compute_type, param_init_type=param_init_type,
                         parallel_config=_op_config(parallel_config))
        self.attention = MultiHeadAttention(batch_size, tgt_seq_length, tgt_seq_length, hidden_size, num_heads,
                                            **attention)
        self.cross_attention = MultiHeadAttention(batch_size, tgt_seq_length, src_seq_length, hidden_size,
                                                  num_heads, **attention)
        self.cross_attention_layernorm = _layer_norm(hidden_size, layernorm_compute_type, param_init_type)
        self.output = FeedForward(hidden_size, ffn_hidden_size, hidden_dropout_rate, hidden_act,
                                  param_init_type=param_init_type, parallel_config=parallel_config)
        self.compute_dtype = self.attention.compute_dtype

    def construct(self, hidden_stats, decoder_mask, encoder_output=None, memory_mask=None, init_reset=True,
                  batch_valid_length=None):
        owner = self.__class__.__name__
        _check_past_args(owner, False, init_reset, batch_valid_length)
        _check_hidden(owner, hidden_stats, self.hidden_size, self.tgt_seq_length, False)
        if encoder_output is not None:
            _check_hidden(owner + ' (encoder_output)', encoder_output, self.hidden_size, self.src_seq_length, False)
        shape = hidden_stats.shape
        h = ops.reshape(hidden_stats, (-1, self.hidden_size))
        x = ops.cast(self.layernorm1(h), self.compute_dtype)
        attention, layer_present = self.attention(x, x, x, decoder_mask)
        x1 = (x if self.post_layernorm_residual else h) + attention
        if encoder_output is not None:
            m = ops.cast(self.cross_attention_layernorm(x1), self.compute_dtype)
            memory = ops.cast(ops.reshape(encoder_output, (-1, self.hidden_size)), self.compute_dtype)
            cross, cross_present = self.cross_attention(m, memory, memory, memory_mask)
            layer_present = layer_present + cross_present
            x1 = (m if self.post_layernorm_residual else x1) + cross
        o = ops.cast(self.layernorm2(x1), self.compute_dtype)
        out = (o if self.post_layernorm_residual else x1) + self.output(o)
        return ops.reshape(out, shape), layer_present


# ------------------------------------------------------------------------------------------------------- stacks
def _default_lambda(total_layers):
    """Upstream's default per-block setting: pipeline stage spread evenly, gradient fusion groups, recompute."""

    def apply(network, layer_id, offset, parallel_config, layers):
        layers = total_layers or layers
        stages = parallel_config.pipeline_stage
        if layers < stages:
            raise ConfigError(f"the model has {layers} layers, fewer than parallel_config.pipeline_stage {stages}")
        per_stage = max(layers // stages, 1)
        network.pipeline_stage = min((layer_id + offset) // per_stage, stages - 1)
        per_group = max(layers // parallel_config.gradient_aggregation_group, 1)
        network.set_comm_fusion((layer_id + offset) // per_group + 1)
        recompute = parallel_config.recompute
        if recompute.recompute and not recompute.select_recompute:
            network.recompute()
    return apply


def _stack(make_block, num_layers, lambda_func, offset, parallel_config):
    """`num_layers` blocks from `make_block()`, each given its pipeline stage / fusion group / recompute by
    `lambda_func` (upstream's default when None)."""
    blocks = nn.CellList()
    apply = lambda_func or _default_lambda(None)
    for layer_id in range(num_layers):
        block = make_block()
        apply(block, layer_id=layer_id, layers=num_layers, offset=offset, parallel_config=parallel_config)
        blocks.append(block)
    return blocks


def _stack_config(owner, parallel_config):
    if not isinstance(parallel_config, TransformerOpParallelConfig):
        raise ConfigTypeError(f"{owner}: parallel_config must be a TransformerOpParallelConfig, got "
                              f"{type(parallel_config).__name__}")
    return parallel_config.dp_mp_config


class TransformerEncoder(nn.Cell):
    """`num_layers` TransformerEncoderLayers in `blocks`; returns (hidden_states, (present of every layer))."""

    def __init__(self, batch_size, num_layers, hidden_size, ffn_hidden_size, seq_length, num_heads,
                 attention_dropout_rate=0.1, hidden_dropout_rate=0.1, hidden_act='gelu', post_layernorm_residual=False,
                 layernorm_compute_type=ms.float32, softmax_compute_type=ms.float32, param_init_type=ms.float32,
                 lambda_func=None, offset=0, use_past=False, moe_config=default_moe_config,
                 parallel_config=default_transformer_config):
        super().__init__()
        owner = self.__class__.__name__
        _positive_int(owner, num_layers=num_layers)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise ConfigTypeError(f"{owner}: offset must be a non-negative integer, got {offset!r}")
        layer_config = _stack_config(owner, parallel_config)
        self.num_layers = num_layers
        self.blocks = _stack(lambda: TransformerEncoderLayer(
            batch_size, hidden_size, ffn_hidden_size, num_heads, seq_length, attention_dropout_rate,
            hidden_dropout_rate, post_layernorm_residual, layernorm_compute_type, softmax_compute_type,
            param_init_type, hidden_act, use_past, moe_config, layer_config), num_layers, lambda_func, offset,
                             parallel_config)

    def construct(self, hidden_states, attention_mask, init_reset=True, batch_valid_length=None):
        present_layer = ()
        for block in self.blocks:
            hidden_states, present = block(hidden_states, attention_mask, init_reset, batch_valid_length)
            present_layer = present_layer + (present,)
        return hidden_states, present_layer


class TransformerDecoder(nn.Cell):
    """`num_layers` TransformerDecoderLayers in `blocks`; returns (hidden_states, (present of every layer))."""

    def __init__(self, num_layers, batch_size, hidden_size, ffn_hidden_size, src_seq_length, tgt_seq_length,
                 num_heads, attention_dropout_rate=0.1, hidden_dropout_rate=0.1, post_layernorm_residual=False,
                 layernorm_compute_type=ms.float32, softmax_compute_type=ms.float32, param_init_type=ms.float32,
                 hidden_act='gelu', lambda_func=None, use_past=False, offset=0, moe_config=default_moe_config,
                 parallel_config=default_transformer_config):
        super().__init__()
        owner = self.__class__.__name__
        _positive_int(owner, num_layers=num_layers)
        layer_config = _stack_config(owner, parallel_config)
        self.num_layers = num_layers
        self.blocks = _stack(lambda: TransformerDecoderLayer(
            hidden_size, ffn_hidden_size, num_heads, batch_size, src_seq_length, tgt_seq_length,
            attention_dropout_rate, hidden_dropout_rate, post_layernorm_residual, use_past, layernorm_compute_type,
            softmax_compute_type, param_init_type, hidden_act, moe_config, layer_config), num_layers, lambda_func,
                             offset, parallel_config)

    def construct(self, hidden_states, attention_mask, encoder_output=None, memory_mask=None, init_reset=True,
                  batch_valid_length=None):
        present_layer = ()
        for block in self.blocks:
            hidden_states, present = block(hidden_states, attention_mask, encoder_output, memory_mask, init_reset,
                                           batch_valid_length)
            present_layer = present_layer + (present,)
        return hidden_states, present_layer


class Transformer(nn.Cell):
    """An encoder (`encoder_layers`) and an optional decoder (`decoder_layers`, 0: none) over its output.
    construct(encoder_inputs, encoder_masks, decoder_inputs=None, decoder_masks=None, memory_mask=None, ...) ->
    (output, encoder presents, decoder presents or None)."""

    def __init__(self, hidden_size, batch_size, ffn_hidden_size, src_seq_length, tgt_seq_length, encoder_layers=3,
                 decoder_layers=3, num_heads=2, attention_dropout_rate=0.1, hidden_dropout_rate=0.1, hidden_act='gelu',
                 post_layernorm_residual=False, layernorm_compute_type=ms.float32, softmax_compute_type=ms.float32,
                 param_init_type=ms.float32, lambda_func=None, use_past=False, moe_config=default_moe_config,
                 parallel_config=default_transformer_config):
        super().__init__()
        owner = self.__class__.__name__
        _positive_int(owner, encoder_layers=encoder_layers)
        if not isinstance(decoder_layers, int) or isinstance(decoder_layers, bool) or decoder_layers < 0:
            raise ConfigTypeError(f"{owner}: decoder_layers must be a non-negative integer, got {decoder_layers!r}")
        _stack_config(owner, parallel_config)
        if decoder_layers > 0 and use_past:
            raise ConfigError(f"{owner}: an encoder with a decoder does not support use_past=True")
        apply = lambda_func or _default_lambda(encoder_layers + decoder_layers)
        common = dict(attention_dropout_rate=attention_dropout_rate, hidden_dropout_rate=hidden_dropout_rate,
                      hidden_act=hidden_act, post_layernorm_residual=post_layernorm_residual,
                      layernorm_compute_type=layernorm_compute_type, softmax_compute_type=softmax_compute_type,
                      param_init_type=param_init_type, lambda_func=apply, use_past=use_past,
                      moe_config=moe_config, parallel_config=parallel_config)
        self.encoder = TransformerEncoder(batch_size, encoder_layers, hidden_size, ffn_hidden_size, src_seq_length,
                                          num_heads, offset=0, **common)
        self.decoder = None
        if decoder_layers:
            self.decoder = TransformerDecoder(decoder_layers, batch_size, hidden_size, ffn_hidden_size,
                                              src_seq_length, tgt_seq_length, num_heads, offset=encoder_layers,
                                              **common)

    def construct(self, encoder_inputs, encoder_masks, decoder_inputs=None, decoder_masks=None, memory_mask=None,
                  init_reset=True, batch_valid_length=None):
        output, encoder_present = self.encoder(encoder_inputs, encoder_masks, init_reset, batch_valid_length)
        decoder_present = None
        if self.decoder is not None:
            output, decoder_present = self.decoder(decoder_inputs, decoder_masks, output, memory_mask, init_reset,
                                                   batch_valid_length)
        return output, encoder_present, decoder_present
