"""CrossEntropyLoss against a NumPy reference with masks; build_loss and the MindSpore losses it registers."""
import mindspore as ms
import numpy as np
import pytest
from mindspore import nn, Tensor

from mindformers.core.loss import CrossEntropyLoss, L1Loss, MSELoss, build_loss
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister



def reference_masked_cross_entropy(logits, labels, mask):
    """float64: sum(ce * mask) / (sum(mask) + 1e-5) with ce from a log-sum-exp."""
    logits = logits.astype(np.float64)
    row_max = logits.max(axis=-1, keepdims=True)
    log_sum_exp = np.log(np.exp(logits - row_max).sum(axis=-1)) + row_max[:, 0]
    safe_labels = np.clip(labels, 0, logits.shape[-1] - 1)
    per_token = log_sum_exp - logits[np.arange(len(labels)), safe_labels]
    mask = mask.astype(np.float64)
    return (per_token * mask).sum() / (mask.sum() + 1e-5)


def _batch(seed, tokens=12, vocab=7, scale=1.0):
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=(tokens, vocab)) * scale).astype(np.float32)
    labels = rng.integers(0, vocab, size=tokens).astype(np.int32)
    mask = (rng.random(tokens) > 0.3).astype(np.float32)
    return logits, labels, mask


def test_cross_entropy_matches_numpy_reference_with_mask(graph_mode):
    logits, labels, mask = _batch(0)
    loss = CrossEntropyLoss()(Tensor(logits), Tensor(labels), Tensor(mask))
    assert loss.dtype == ms.float32 and loss.shape == ()
    np.testing.assert_allclose(loss.asnumpy(), reference_masked_cross_entropy(logits, labels, mask), rtol=1e-6)


def test_cross_entropy_is_stable_for_huge_logits(graph_mode):
    logits, labels, mask = _batch(1, scale=1e4)
    loss = CrossEntropyLoss()(Tensor(logits), Tensor(labels), Tensor(mask)).asnumpy()
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, reference_masked_cross_entropy(logits, labels, mask), rtol=1e-5)


def test_cross_entropy_accepts_float16_logits_and_int_mask(graph_mode):
    logits, labels, mask = _batch(2)
    loss = CrossEntropyLoss()(Tensor(logits.astype(np.float16)), Tensor(labels), Tensor(mask.astype(np.int32)))
    assert loss.dtype == ms.float32
    expected = reference_masked_cross_entropy(logits.astype(np.float16), labels, mask)
    np.testing.assert_allclose(loss.asnumpy(), expected, rtol=1e-5)


def test_all_zero_mask_gives_zero(graph_mode):
    logits, labels, _ = _batch(3)
    loss = CrossEntropyLoss()(Tensor(logits), Tensor(labels), Tensor(np.zeros(len(labels), np.float32)))
    assert loss.asnumpy() == 0.0


def test_masked_ignore_label_does_not_change_the_loss(graph_mode):
    logits, labels, mask = _batch(4)
    labels[[2, 5]] = -100
    mask[[2, 5]] = 0.0
    loss = CrossEntropyLoss()(Tensor(logits), Tensor(labels), Tensor(mask)).asnumpy()
    np.testing.assert_allclose(loss, reference_masked_cross_entropy(logits, labels, mask), rtol=1e-6)


def test_per_token_loss_returns_numerator_and_token_count(graph_mode):
    logits, labels, mask = _batch(5)
    numerator, count = CrossEntropyLoss(calculate_per_token_loss=True)(Tensor(logits), Tensor(labels), Tensor(mask))
    assert count.asnumpy() == mask.sum()
    np.testing.assert_allclose(numerator.asnumpy() / (count.asnumpy() + 1e-5),
                               reference_masked_cross_entropy(logits, labels, mask), rtol=1e-6)


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_count():
    logits, labels, mask = _batch(6, tokens=4, vocab=5)
    grad = ms.grad(CrossEntropyLoss())(Tensor(logits), Tensor(labels), Tensor(mask)).asnumpy()
    softmax = np.exp(logits - logits.max(-1, keepdims=True))
    softmax /= softmax.sum(-1, keepdims=True)
    expected = (softmax - np.eye(5)[labels]) * mask[:, None] / (mask.sum() + 1e-5)
    np.testing.assert_allclose(grad, expected, atol=1e-6)


def test_build_loss_resolves_cross_entropy_to_the_mindformers_class():
    assert MindFormerRegister.get_cls(MindFormerModuleType.LOSS, 'CrossEntropyLoss') is CrossEntropyLoss
    assert isinstance(build_loss({'type': 'CrossEntropyLoss'}, default_args={'parallel_config': None}),
                      CrossEntropyLoss)


@pytest.mark.parametrize("name,expected_cls", [("SoftmaxCrossEntropyWithLogits", nn.SoftmaxCrossEntropyWithLogits),
                                               ("SmoothL1Loss", nn.SmoothL1Loss),
                                               # upstream registers its own under MindSpore's names, as here
                                               ("MSELoss", MSELoss), ("L1Loss", L1Loss)])
def test_build_loss_builds_mindspore_losses(name, expected_cls):
    assert type(build_loss(class_name=name)) is expected_cls  # pylint: disable=unidiomatic-typecheck
    assert type(build_loss({'type': name})) is expected_cls  # pylint: disable=unidiomatic-typecheck


def test_build_loss_without_config_or_class_name_returns_none():
    assert build_loss() is None
