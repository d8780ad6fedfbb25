"""Came against a NumPy re-computation of its update (factored second moment for matrices, RMS clipping, first
moment, factored confidence term, weight decay, scale_parameter) over several steps, in PYNATIVE and GRAPH_MODE;
FusedCastAdamWeightDecay against AdamWeightDecay's update on gradients divided by max(norm, clip_norm);
SummaryMonitor writing summaries during training and build_profile_cb's monitor and side effects."""
import os

import numpy as np
import pytest
import mindspore as ms
from mindspore import nn, Tensor, Parameter
from mindspore.dataset import NumpySlicesDataset

from mindformers import Came, FusedCastAdamWeightDecay, SummaryMonitor, build_profile_cb
from mindformers.core.callback import ProfileMonitor
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerConfig
from mindformers.trainer import GeneralTaskTrainer


def _rms(x):
    return np.sqrt(np.mean(x ** 2))


def _came_numpy(params, grads_per_step, lr, eps=(1e-30, 1e-3, 1e-16), clip=1.0, decay_rate=0.8, beta1=0.9,
                beta3=0.99, weight_decay=0.0, scale_parameter=False):
    params = [p.astype(np.float64).copy() for p in params]
    state = [dict(m=np.zeros_like(p), row=np.zeros(p.shape[:-1]), col=np.zeros(p.shape[:-2] + p.shape[-1:]),
                  irow=np.zeros(p.shape[:-1]), icol=np.zeros(p.shape[:-2] + p.shape[-1:]), v=np.zeros_like(p))
             for p in params]
    for step, grads in enumerate(grads_per_step, 1):
        beta2t = 1 - step ** (-decay_rate)
        for p, g, s in zip(params, grads, state):
            lr_t = lr * max(eps[1], _rms(p)) if scale_parameter else lr
            u = g ** 2 + eps[0]
            factored = p.ndim >= 2
            if factored:
                s['row'] = beta2t * s['row'] + (1 - beta2t) * u.mean(-1)
                s['col'] = beta2t * s['col'] + (1 - beta2t) * u.mean(-2)
                update = g / np.sqrt(np.outer(s['row'] / s['row'].mean(), s['col']))
            else:
                s['v'] = beta2t * s['v'] + (1 - beta2t) * u
                update = g / np.sqrt(s['v'])
            update = update / max(_rms(update) / clip, 1.0)
            s['m'] = beta1 * s['m'] + (1 - beta1) * update
            if factored:
                instability = (update - s['m']) ** 2 + eps[2]
                s['irow'] = beta3 * s['irow'] + (1 - beta3) * instability.mean(-1)
                s['icol'] = beta3 * s['icol'] + (1 - beta3) * instability.mean(-2)
                step_update = s['m'] / np.sqrt(np.outer(s['irow'] / s['irow'].mean(), s['icol'])) * lr_t
            else:
                step_update = s['m'] * lr_t
            p -= weight_decay * lr_t * p
            p -= step_update
    return params


class _Net(nn.Cell):
    def __init__(self, weight, bias):
        super().__init__()
        self.weight = Parameter(Tensor(weight, ms.float32), name='weight')
        self.bias = Parameter(Tensor(bias, ms.float32), name='bias')

    def construct(self, x):
        return x


