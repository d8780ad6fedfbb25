"""MFTrainOneStepCell and DynamicLossScale: accumulation, clipping, loss scaling, overflow skip, returned lr."""
import mindspore as ms
import numpy as np
import pytest
from mindspore import nn, ops, Parameter, Tensor

from mindformers.core.lr import build_lr
from mindformers.tools.errors import ConfigError
from mindformers.wrapper import DynamicLossScale, MFTrainOneStepCell, build_wrapper

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3)).astype(np.float32)
Y = RNG.standard_normal((4, 1)).astype(np.float32)
W0 = np.array([[0.1, -0.2, 0.3]], dtype=np.float32)  # (out=1, in=3)
CLEAN = np.zeros(4, dtype=np.float32)
POISONED = np.array([0, 0, 0, 1], dtype=np.float32)  # the last sample's loss becomes inf



@pytest.fixture(name="mode", params=[ms.GRAPH_MODE, ms.PYNATIVE_MODE], ids=["graph", "pynative"])
def fixture_mode(request):
    previous = ms.get_context("mode")
    ms.set_context(mode=request.param)
    yield request.param
    ms.set_context(mode=previous)


class SquaredError(nn.Cell):
    """loss = mean_over_samples(sum((x @ W^T - y)^2) / (1 - flag)); flag=1 makes that sample's loss inf."""

    def __init__(self):
        super().__init__()
        self.weight = Parameter(Tensor(W0), name='weight')

    def construct(self, x, y, flag):
        err = ops.matmul(x, ops.transpose(self.weight, (1, 0))) - y
        per_sample = ops.reduce_sum(err * err, 1) / (1.0 - flag)
        return ops.reduce_mean(per_sample)


def numpy_grad(x=X, y=Y, weight=W0):
    """d/dW of mean_i sum_o (x_i W^T - y_i)^2 -> (1, 3)."""
    err = x @ weight.T - y
    return (2.0 / len(x)) * err.T @ x


def inputs(flag=CLEAN):
    return Tensor(X), Tensor(Y), Tensor(flag)


def make_cell(learning_rate=0.1, **kwargs):
    net = SquaredError()
    optimizer = nn.SGD(net.trainable_params(), learning_rate=learning_rate)
    cell = MFTrainOneStepCell(net, optimizer, **kwargs)
    cell.set_train()
    return net, cell


