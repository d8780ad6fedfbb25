"""Upstream's basic layers: Linear (a dense layer with (out, in) weights, computing in a chosen dtype), Dropout,
LayerNorm (gamma/beta) and FixedSparseAttention."""
import numpy as np
import mindspore as ms
from mindspore import nn, ops, Parameter, Tensor
from mindspore.common.initializer import initializer

from mindformers.modules import normalization
from mindformers.modules.activation import get_activation
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.errors import ConfigError, ConfigTypeError


def attention_probs(scores, bias, softmax, softmax_dtype, dtype, dropout=None):
    """softmax(scores + bias) over the keys, in `softmax_dtype`, returned in `dtype`, then `dropout` (a Cell or None).
    bias None: every query sees every key (vision encoders)."""
    scores = ops.cast(scores, softmax_dtype)
    if bias is not None:
        scores = scores + bias
    probs = ops.cast(softmax(scores), dtype)
    if dropout is not None:
        probs = dropout(probs)
    return probs


class Linear(nn.Cell):
    """y = activation(x @ W^T + b), computed in `compute_dtype` and returned in the input's dtype. `weight` is
    (out_channels, in_channels) (with `transpose_b=False`, (in_channels, out_channels)). Upstream's signature:
    `activation` is a name (see modules.activation.get_activation), a Cell class or a Cell. `expert_num` > 1
    (MoE experts as a batch of matrices) is not implemented here: it is refused in one line."""

    def __init__(self, in_channels, out_channels, weight_init='normal', bias_init='zeros', has_bias=True,
                 activation=None, transpose_b=True, expert_num=1, outer_batch=1, expert_group_size=None,
                 param_init_type='float32', compute_dtype='float32', skip_redistribution=False):
        super().__init__()
        for name, value in (('in_channels', in_channels), ('out_channels', out_channels),
                            ('outer_batch', outer_batch)):
            _check_positive_int(value, name, 'Linear')
        if expert_num != 1:
            raise ConfigError(f"Linear: expert_num {expert_num!r} (MoE experts) is not supported; use expert_num=1")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.has_bias = has_bias
        self.transpose_b = transpose_b
        self.skip_redistribution = skip_redistribution
        param_dtype = runtime_dtype(param_init_type, 'param_init_type')
        shape = (out_channels, in_channels) if transpose_b else (in_channels, out_channels)
        if isinstance(weight_init, str) and weight_init == 'normal':
            weight_init = ms.common.initializer.Normal(sigma=0.02)
        _check_init_shape(weight_init, shape, 'weight_init')
        self.weight = Parameter(initializer(weight_init, shape, param_dtype), name='weight')
        if has_bias:
            _check_init_shape(bias_init, (out_channels,), 'bias_init')
            self.bias = Parameter(initializer(bias_init, (out_channels,), param_dtype), name='bias')
        self.compute_dtype = runtime_dtype(compute_dtype, 'compute_dtype')
        self.matmul = ops.MatMul(transpose_b=transpose_b)
        self.bias_add = ops.Add()
        self.activation = _activation(activation)
        self.strategy_matmul = None
        self.strategy_bias = None

    def shard(self, strategy_matmul, strategy_bias=None, strategy_activation=None, out_strategy_matmul=None):
        """Declare how the matmul (and bias add) split across devices, e.g. ((dp, 1), (mp, 1)).
        Strategies take effect under semi/auto parallel (Ascend); elsewhere they are kept as metadata."""
        del strategy_activation, out_strategy_matmul          # the activation runs element-wise on the output split
        self.strategy_matmul = strategy_matmul
        self.matmul.shard(strategy_matmul)
        if self.has_bias and strategy_bias is not None:
            self.strategy_bias = strategy_bias
            self.bias_add.shard(strategy_bias)
        return self

    def construct(self, x):
        out_shape = x.shape[:-1] + (self.out_channels,)
        original = x.dtype
        x = ops.reshape(x, (-1, self.in_channels))
        x = self.matmul(ops.cast(x, self.compute_dtype), ops.cast(self.weight, self.compute_dtype))
        if self.has_bias:
            x = self.bias_add(x, ops.cast(self.bias, self.compute_dtype))
        if self.activation is not None:
            x = self.activation(x)
        if original != self.compute_dtype:
            x = ops.cast(x, original)
        return ops.reshape(x, out_shape)


