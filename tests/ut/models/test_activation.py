"""GELU: the tanh form (computed as x * sigmoid(2z)) and the exact form against float64 NumPy, value and gradient."""
import math

import numpy as np
import mindspore as ms
from mindspore import nn, ops

from mindformers.modules.activation import get_activation


def _reference(x, approximate):
    if approximate:
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
        value = 0.5 * x * (1 + np.tanh(inner))
        grad = 0.5 * (1 + np.tanh(inner)) + 0.5 * x * (1 - np.tanh(inner) ** 2) * math.sqrt(2 / math.pi) * (
            1 + 3 * 0.044715 * x ** 2)
        return value, grad
    erf = np.vectorize(math.erf)(x / math.sqrt(2))
    return 0.5 * x * (1 + erf), 0.5 * (1 + erf) + x * np.exp(-x ** 2 / 2) / math.sqrt(2 * math.pi)


class _Grad(nn.Cell):
    def __init__(self, cell):
        super().__init__()
        self.grad = ops.GradOperation()(cell)

    def construct(self, x):
        return self.grad(x)


def test_gelu_forms_match_their_formulas_in_value_and_gradient():
    x = np.linspace(-8.0, 8.0, 4001)
    for name, approximate in (('gelu', True), ('gelu_new', True), ('gelu_exact', False)):
        cell = get_activation(name)
        value, grad = _reference(x, approximate)
        got = cell(ms.Tensor(x, ms.float32)).asnumpy()
        got_grad = _Grad(cell)(ms.Tensor(x, ms.float32)).asnumpy()
        np.testing.assert_allclose(got, value, atol=2e-6, err_msg=name)   # float32 rounding of |x| <= 8
        np.testing.assert_allclose(got_grad, grad, atol=2e-6, err_msg=name)
