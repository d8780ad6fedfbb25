"""ClipGradNorm: gradients scaled down together so their global L2 norm is at most `max_norm` (upstream's cell)."""
import mindspore as ms
from mindspore import nn, ops

from mindformers.tools.errors import ConfigError

__all__ = ['ClipGradNorm']


class ClipGradNorm(nn.Cell):
    """`construct(grads)` -> (clipped grads, global norm before clipping). Each gradient is multiplied by
    min(1, max_norm / (max(norm, max_norm) + 1e-6)) in float32 and cast back to its dtype, as upstream does (so
    gradients under the limit are scaled by max_norm / (max_norm + 1e-6), not left bit-identical)."""

    def __init__(self, max_norm=1.0, use_norm=None):
        super().__init__()
        if use_norm is not None:
            raise ConfigError(f"ClipGradNorm use_norm only supports None (as upstream), got {use_norm!r}")
        if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)) or max_norm <= 0:
            raise ConfigError(f"ClipGradNorm max_norm must be a number > 0, got {max_norm!r}")
        self.clip_norm = ms.Tensor([float(max_norm)], ms.float32)

    def construct(self, x):
        squares = [ops.reshape(ops.sum(ops.square(ops.cast(g, ms.float32))), (1,)) for g in x]
        global_norm = ops.sqrt(ops.addn(squares))
        coefficient = ops.minimum(self.clip_norm / (ops.maximum(global_norm, self.clip_norm) + 1e-6), 1.0)
        clipped = tuple(ops.cast(ops.cast(g, ms.float32) * coefficient, g.dtype) for g in x)
        return clipped, global_norm
