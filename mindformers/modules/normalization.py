"""RMSNorm and LayerNorm composed from primitive ops (the fused RmsNorm kernel has no CPU implementation)."""
from mindspore import nn, ops, Parameter
from mindspore.common.initializer import initializer

from mindformers.tools.dtype import runtime_dtype


class RMSNorm(nn.Cell):
    """y = x / sqrt(mean(x^2) + eps) * weight, computed in `compute_type` (float32 by default)."""

    def __init__(self, dim, eps=1e-6, compute_type='float32', param_init_type='float32'):
        super().__init__()
        self.eps = eps
        self.compute_type = runtime_dtype(compute_type, 'layernorm_compute_type')
        self.weight = Parameter(initializer('ones', (dim,), runtime_dtype(param_init_type, 'param_init_type')),
                                name='weight')
        self.square = ops.Square()
        self.mean = ops.ReduceMean(keep_dims=True)
        self.add_eps = ops.Add()
        self.rsqrt = ops.Rsqrt()
        self.mul = ops.Mul()
        self.mul_weight = ops.Mul()

    def shard(self, strategy_in):
        """strategy_in: how (batch, seq, hidden) activations split, e.g. (dp, 1, 1)."""
        self.square.shard((strategy_in,))
        self.mean.shard((strategy_in,))
        self.add_eps.shard((strategy_in, ()))
        self.rsqrt.shard((strategy_in,))
        self.mul.shard((strategy_in, strategy_in))
        self.mul_weight.shard((strategy_in, (1,)))
        return self

    def construct(self, x):
        original = x.dtype
        x = ops.cast(x, self.compute_type)
        variance = self.mean(self.square(x), -1)
        x = self.mul(x, self.rsqrt(self.add_eps(variance, self.eps)))
        return ops.cast(self.mul_weight(x, ops.cast(self.weight, self.compute_type)), original)


class LayerNorm(nn.Cell):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis (the last len(dim) axes when `dim` is a
    shape), computed in `compute_type` (float32 by default) and returned in the input's dtype. Params `weight`
    (ones) and `bias` (zeros)."""

    def __init__(self, dim, eps=1e-5, compute_type='float32', param_init_type='float32'):
        super().__init__()
        self.eps = eps
        self.compute_type = runtime_dtype(compute_type, 'layernorm_compute_type')
        shape = tuple(dim) if isinstance(dim, (list, tuple)) else (dim,)
        self._init_params(shape, runtime_dtype(param_init_type, 'param_init_type'))
        self.layer_norm = ops.LayerNorm(begin_norm_axis=-len(shape), begin_params_axis=-len(shape), epsilon=eps)

    def _init_params(self, shape, dtype):
        self.weight = Parameter(initializer('ones', shape, dtype), name='weight')
        self.bias = Parameter(initializer('zeros', shape, dtype), name='bias')

    def shard(self, strategy_in):
        """strategy_in: how (batch, seq, hidden) activations split, e.g. (dp, 1, 1)."""
        self.layer_norm.shard((strategy_in, (1,), (1,)))
        return self

    def _normalize(self, x, weight, bias):
        original = x.dtype
        out, _, _ = self.layer_norm(ops.cast(x, self.compute_type), ops.cast(weight, self.compute_type),
                                    ops.cast(bias, self.compute_type))
        return ops.cast(out, original)

    def construct(self, x):
        return self._normalize(x, self.weight, self.bias)