def _check_positive_int(value, name, owner):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigTypeError(f"{owner}: {name} must be a positive integer, got {value!r}")


def _check_init_shape(init, shape, name):
    if isinstance(init, Tensor) and tuple(init.shape) != tuple(shape):
        raise ConfigError(f"Linear: {name} tensor has shape {tuple(init.shape)}, expected {tuple(shape)}")


def _activation(activation):
    """None, a name, a Cell class (built without arguments) or a Cell."""
    if activation is None or isinstance(activation, nn.Cell):
        return activation
    if isinstance(activation, str):
        return get_activation(activation)
    if isinstance(activation, type) and issubclass(activation, nn.Cell):
        return activation()
    raise ConfigError(f"Linear: activation must be a name, an nn.Cell class or an nn.Cell, got {activation!r}")


class Dropout(nn.Cell):
    """Upstream's Dropout: `keep_prob` (not the drop probability) of the elements are kept and scaled by
    1 / keep_prob while training; the identity in eval or when keep_prob is 1."""

    def __init__(self, keep_prob=0.5, dtype=ms.float32):
        super().__init__()
        if not isinstance(keep_prob, float):
            raise ConfigTypeError(f"Dropout: keep_prob must be a float in (0, 1], got {keep_prob!r}")
        if not 0 < keep_prob <= 1:
            raise ConfigError(f"Dropout: keep_prob must be in (0, 1], got {keep_prob}")
        self.keep_prob = keep_prob
        self.dtype = dtype

    def extend_repr(self):
        return f"keep_prob={self.keep_prob}"

    def shard(self, strategy):
        del strategy                                           # element-wise: follows its input's split
        return self

    def construct(self, x):
        if not self.training or self.keep_prob == 1.0:
            return x
        return ops.dropout(x, p=1.0 - self.keep_prob, training=True)


class LayerNorm(normalization.LayerNorm):
    """Upstream's LayerNorm: the same normalisation as the families' LayerNorm, with upstream's signature and
    parameter names `gamma` (ones) and `beta` (zeros) of shape `normalized_shape` (the last axes)."""

    def __init__(self, normalized_shape, eps=1e-5, param_init_type=ms.float32, is_self_defined=False):
        if runtime_dtype_name(param_init_type) not in ('float32', 'float16', 'bfloat16'):
            raise ConfigTypeError(f"LayerNorm: param_init_type must be float32, float16 or bfloat16, got "
                                  f"{param_init_type}")
        super().__init__(normalized_shape, eps=eps, param_init_type=param_init_type)
        self.is_self_defined = is_self_defined

    def _init_params(self, shape, dtype):
        self.gamma = Parameter(initializer('ones', shape, dtype), name='gamma', parallel_optimizer=False)
        self.beta = Parameter(initializer('zeros', shape, dtype), name='beta', parallel_optimizer=False)

    def construct(self, x):
        return self._normalize(x, self.gamma, self.beta)


def runtime_dtype_name(dtype):
    """'float16' for ms.float16 or 'fp16'/'float16'; the name as given for anything else."""
    names = {ms.float32: 'float32', ms.float16: 'float16', ms.bfloat16: 'bfloat16'}
    if isinstance(dtype, str):
        return {'fp32': 'float32', 'fp16': 'float16', 'bf16': 'bfloat16'}.get(dtype.lower(), dtype.lower())
    return names.get(dtype, str(dtype))


