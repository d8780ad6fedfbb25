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
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis, computed in `compute_type`
    (float32 by default) and returned in the input's dtype. Params `weight` (ones) and `bias` (zeros)."""

    def __init__(self, dim, eps=1e-5, compute_type='float32', param_init_type='float32'):
        super().__init__()
        self.eps = eps
        self.compute_type = runtime_dtype(compute_type, 'layernorm_compute_type')
        param_dtype = runtime_dtype(param_init_type, 'param_init_type')
        self.weight = Parameter(initializer('ones', (dim,), param_dtype), name='weight')
        self.bias = Parameter(initializer('zeros', (dim,), param_dtype), name='bias')
        self.layer_norm = ops.LayerNorm(begin_norm_axis=-1, begin_params_axis=-1, epsilon=eps)

    def shard(self, strategy_in):
        """strategy_in: how (batch, seq, hidden) activations split, e.g. (dp, 1, 1)."""
        self.layer_norm.shard((strategy_in, (1,), (1,)))
        return self

    def construct(self, x):
        original = x.dtype
        out, _, _ = self.layer_norm(ops.cast(x, self.compute_type), ops.cast(self.weight, self.compute_type),
                                    ops.cast(self.bias, self.compute_type))
        return ops.cast(out, original)

