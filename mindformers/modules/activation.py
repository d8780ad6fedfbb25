"""Activation functions by name, one formula each (YAML `hidden_act`)."""
from mindspore import nn, ops

from mindformers.tools.errors import ConfigError

_TWO_SQRT_2_OVER_PI = 1.5957691216057308   # 2 * sqrt(2 / pi)


class GELU(nn.Cell):
    """x * Phi(x). `approximate=True` is the tanh form (GPT-2 `gelu_new`, BLOOM, and MindSpore's nn.GELU
    default, which is what upstream YAMLs mean by `gelu`); False is the exact erf form (BERT, ViT)."""

    def __init__(self, approximate=True):
        super().__init__()
        self.approximate = approximate

    def construct(self, x):
        if self.approximate:
            # 0.5 * (1 + tanh(z)) == sigmoid(2 z): the same function as ops.gelu(x, 'tanh') (within 6e-7), but
            # MindSpore's CPU GeLU kernel and its gradient are 4-5x slower than these vectorised element-wise ops
            return x * ops.sigmoid(_TWO_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
        return ops.gelu(x, approximate='none')


class FastGelu(nn.Cell):
    """MindSpore's FastGeLU: x / (1 + exp(-1.702 |x|)) * exp(0.851 (x - |x|))."""

    def construct(self, x):
        return ops.fast_gelu(x)


class QuickGELU(nn.Cell):
    """x * sigmoid(1.702 x) (CLIP)."""

    def construct(self, x):
        return x * ops.sigmoid(1.702 * x)


class SiLU(nn.Cell):
    def construct(self, x):
        return x * ops.sigmoid(x)


class ReLU(nn.Cell):
    def construct(self, x):
        return ops.relu(x)


_ACTIVATIONS = {
    'gelu': lambda: GELU(approximate=True),
    'gelu_tanh': lambda: GELU(approximate=True),
    'gelu_new': lambda: GELU(approximate=True),
    'gelu_pytorch_tanh': lambda: GELU(approximate=True),
    'bloom_gelu': lambda: GELU(approximate=True),
    'gelu_exact': lambda: GELU(approximate=False),
    'gelu_erf': lambda: GELU(approximate=False),
    'fast_gelu': FastGelu,
    'quick_gelu': QuickGELU,
    'silu': SiLU,
    'swish': SiLU,
    'relu': ReLU,
    # the rest of upstream's get_activation table: MindSpore's own cells
    'relu6': nn.ReLU6,
    'tanh': nn.Tanh,
    'sigmoid': nn.Sigmoid,
    'hswish': nn.HSwish,
    'hsigmoid': nn.HSigmoid,
    'elu': nn.ELU,
    'logsigmoid': nn.LogSigmoid,
    'prelu': nn.PReLU,
    'leakyrelu': lambda: nn.LeakyReLU(alpha=0.2),
    'softmin': nn.Softmin,
    'softmax': nn.Softmax,
    'logsoftmax': nn.LogSoftmax,
    'tanhshrink': nn.Tanhshrink,
    'hardtanh': nn.Hardtanh,
    'softsign': nn.Softsign,
    'softshrink': nn.SoftShrink,
    'hshrink': nn.HShrink,
    'mish': nn.Mish,
}


def get_activation(name):
    """A new activation cell for `name` (case-insensitive; None stays None); unknown names are a ConfigError listing
    the known ones."""
    if name is None or isinstance(name, nn.Cell):
        return name
    key = str(name).lower()
    if key not in _ACTIVATIONS:
        raise ConfigError(f"unknown activation '{name}'; known: {', '.join(sorted(_ACTIVATIONS))}")
    return _ACTIVATIONS[key]()