class FixedSparseAttention(nn.Cell):
    """The "fixed" sparse attention of Sparse Transformers as upstream defines it (seq_length 1024, blocks of 64,
    4 global patterns). Every query attends causally inside its own 64-token block (padding from the last row of
    `attention_mask`), and to 16 summary keys of every earlier block; head h uses offsets
    (h % 4) * 16 .. + 16 inside each block (upstream's Ascend kernel picks its own stripes). Scores are
    q.k / size_per_head, as upstream's. Computed densely with the pattern as an additive bias, so it runs on
    every device. q, k, v: (batch_size, seq_length, num_heads * size_per_head); mask (batch_size, seq, seq),
    1 = attend; output like q."""

    def __init__(self, batch_size, num_heads, size_per_head, block_size, seq_length=1024,
                 num_different_global_patterns=4, parallel_config=None):
        super().__init__()
        for name, value in (('batch_size', batch_size), ('num_heads', num_heads), ('size_per_head', size_per_head),
                            ('block_size', block_size), ('seq_length', seq_length),
                            ('num_different_global_patterns', num_different_global_patterns)):
            _check_positive_int(value, name, 'FixedSparseAttention')
        mp = getattr(parallel_config, 'model_parallel', 1)
        dp = getattr(parallel_config, 'data_parallel', 1)
        for ok, message in ((num_heads % mp == 0, f"num_heads {num_heads} must be a multiple of "
                                                  f"parallel_config.model_parallel {mp}"),
                            (batch_size % dp == 0, f"batch_size {batch_size} must be a multiple of "
                                                   f"parallel_config.data_parallel {dp}"),
                            (seq_length == 1024, f"seq_length must be 1024, got {seq_length}"),
                            (block_size == 64, f"block_size must be 64, got {block_size}"),
                            (num_different_global_patterns == 4,
                             f"num_different_global_patterns must be 4, got {num_different_global_patterns}"),
                            (size_per_head in (64, 128), f"size_per_head must be 64 or 128, got {size_per_head}")):
            if not ok:
                raise ConfigError(f"FixedSparseAttention: {message}")
        self.batch_size = batch_size
        self.num_heads = num_heads
        self.size_per_head = size_per_head
        self.seq_length = seq_length
        self.hidden_size = num_heads * size_per_head
        structure, local = fixed_sparse_pattern(num_heads, seq_length, block_size, num_different_global_patterns)
        self.structure_bias = Tensor(np.where(structure, 0.0, -1e9).astype(np.float32))       # (heads, S, S)
        self.local = Tensor(local.astype(np.float32))                                         # (S, S)
        self.batch_matmul_t = ops.BatchMatMul(transpose_b=True)
        self.batch_matmul = ops.BatchMatMul()
        self.softmax = ops.Softmax()

    def _heads(self, x):
        x = ops.reshape(x, (self.batch_size, self.seq_length, self.num_heads, self.size_per_head))
        return ops.transpose(ops.cast(x, ms.float32), (0, 2, 1, 3))

    def construct(self, q, k, v, attention_mask):
        expected = (self.batch_size, self.seq_length, self.hidden_size)
        for name, tensor in (('q', q), ('k', k), ('v', v)):
            if tuple(tensor.shape) != expected:
                raise ValueError(f"FixedSparseAttention: {name} must have shape {expected}, got {tensor.shape}")
        if tuple(attention_mask.shape) != (self.batch_size, self.seq_length, self.seq_length):
            raise ValueError(f"FixedSparseAttention: attention_mask must have shape "
                             f"{(self.batch_size, self.seq_length, self.seq_length)}, got {attention_mask.shape}")
        keep = ops.cast(attention_mask[:, self.seq_length - 1, :], ms.float32)               # (b, S) padding
        pair = ops.expand_dims(keep, 2) * ops.expand_dims(keep, 1)                           # (b, S, S)
        bias = self.structure_bias + ops.expand_dims(self.local * (1.0 - pair) * -10000.0, 1)
        scores = self.batch_matmul_t(self._heads(q), self._heads(k)) / float(self.size_per_head)
        probs = attention_probs(scores, bias, self.softmax, ms.float32, ms.float32)
        context = self.batch_matmul(probs, self._heads(v))                                  # (b, h, S, d)
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), expected)
        return ops.cast(context, q.dtype)


def fixed_sparse_pattern(num_heads, seq_length, block_size, patterns):
    """(allowed (heads, S, S) bool, local (S, S) bool): local = same block and key <= query; allowed = local or a
    summary key (offsets (h % patterns) * stripe .. + stripe of every strictly earlier block, stripe =
    block_size // (patterns * ... ) = 16 for upstream's 64 / 4)."""
    stripe = block_size // patterns
    positions = np.arange(seq_length)
    query_block = positions[:, None] // block_size
    key_block = positions[None, :] // block_size
    local = (query_block == key_block) & (positions[None, :] <= positions[:, None])
    allowed = np.empty((num_heads, seq_length, seq_length), bool)
    for head in range(num_heads):
        offset = positions % block_size - (head % patterns) * stripe
        summary = (offset >= 0) & (offset < stripe)
        allowed[head] = local | (summary[None, :] & (key_block < query_block))
    return allowed, local
