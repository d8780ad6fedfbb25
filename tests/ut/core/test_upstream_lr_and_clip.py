"""Upstream's WarmUpDecayLR and LearningRateWiseLayer against MindSpore's own schedules (what upstream composes
them from), and ClipGradNorm against torch's clip_grad_norm_; bad arguments are one line."""
import math

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn

from mindformers.core import ClipGradNorm, LearningRateWiseLayer, WarmUpDecayLR, build_lr
from mindformers.tools.errors import ConfigError

STEPS = [0, 1, 3, 4, 5, 9, 17, 30, 45]


def _values(schedule):
    return np.array([float(schedule(ms.Tensor(step, ms.int32)).asnumpy()) for step in STEPS])


@pytest.mark.parametrize('use_cosine', [False, True])
def test_warm_up_decay_lr_is_warm_up_then_mindsporess_decay_at_the_global_step(use_cosine):
    schedule = WarmUpDecayLR(1e-3, 1e-5, 5, 30, power=2.0, use_cosine=use_cosine)
    warm = nn.WarmUpLR(1e-3, 5)
    decay = nn.CosineDecayLR(1e-5, 1e-3, 30) if use_cosine else nn.PolynomialDecayLR(1e-3, 1e-5, 30, 2.0)
    expected = [float((warm if step < 5 else decay)(ms.Tensor(step, ms.int32)).asnumpy()) for step in STEPS]
    got = _values(schedule)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose([schedule.get_lr(step) for step in STEPS], expected, rtol=1e-5, atol=1e-12)
    assert got[0] == 0 and got[-1] == pytest.approx(1e-5)       # step 45 is past decay_steps: the end value
    built = build_lr({'type': 'WarmUpDecayLR', 'learning_rate': 1e-3, 'end_learning_rate': 1e-5,
                      'warmup_steps': 5, 'decay_steps': 30, 'power': 2.0, 'use_cosine': use_cosine,
                      'total_steps': 100})           # what a Trainer adds to every schedule
    np.testing.assert_array_equal(_values(built), got)


def test_learning_rate_wise_layer_scales_its_base_schedule():
    base = WarmUpDecayLR(2e-3, 0.0, 0, 40)
    layer = LearningRateWiseLayer(base, 0.65 ** 3)
    np.testing.assert_allclose(_values(layer), _values(base) * 0.65 ** 3, rtol=1e-6)
    with pytest.raises(ConfigError, match="LearningRateWiseLayer base_lr must be a learning-rate schedule, got float"):
        LearningRateWiseLayer(1e-3, 0.5)
    with pytest.raises(ConfigError, match="decay_steps must be a positive integer, got 0"):
        WarmUpDecayLR(1e-3, 0.0, 0, 0)


@pytest.mark.parametrize('max_norm', [0.5, 50.0])
def test_clip_grad_norm_equals_torch_above_the_limit_and_keeps_upstreams_factor_below(max_norm):
    torch = pytest.importorskip('torch')
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(shape).astype(np.float32) for shape in ((4, 3), (7,), (2, 2, 2))]
    norm = math.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads))
    clipped, global_norm = ClipGradNorm(max_norm)(tuple(ms.Tensor(g) for g in grads))
    assert float(global_norm.asnumpy()[0]) == pytest.approx(norm, rel=1e-6)
    params = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    for param, grad in zip(params, grads):
        param.grad = torch.tensor(grad)
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    for got, param, grad in zip(clipped, params, grads):
        if norm > max_norm:                           # scaled to the limit: torch's result
            np.testing.assert_allclose(got.asnumpy(), param.grad.numpy(), rtol=1e-5)
        else:                                         # under it: upstream's max_norm / (max_norm + 1e-6)
            np.testing.assert_allclose(got.asnumpy(), grad * max_norm / (max_norm + 1e-6), rtol=1e-6)
    with pytest.raises(ConfigError, match="ClipGradNorm max_norm must be a number > 0, got 0"):
        ClipGradNorm(0)