@pytest.mark.parametrize('mode, kwargs', [
    (ms.PYNATIVE_MODE, dict()),
    (ms.PYNATIVE_MODE, dict(weight_decay=0.1, scale_parameter=True, clip_threshold=0.5)),
    (ms.GRAPH_MODE, dict(beta1=0.8)),
])
def test_came_matches_its_update_rule_over_several_steps(mode, kwargs):
    rng = np.random.default_rng(0)
    weight, bias = rng.normal(size=(4, 3)), rng.normal(size=(3,))
    grads = [(rng.normal(size=(4, 3)), rng.normal(size=(3,))) for _ in range(4)]
    net = _Net(weight, bias)
    optimizer = Came(net.trainable_params(), learning_rate=0.05, **kwargs)
    previous = ms.get_context('mode')
    ms.set_context(mode=mode)
    try:
        for g_w, g_b in grads:
            optimizer((Tensor(g_w, ms.float32), Tensor(g_b, ms.float32)))
    finally:
        ms.set_context(mode=previous)
    numpy_kwargs = {('clip' if k == 'clip_threshold' else k): v for k, v in kwargs.items()}
    expected = _came_numpy([weight, bias], grads, 0.05, **numpy_kwargs)
    np.testing.assert_allclose(net.weight.asnumpy(), expected[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.bias.asnumpy(), expected[1], rtol=1e-5, atol=1e-6)
    names = {p.name for p in optimizer.parameters_and_names() for p in [p[1]]}
    assert {'exp_avg.weight', 'exp_avg_sq_row_weight', 'exp_avg_insta_col_weight', 'exp_avg_sq_bias'} <= names
    assert optimizer.exp_avg_sq_row[0].shape == (4,) and optimizer.exp_avg_sq_col[0].shape == (3,)


def test_came_parameter_groups_take_their_own_learning_rate_and_weight_decay():
    rng = np.random.default_rng(2)
    weight, bias = rng.normal(size=(3, 5)), rng.normal(size=(5,))
    grads = [(rng.normal(size=(3, 5)), rng.normal(size=(5,))) for _ in range(3)]
    net = _Net(weight, bias)
    groups = [{'params': [net.weight], 'weight_decay': 0.05}, {'params': [net.bias], 'lr': 0.01},
              {'order_params': net.trainable_params()}]
    optimizer = Came(groups, learning_rate=0.1, weight_decay=0.0)
    for g_w, g_b in grads:
        optimizer((Tensor(g_w, ms.float32), Tensor(g_b, ms.float32)))
    expected_weight = _came_numpy([weight], [[g[0]] for g in grads], 0.1, weight_decay=0.05)[0]
    expected_bias = _came_numpy([bias], [[g[1]] for g in grads], 0.01)[0]
    np.testing.assert_allclose(net.weight.asnumpy(), expected_weight, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.bias.asnumpy(), expected_bias, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('kwargs, message', [
    (dict(learning_rate=None), r"^Came: learning_rate is required"),
    (dict(relative_step=True), r"^Came: relative_step / warmup_init"),
    (dict(eps=(1e-30, 1e-3)), r"^Came: eps must have 3 values"),
    (dict(beta1=1.5), r"^Came: beta1 must be in \[0.0, 1.0\], got 1.5"),
])
def test_came_bad_arguments_are_one_line(kwargs, message):
    args = dict(learning_rate=0.1)
    args.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        Came(_Net(np.ones((2, 2)), np.ones(2)).trainable_params(), **args)


def test_fused_cast_adam_weight_decay_divides_gradients_by_the_clipped_norm():
    rng = np.random.default_rng(1)
    weight, bias = rng.normal(size=(4, 3)), rng.normal(size=(3,))
    net = _Net(weight, bias)
    optimizer = FusedCastAdamWeightDecay(net.trainable_params(), learning_rate=0.01, weight_decay=0.1)
    m = [np.zeros_like(weight), np.zeros_like(bias)]
    v = [np.zeros_like(weight), np.zeros_like(bias)]
    params = [weight.copy(), bias.copy()]
    for scale in (3.0, 0.1):                          # a norm above clip_norm 1.0, then one below it
        grads = [rng.normal(size=(4, 3)) * scale, rng.normal(size=(3,)) * scale]
        optimizer(tuple(Tensor(g, ms.float32) for g in grads))
        divisor = max(np.sqrt(sum((g ** 2).sum() for g in grads)), 1.0)
        for i, g in enumerate(grads):
            g = g / divisor
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g ** 2
            update = m[i] / (np.sqrt(v[i]) + 1e-6) + 0.1 * params[i]     # MindSpore decays all but beta/gamma
            params[i] = params[i] - 0.01 * update
    np.testing.assert_allclose(net.weight.asnumpy(), params[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.bias.asnumpy(), params[1], rtol=1e-5, atol=1e-6)
    assert optimizer.moments1[0].name == 'adam_m.weight' and optimizer.moments1[0].dtype == ms.float32


def test_summary_monitor_writes_summaries_and_build_profile_cb_configures_a_profile_monitor(tmp_path, monkeypatch):
    monkeypatch.setenv('LOCAL_DEFAULT_PATH', str(tmp_path / 'output'))
    collector = SummaryMonitor(collect_freq=1)
    assert isinstance(collector, ms.SummaryCollector)
    net = nn.WithLossCell(nn.Dense(2, 1), nn.MSELoss())
    data = NumpySlicesDataset((np.ones((4, 2), np.float32), np.ones((4, 1), np.float32)), ['x', 'y'],
                              shuffle=False).batch(2)
    GeneralTaskTrainer().train(config={'callbacks': [], 'output_dir': str(tmp_path / 'output')}, dataset=data,
                               wrapper=nn.TrainOneStepCell(net, nn.SGD(net.trainable_params(), 0.01)),
                               callbacks=[collector])               # this project's training loop
    summary_dir = tmp_path / 'output' / 'summary' / 'rank_0'
    assert any(name.startswith('events.out.events.summary') for name in os.listdir(summary_dir))

    config = MindFormerConfig(profile_start_step=2, profile_stop_step=4, init_start_profile=False,
                              profile_memory=False, runner_config={'sink_mode': True}, auto_tune=True, device_num=1)
    monitor = build_profile_cb(config)
    assert isinstance(monitor, ProfileMonitor)
    assert (monitor.start_step, monitor.stop_step, monitor.start_profile, monitor.profile_memory) == (2, 4, False,
                                                                                                      False)
    assert config.runner_config.sink_mode is False and config.auto_tune is False
