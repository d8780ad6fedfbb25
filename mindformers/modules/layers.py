"""Linear: a dense layer with (out, in) weights, computing in a chosen dtype."""
import mindspore as ms
from mindspore import nn, ops, Parameter
from mindspore.common.initializer import initializer

from mindformers.tools.dtype import runtime_dtype


class Linear(nn.Cell):
    """y = x @ W^T (+ b). `weight` is (out_channels, in_channels), like upstream and nn.Dense."""

    def __init__(self, in_channels, out_channels, has_bias=True, weight_init='normal', bias_init='zeros',
                 transpose_b=True, param_init_type='float32', compute_dtype='float32', activation=None):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.has_bias = has_bias
        self.transpose_b = transpose_b
        param_dtype = runtime_dtype(param_init_type, 'param_init_type')
        shape = (out_channels, in_channels) if transpose_b else (in_channels, out_channels)
        if isinstance(weight_init, str) and weight_init == 'normal':
            weight_init = ms.common.initializer.Normal(sigma=0.02)
        self.weight = Parameter(initializer(weight_init, shape, param_dtype), name='weight')
        if has_bias:
            self.bias = Parameter(initializer(bias_init, (out_channels,), param_dtype), name='bias')
        self.compute_dtype = runtime_dtype(compute_dtype, 'compute_dtype')
        self.matmul = ops.MatMul(transpose_b=transpose_b)
        self.bias_add = ops.Add()
        self.activation = activation
        self.strategy_matmul = None
        self.strategy_bias = None

    def shard(self, strategy_matmul, strategy_bias=None):
        """Declare how the matmul (and bias add) split across devices, e.g. ((dp, 1), (mp, 1)).
        Strategies take effect under semi/auto parallel (Ascend); elsewhere they are kept as metadata."""
        self.strategy_matmul = strategy_matmul
        self.matmul.shard(strategy_matmul)
        if self.has_bias and strategy_bias is not None:
            self.strategy_bias = strategy_bias
            self.bias_add.shard(strategy_bias)
        return self

    def construct(self, x):
        out_shape = x.shape[:-1] + (self.out_channels,)
        x = ops.reshape(x, (-1, self.in_channels))
        x = self.matmul(ops.cast(x, self.compute_dtype), ops.cast(self.weight, self.compute_dtype))
        if self.has_bias:
            x = self.bias_add(x, ops.cast(self.bias, self.compute_dtype))
        if self.activation is not None:
            x = self.activation(x)
        return ops.reshape(x, out_shape)