@pytest.mark.usefixtures("mode")
def test_gradient_accumulation_2_equals_one_full_batch_sgd_step():
    net, cell = make_cell(gradient_accumulation_steps=2)
    loss, overflow, _, _, _ = cell(*inputs())

    ref_net = SquaredError()
    ref_cell = nn.TrainOneStepCell(ref_net, nn.SGD(ref_net.trainable_params(), learning_rate=0.1))
    ref_cell.set_train()
    ref_loss = ref_cell(*inputs())

    np.testing.assert_allclose(net.weight.asnumpy(), ref_net.weight.asnumpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(net.weight.asnumpy(), W0 - 0.1 * numpy_grad(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(loss.asnumpy(), ref_loss.asnumpy(), rtol=1e-6)
    assert not overflow.asnumpy()


@pytest.mark.usefixtures("mode")
def test_gradient_accumulation_batch_not_divisible_is_an_error():
    _, cell = make_cell(gradient_accumulation_steps=3)
    with pytest.raises(ValueError, match='gradient_accumulation_steps'):
        cell(*inputs())


def test_gradient_accumulation_steps_below_one_is_a_config_error():
    with pytest.raises(ConfigError, match='gradient_accumulation_steps'):
        make_cell(gradient_accumulation_steps=-1)


@pytest.mark.usefixtures("pynative")
def test_returned_global_norm_is_the_norm_of_the_unscaled_gradient():
    _, cell = make_cell(scale_sense=1024.0)
    _, _, loss_scale, _, global_norm = cell(*inputs())
    np.testing.assert_allclose(global_norm.asnumpy(), np.linalg.norm(numpy_grad()), rtol=1e-5)
    assert float(loss_scale.asnumpy()) == 1024.0


@pytest.mark.usefixtures("pynative")
def test_clip_grad_scales_the_update_to_max_grad_norm():
    grad_norm = np.linalg.norm(numpy_grad())
    max_norm = 0.25 * grad_norm
    net, cell = make_cell(learning_rate=1.0, use_clip_grad=True, max_grad_norm=max_norm)
    cell(*inputs())
    update = W0 - net.weight.asnumpy()
    np.testing.assert_allclose(np.linalg.norm(update), max_norm, rtol=1e-5)
    np.testing.assert_allclose(update, numpy_grad() * max_norm / grad_norm, rtol=1e-5, atol=1e-7)


@pytest.mark.usefixtures("pynative")
def test_clip_grad_leaves_small_gradients_unchanged():
    max_norm = 10.0 * np.linalg.norm(numpy_grad())
    net, cell = make_cell(learning_rate=1.0, use_clip_grad=True, max_grad_norm=max_norm)
    cell(*inputs())
    np.testing.assert_allclose(W0 - net.weight.asnumpy(), numpy_grad(), rtol=1e-5, atol=1e-7)


@pytest.mark.usefixtures("pynative")
def test_fixed_scale_sense_1024_gives_the_same_update_as_1():
    net_scaled, cell_scaled = make_cell(scale_sense=1024)
    net_plain, cell_plain = make_cell(scale_sense=1.0)
    loss_scaled = cell_scaled(*inputs())[0]
    loss_plain = cell_plain(*inputs())[0]
    np.testing.assert_allclose(net_scaled.weight.asnumpy(), net_plain.weight.asnumpy(), rtol=0, atol=1e-7)
    np.testing.assert_allclose(loss_scaled.asnumpy(), loss_plain.asnumpy(), rtol=1e-7)


@pytest.mark.usefixtures("pynative")
def test_inf_gradient_with_fixed_scale_skips_the_update():
    net, cell = make_cell(scale_sense=1.0)
    _, overflow, _, _, _ = cell(*inputs(POISONED))
    assert overflow.asnumpy()
    np.testing.assert_array_equal(net.weight.asnumpy(), W0)


@pytest.mark.usefixtures("mode")
def test_dynamic_loss_scale_overflow_skips_update_and_halves_the_scale():
    net, cell = make_cell(scale_sense=DynamicLossScale(loss_scale_value=1024, scale_factor=2, scale_window=3))
    _, overflow, loss_scale, _, _ = cell(*inputs(POISONED))
    assert overflow.asnumpy()
    np.testing.assert_array_equal(net.weight.asnumpy(), W0)
    assert float(cell.scale_sense.asnumpy()) == 512.0
    assert float(loss_scale.asnumpy()) == 512.0


@pytest.mark.usefixtures("mode")
def test_dynamic_loss_scale_doubles_after_scale_window_clean_steps():
    _, cell = make_cell(learning_rate=0.01, scale_sense=DynamicLossScale(loss_scale_value=64, scale_factor=2,
                                                                         scale_window=3))
    scales = []
    for flag in (POISONED, CLEAN, CLEAN, CLEAN, CLEAN):
        cell(*inputs(flag))
        scales.append(float(cell.scale_sense.asnumpy()))
    # overflow halves to 32; the 3rd clean step after it doubles back to 64; the counter restarts
    assert scales == [32.0, 32.0, 32.0, 64.0, 64.0]


@pytest.mark.usefixtures("pynative")
def test_dynamic_loss_scale_never_goes_below_one():
    _, cell = make_cell(scale_sense=DynamicLossScale(loss_scale_value=2, scale_factor=2, scale_window=100))
    for _ in range(3):
        cell(*inputs(POISONED))
    assert float(cell.scale_sense.asnumpy()) == 1.0


@pytest.mark.usefixtures("pynative")
def test_dynamic_loss_scale_training_matches_unscaled_training():
    net_scaled, cell_scaled = make_cell(scale_sense=DynamicLossScale(loss_scale_value=2 ** 12, scale_window=2))
    net_plain, cell_plain = make_cell()
    for flag in (CLEAN, POISONED, CLEAN, CLEAN):
        cell_scaled(*inputs(flag))
        cell_plain(*inputs(flag))
    np.testing.assert_allclose(net_scaled.weight.asnumpy(), net_plain.weight.asnumpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.usefixtures("mode")
def test_returned_lr_follows_the_schedule_and_pauses_on_overflow():
    schedule = build_lr({'type': 'linear', 'learning_rate': 0.1, 'warmup_steps': 2, 'total_steps': 10})
    net = SquaredError()
    optimizer = nn.SGD(net.trainable_params(), learning_rate=schedule)
    cell = MFTrainOneStepCell(net, optimizer, scale_sense=DynamicLossScale(1024, 2, 1000))
    cell.set_train()
    flags = (CLEAN, POISONED, CLEAN, CLEAN, CLEAN)
    lrs, steps = [], []
    for flag in flags:
        lrs.append(float(cell(*inputs(flag))[3].asnumpy()))
        steps.append(int(optimizer.global_step.asnumpy().reshape(-1)[0]))
    # the overflow step does not advance global_step, so its lr is used again on the next step
    expected_steps = [0, 1, 1, 2, 3]
    expected = [float(schedule(Tensor(s, ms.int32)).asnumpy()) for s in expected_steps]
    np.testing.assert_allclose(lrs, expected, rtol=1e-6)
    np.testing.assert_allclose(lrs, [0.0, 0.05, 0.05, 0.1, 0.1 * (1 - 1 / 8)], rtol=1e-6)
    assert steps == [1, 1, 2, 3, 4]


@pytest.mark.usefixtures("pynative")
def test_returned_lr_of_a_constant_learning_rate():
    _, cell = make_cell(learning_rate=0.25)
    assert float(cell(*inputs())[3].asnumpy()) == 0.25


@pytest.mark.usefixtures("pynative")
def test_build_wrapper_builds_mf_cell_with_nested_dynamic_loss_scale():
    net = SquaredError()
    optimizer = nn.SGD(net.trainable_params(), learning_rate=0.1)
    cell = build_wrapper({'type': 'MFTrainOneStepCell', 'use_clip_grad': True, 'max_grad_norm': 1.0,
                          'scale_sense': {'type': 'DynamicLossScaleUpdateCell', 'loss_scale_value': 256,
                                          'scale_factor': 2, 'scale_window': 10}},
                         default_args={'network': net, 'optimizer': optimizer})
    assert isinstance(cell, MFTrainOneStepCell)
    assert isinstance(cell.dynamic_scale, DynamicLossScale)
    assert float(cell.scale_sense.asnumpy()) == 256.0
    assert cell.use_clip_grad and cell.max_grad_norm == 1.0


@pytest.mark.usefixtures("pynative")
def test_build_wrapper_takes_upstreams_fixed_loss_scale_section():
    net = SquaredError()
    optimizer = nn.SGD(net.trainable_params(), learning_rate=0.1)
    cell = build_wrapper({'type': 'MFTrainOneStepCell',
                          'scale_sense': {'type': 'FixedLossScaleUpdateCell', 'loss_scale_value': 1024}},
                         default_args={'network': net, 'optimizer': optimizer})
    assert cell.dynamic_scale is None and float(cell.scale_sense.asnumpy()) == 1024.0
    cell.set_train()
    cell(*inputs())
    np.testing.assert_allclose(net.weight.asnumpy(), W0 - 0.1 * numpy_grad(), atol=1e-6)   # the unscaled step
    with pytest.raises(ConfigError, match='loss_scale_value must be a positive number'):
        build_wrapper({'type': 'MFTrainOneStepCell', 'scale_sense': {'type': 'FixedLossScaleUpdateCell',
                                                                     'loss_scale_value': 0}},
                      default_args={'network': SquaredError(), 'optimizer': optimizer})
