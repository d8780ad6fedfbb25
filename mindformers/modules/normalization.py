"""RMSNorm composed from primitive ops (the fused RmsNorm kernel has no CPU implementation)."""
from mindspore import nn, ops, Parameter
from mindspore.common.initializer import initializer

from mindformers.models.utils import runtime_dtype


class RMSNorm(nn.Cell):
    """y = x / sqrt(mean(x^2) + eps) * weight, computed in `compute_type` (float32 by default)."""

    def __init__(self, dim, eps=1e-6, compute_type='float32', param_init_type='float32'):
        super().__init__()
        self.eps = eps
        self.compute_type = runtime_dtype(compute_type, 'layernorm_compute_type')
        self.weight = Parameter(initializer('ones', (dim,), runtime_dtype(param_init_type, 'param_init_type')),
                                name='weight')

    def construct(self, x):
        original = x.dtype
        x = ops.cast(x, self.compute_type)
        variance = ops.mean(ops.square(x), -1, keep_dims=True)
        x = x * ops.rsqrt(variance + self.eps)
        return ops.cast(x * ops.cast(self.weight, self.compute_type), original)
