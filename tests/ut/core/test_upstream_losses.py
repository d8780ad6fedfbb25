"""Upstream's SoftTargetCrossEntropy, MSELoss, L1Loss and CompareLoss against torch and hand-written numpy, in
GRAPH and PYNATIVE mode; a bad reduction is one line."""
import mindspore as ms
import numpy as np
import pytest

from mindformers.core import CompareLoss, L1Loss, MSELoss, SoftTargetCrossEntropy
from mindformers.core.loss import build_loss
from mindformers.tools.errors import ConfigError

torch = pytest.importorskip('torch')
RNG = np.random.default_rng(0)


@pytest.fixture(params=[ms.GRAPH_MODE, ms.PYNATIVE_MODE], ids=['graph', 'pynative'])
def mode(request):
    previous = ms.get_context('mode')
    ms.set_context(mode=request.param)
    yield request.param
    ms.set_context(mode=previous)


def test_soft_target_cross_entropy_equals_torch_and_the_registry_builds_it(mode):
    logits = RNG.standard_normal((6, 10)).astype(np.float32) * 2
    target = RNG.dirichlet(np.ones(10), 6).astype(np.float32)             # soft labels (mixup, smoothing)
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(target)).item()
    for loss in (SoftTargetCrossEntropy(), build_loss({'type': 'SoftTargetCrossEntropy'})):
        assert float(loss(ms.Tensor(logits), ms.Tensor(target)).asnumpy()) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_l1_loss_equals_torch(mode, reduction):
    pred, target = (RNG.standard_normal((2, 3, 4, 5)).astype(np.float32) for _ in range(2))
    expected = torch.nn.functional.l1_loss(torch.tensor(pred), torch.tensor(target), reduction=reduction).numpy()
    got = L1Loss(reduction)(ms.Tensor(pred), ms.Tensor(target)).asnumpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ConfigError, match="L1Loss reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        L1Loss('avg')


@pytest.mark.parametrize('norm_pixel_loss', [True, False])
def test_mse_loss_averages_the_masked_patches_of_normalised_targets(mode, norm_pixel_loss):
    pred, target = RNG.standard_normal((2, 6, 12)).astype(np.float32), RNG.random((2, 6, 12)).astype(np.float32)
    mask = np.array([[1, 0, 1, 1, 0, 0], [0, 1, 0, 0, 1, 1]], np.float32)
    goal = target
    if norm_pixel_loss:
        goal = (target - target.mean(-1, keepdims=True)) / np.sqrt(target.var(-1, keepdims=True) + 1e-6)
    expected = (((pred - goal) ** 2).mean(-1) * mask).sum() / mask.sum()
    got = MSELoss(norm_pixel_loss)(ms.Tensor(pred), ms.Tensor(target), ms.Tensor(mask)).asnumpy()
    assert float(got) == pytest.approx(float(expected), rel=1e-5)


def test_compare_loss_of_chosen_and_rejected_rewards(mode):
    pairs, length = 3, 7
    rewards = RNG.standard_normal((2 * pairs, length)).astype(np.float32)
    mask = (RNG.random((pairs, length)) > 0.3).astype(np.float32)
    mask[:, 0] = 1
    end = np.array([5, 7, 2, 6, 3, 4], np.int32)
    loss, chosen_end, rejected_end = CompareLoss()(ms.Tensor(rewards), ms.Tensor(mask), ms.Tensor(end))
    chosen, rejected = rewards[:pairs], rewards[pairs:]
    per_position = np.log1p(np.exp(-(chosen * mask - rejected * mask)))        # -log sigmoid
    expected = ((per_position * mask).sum(-1) / mask.sum(-1)).mean()
    assert float(loss.asnumpy()) == pytest.approx(float(expected), rel=1e-5)
    last = np.maximum(end[:pairs], end[pairs:]) - 1                            # [5, 6, 3]
    np.testing.assert_array_equal(chosen_end.asnumpy()[:, 0], chosen[np.arange(pairs), last])
    np.testing.assert_array_equal(rejected_end.asnumpy()[:, 0], rejected[np.arange(pairs), last])
