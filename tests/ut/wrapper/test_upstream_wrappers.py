"""AdaptiveLossScaleUpdateCell against a step-by-step re-computation of upstream's rule (its window ladder, growth
and shrink counters), inside MFTrainOneStepCell on real overflows; MFPipelineWithLossScaleCell accumulating its
micro-batches into the update SGD computes here, and stopping in one line for pipeline stages on CPU."""
import numpy as np
import pytest
import mindspore as ms
from mindspore import nn, Tensor

from mindformers.core.parallel_config import TransformerOpParallelConfig
from mindformers.tools.errors import ConfigError, NotAvailableError
from mindformers.wrapper import AdaptiveLossScaleUpdateCell, MFPipelineWithLossScaleCell, MFTrainOneStepCell


def _reference(scale, factor, ladder, index, overflows):
    """Upstream's rule, written out step by step: [(scale, window, index, up, down) after each step]."""
    window, up, down, step, last = ladder[index], 0, 0, 1, 0
    states = []
    for overflow in overflows:
        lowered = max(scale / factor, 1.0) if overflow else scale
        grow_due = window <= step - last
        if overflow or grow_due:
            last = step
        grow = grow_due and not overflow
        scale = lowered * factor if grow else lowered
        step += 1
        if grow:
            up, down = (up + 1) % 4, 0
        if up == 3 and index != len(ladder) - 1:
            index = 0 if index == -1 else index + 1
            up, window = 0, ladder[index]
        if overflow:
            down = (down + 1) % 4
        if overflow and down == 3 and index not in (-1, 0):
            window, index, down, up = 1, -1, 0, 0
        states.append((scale, window, index, up, down))
    return states


def test_adaptive_loss_scale_follows_upstreams_rule_step_by_step():
    cell = AdaptiveLossScaleUpdateCell(loss_scale_value=2 ** 12, scale_factor=2, scale_window=30,
                                       max_scale_window=1000, min_scale_window=20)
    assert cell.windows == [20, 30, 40, 50, 100, 200, 500, 1000]
    assert cell.get_loss_scale() == 2 ** 12
    rng = np.random.default_rng(0)
    overflows = [False] * 100 + [True] * 4 + [False] * 30 + [bool(o) for o in rng.random(100) < 0.05]
    expected = _reference(2.0 ** 12, 2.0, cell.windows, 1, overflows)
    scale = ms.Parameter(Tensor(2.0 ** 12, ms.float32), name='scale', requires_grad=False)
    windows_seen = set()
    for overflow, state in zip(overflows, expected):
        cell(scale, Tensor(overflow))
        got = (float(scale.asnumpy()), int(cell.current_window.asnumpy()), int(cell.list_index.asnumpy()),
               int(cell.scale_window_up_count.asnumpy()), int(cell.scale_window_down_count.asnumpy()))
        assert got == state
        windows_seen.add(got[1])
    assert {1, 20, 30, 40} <= windows_seen          # grew to 40, dropped to 1 and climbed from the ladder's bottom


def _regression_data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -1.0, 2.0])).astype(np.float32)[:, None]
    return x, y


def test_adaptive_scale_in_a_train_cell_skips_overflowing_steps():
    network = nn.WithLossCell(nn.Dense(3, 1, weight_init='ones', bias_init='zeros'), nn.MSELoss())
    scale = AdaptiveLossScaleUpdateCell(1024, 2, 20)
    cell = MFTrainOneStepCell(network, nn.SGD(network.trainable_params(), 0.01), scale_sense=scale)
    x, y = _regression_data()
    before = network.trainable_params()[0].asnumpy().copy()
    _, overflow, loss_scale, _, _ = cell(Tensor(np.full_like(x, np.inf)), Tensor(y))
    assert bool(overflow) and float(loss_scale.asnumpy()) == 512.0
    np.testing.assert_array_equal(network.trainable_params()[0].asnumpy(), before)
    _, overflow, _, _, _ = cell(Tensor(x), Tensor(y))
    assert not bool(overflow) and not np.array_equal(network.trainable_params()[0].asnumpy(), before)


def test_pipeline_cell_accumulates_its_micro_batches_into_one_update():
    network = nn.WithLossCell(nn.Dense(3, 1, weight_init='zeros', bias_init='zeros'), nn.MSELoss())
    cell = MFPipelineWithLossScaleCell(network, nn.SGD(network.trainable_params(), 0.1), use_clip_grad=False,
                                       scale_sense=8.0, micro_batch_num=2)
    x, y = _regression_data()
    cell(Tensor(x), Tensor(y))
    grads = [2 * x[rows].T @ (0 - y[rows, 0]) / 2 for rows in (slice(0, 2), slice(2, 4))]   # dL/dw per micro-batch
    expected = -0.1 * (grads[0] + grads[1]) / 2
    np.testing.assert_allclose(network.trainable_params()[0].asnumpy()[0], expected, rtol=1e-5)
    with pytest.raises(NotAvailableError, match=r"^MFPipelineWithLossScaleCell: pipeline_stage 2 needs semi-auto"):
        MFPipelineWithLossScaleCell(network, nn.SGD(network.trainable_params(), 0.1),
                                    parallel_config=TransformerOpParallelConfig(pipeline_stage=2))
    with pytest.raises(ConfigError, match=r"^MFPipelineWithLossScaleCell: micro_batch_num must be a positive"):
        MFPipelineWithLossScaleCell(network, nn.SGD(network.trainable_params(), 0.1), micro_batch_num=0)
    with pytest.raises(ConfigError, match=r"^AdaptiveLossScaleUpdateCell: need 0 < min_scale_window"):
        AdaptiveLossScaleUpdateCell(1024, 2, 20, max_scale_window=10, min_scale_window=20)
