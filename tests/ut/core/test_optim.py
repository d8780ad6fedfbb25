"""Optimizers: AdamW against a NumPy torch.optim.AdamW reference, AdamWeightDecay variants, builders, grouping."""
import mindspore as ms
import numpy as np
import pytest
from mindspore import nn, ops, Parameter, Tensor

from mindformers.core.lr import CosineWithWarmUpLR
from mindformers.core.optim import (AdamW, FP32StateAdamWeightDecay, FusedAdamWeightDecay, build_optim,
                                    get_optimizer_grouped_parameters)
from mindformers.tools.errors import ConfigError



def torch_adamw_step(param, grad, state, lr, beta1, beta2, eps, weight_decay, amsgrad=False, maximize=False):
    """One torch.optim.AdamW step (single tensor, float64); `state` holds step, exp_avg, exp_avg_sq, max_exp_avg_sq."""
    grad = -grad if maximize else grad
    state['step'] += 1
    step = state['step']
    param = param * (1 - lr * weight_decay)
    state['exp_avg'] = beta1 * state['exp_avg'] + (1 - beta1) * grad
    state['exp_avg_sq'] = beta2 * state['exp_avg_sq'] + (1 - beta2) * grad * grad
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    second_moment = state['exp_avg_sq']
    if amsgrad:
        state['max_exp_avg_sq'] = np.maximum(state['max_exp_avg_sq'], state['exp_avg_sq'])
        second_moment = state['max_exp_avg_sq']
    denom = np.sqrt(second_moment) / np.sqrt(bias_correction2) + eps
    return param - (lr / bias_correction1) * state['exp_avg'] / denom


def new_state(shape):
    return {'step': 0, 'exp_avg': np.zeros(shape), 'exp_avg_sq': np.zeros(shape), 'max_exp_avg_sq': np.zeros(shape)}


class TinyRegression(nn.Cell):
    """loss = mean((x @ weight + bias - target)^2)"""

    def __init__(self, weight, bias):
        super().__init__()
        self.weight = Parameter(Tensor(weight, ms.float32), name="dense.weight")
        self.bias = Parameter(Tensor(bias, ms.float32), name="dense.bias")

    def construct(self, x, target):
        prediction = ops.matmul(x, self.weight) + self.bias
        return ops.mean(ops.square(prediction - target))


class ApplyGradients(nn.Cell):
    """Runs the optimizer inside a compiled graph on given gradients."""

    def __init__(self, optimizer):
        super().__init__(auto_prefix=False)
        self.optimizer = optimizer

    def construct(self, gradients):
        return self.optimizer(gradients)


def test_adamw_train_step_matches_numpy_torch_reference_for_5_steps(graph_mode):
    rng = np.random.default_rng(0)
    weight, bias = rng.normal(size=(3, 4)), rng.normal(size=(4,))
    x, target = rng.normal(size=(6, 3)), rng.normal(size=(6, 4))
    net = TinyRegression(weight, bias)
    lr_schedule = CosineWithWarmUpLR(0.05, warmup_steps=2, total_steps=5, lr_end=0.01, warmup_lr_init=0.02)
    groups = get_optimizer_grouped_parameters(net, weight_decay=0.1)
    optimizer = build_optim({'type': 'AdamW', 'betas': [0.9, 0.95], 'eps': 1e-8, 'learning_rate': 1.0},
                            default_args={'params': groups, 'learning_rate': lr_schedule})
    train_step = nn.TrainOneStepCell(net, optimizer)
    weight_state, bias_state = new_state(weight.shape), new_state(bias.shape)
    for step in range(5):
        train_step(Tensor(x, ms.float32), Tensor(target, ms.float32))
        residual = 2.0 * (x @ weight + bias - target) / target.size  # d loss / d prediction
        weight_grad, bias_grad = x.T @ residual, residual.sum(axis=0)
        lr = lr_schedule.get_lr(step)
        weight = torch_adamw_step(weight, weight_grad, weight_state, lr, 0.9, 0.95, 1e-8, 0.1)
        bias = torch_adamw_step(bias, bias_grad, bias_state, lr, 0.9, 0.95, 1e-8, 0.0)
        np.testing.assert_allclose(net.weight.asnumpy(), weight, rtol=0, atol=1e-6, err_msg=f"step {step}")
        np.testing.assert_allclose(net.bias.asnumpy(), bias, rtol=0, atol=1e-6, err_msg=f"step {step}")
    assert optimizer.global_step.asnumpy().tolist() == [5]


@pytest.mark.parametrize("amsgrad,maximize", [(True, False), (False, True)])
def test_adamw_amsgrad_and_maximize_match_numpy_torch_reference(amsgrad, maximize, graph_mode):
    rng = np.random.default_rng(1)
    start = rng.normal(size=(2, 3))
    param = Parameter(Tensor(start, ms.float32), name="w")
    optimizer = AdamW([param], learning_rate=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.05,
                      amsgrad=amsgrad, maximize=maximize)
    apply = ApplyGradients(optimizer)
    state, expected = new_state(start.shape), start
    # decreasing gradient sizes make the amsgrad running maximum differ from exp_avg_sq
    for step in range(5):
        grad = rng.normal(size=start.shape) / (step + 1)
        apply((Tensor(grad, ms.float32),))
        expected = torch_adamw_step(expected, grad, state, 0.01, 0.8, 0.9, 1e-6, 0.05, amsgrad, maximize)
        np.testing.assert_allclose(param.asnumpy(), expected, rtol=0, atol=1e-6, err_msg=f"step {step}")


def test_adamw_takes_the_fused_kernel_for_float32_params_and_a_zero_lr_step_leaves_them(graph_mode):
    rng = np.random.default_rng(2)
    start = rng.normal(size=(8, 5))
    grads = [rng.normal(size=start.shape) for _ in range(4)]
    schedule = CosineWithWarmUpLR(0.02, warmup_steps=2, total_steps=6, lr_end=0.0, warmup_lr_init=0.0)
    results = []
    for fused in (True, False):
        param = Parameter(Tensor(start, ms.float32), name="w")
        optimizer = AdamW([param], learning_rate=schedule, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.1)
        assert optimizer.fused_flags == (True,)
        optimizer.fused_flags = (fused,)       # the composed update is the same formula
        apply = ApplyGradients(optimizer)
        state, expected = new_state(start.shape), start
        for step, grad in enumerate(grads):
            apply((Tensor(grad, ms.float32),))
            expected = torch_adamw_step(expected, grad, state, schedule.get_lr(step), 0.9, 0.99, 1e-6, 0.1)
            if step == 0:                       # lr 0 at the first step: nothing moves, nothing is NaN
                np.testing.assert_array_equal(param.asnumpy(), start.astype(np.float32))
            np.testing.assert_allclose(param.asnumpy(), expected, rtol=0, atol=1e-6, err_msg=f"step {step}")
        results.append(param.asnumpy())
    np.testing.assert_allclose(results[0], results[1], rtol=0, atol=1e-6)


def test_adamw_keeps_float32_moments_for_float16_params(graph_mode):
    param = Parameter(Tensor(np.ones((2, 2)), ms.float16), name="w")
    optimizer = AdamW([param], learning_rate=0.1)
    ApplyGradients(optimizer)((Tensor(np.full((2, 2), 0.5), ms.float16),))
    assert param.dtype == ms.float16
    assert {moment.dtype for moment in optimizer.exp_avg + optimizer.exp_avg_sq} == {ms.float32}
    # first bias-corrected Adam step moves every weight by lr * sign(grad)
    np.testing.assert_allclose(param.asnumpy().astype(np.float64), 0.9, atol=1e-3)


def _run_adam_weight_decay(optimizer_cls, param_dtype, gradients):
    param = Parameter(Tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), param_dtype), name="w")
    optimizer = optimizer_cls([param], learning_rate=0.01, beta1=0.9, beta2=0.99, eps=1e-6, weight_decay=0.1)
    apply = ApplyGradients(optimizer)
    for grad in gradients:
        apply((Tensor(grad, param_dtype),))
    return param.asnumpy().astype(np.float64), optimizer


def test_fused_adam_weight_decay_equals_mindspore_adam_weight_decay(graph_mode):
    gradients = [np.random.default_rng(i).normal(size=(2, 3)) for i in range(3)]
    fused, _ = _run_adam_weight_decay(FusedAdamWeightDecay, ms.float32, gradients)
    reference, _ = _run_adam_weight_decay(nn.AdamWeightDecay, ms.float32, gradients)
    np.testing.assert_array_equal(fused, reference)
    # AdamWeightDecay math: no bias correction, decay added to the update
    expected, exp_avg, exp_avg_sq = np.linspace(-1.0, 1.0, 6).reshape(2, 3), 0.0, 0.0
    for grad in gradients:
        exp_avg = 0.9 * exp_avg + 0.1 * grad
        exp_avg_sq = 0.99 * exp_avg_sq + 0.01 * grad * grad
        expected = expected - 0.01 * (exp_avg / (np.sqrt(exp_avg_sq) + 1e-6) + 0.1 * expected)
    np.testing.assert_allclose(fused, expected, atol=1e-6)


def test_fp32_state_adam_weight_decay_keeps_float32_moments_for_float16_params(graph_mode):
    gradients = [np.random.default_rng(i).normal(size=(2, 3)) for i in range(3)]
    half, optimizer = _run_adam_weight_decay(FP32StateAdamWeightDecay, ms.float16, gradients)
    full, _ = _run_adam_weight_decay(nn.AdamWeightDecay, ms.float32, gradients)
    assert {moment.dtype for moment in optimizer.moments1 + optimizer.moments2} == {ms.float32}
    assert optimizer.parameters[0].dtype == ms.float16
    np.testing.assert_allclose(half, full, atol=2e-3)
    fp32_params, _ = _run_adam_weight_decay(FP32StateAdamWeightDecay, ms.float32, gradients)
    np.testing.assert_allclose(fp32_params, full, atol=1e-6)


def _params():
    return [Parameter(Tensor(np.ones((2, 2)), ms.float32), name="w")]


@pytest.mark.parametrize("name,expected_cls,extra", [
    ("adamw", nn.AdamWeightDecay, {}),
    ("AdamWeightDecay", nn.AdamWeightDecay, {}),
    ("fused_adamw", FusedAdamWeightDecay, {}),
    ("FusedAdamWeightDecay", FusedAdamWeightDecay, {}),
    ("fp32_adamw", FP32StateAdamWeightDecay, {}),
    ("AdamW", AdamW, {'betas': [0.9, 0.95]}),
    ("adam", nn.Adam, {}),
    ("sgd", nn.SGD, {}),
    ("adagrad", nn.Adagrad, {}),
    ("adafactor", nn.AdaFactor, {}),
    ("Momentum", nn.Momentum, {'momentum': 0.9}),
])
def test_build_optim_builds_aliases_and_mindspore_optimizers(name, expected_cls, extra):
    config = {'type': name, 'learning_rate': 0.01, **extra}
    if name == 'adafactor':
        config.update(relative_step=False, scale_parameter=False, warmup_init=False)
    optimizer = build_optim(config, default_args={'params': _params()})
    assert type(optimizer) is expected_cls  # pylint: disable=unidiomatic-typecheck


def test_build_optim_builds_a_learning_rate_config_first():
    optimizer = build_optim({'type': 'AdamW', 'learning_rate': {'type': 'cosine', 'learning_rate': 0.1,
                                                                  'total_steps': 10}},
                            default_args={'params': _params()})
    assert isinstance(optimizer.learning_rate, CosineWithWarmUpLR)


def test_build_optim_default_args_replace_the_config_learning_rate():
    # the config's schedule is unbuildable (total_steps -1): default_args replace it before it is built
    schedule = CosineWithWarmUpLR(0.1, total_steps=10)
    optimizer = build_optim({'type': 'FP32StateAdamWeightDecay', 'weight_decay': 0.1,
                             'learning_rate': {'type': 'cosine', 'learning_rate': 0.1, 'total_steps': -1}},
                            default_args={'params': _params(), 'learning_rate': schedule})
    assert optimizer.learning_rate is schedule


def test_build_optim_without_config_or_class_name_returns_none_and_class_name_builds():
    assert build_optim() is None
    assert isinstance(build_optim(class_name='fused_adamw', params=_params()), FusedAdamWeightDecay)


class GroupingNet(nn.Cell):
    """No-decay tensors (norm, bias) come before decay tensors, where upstream's grouping bug would bite."""

    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm((4,))
        self.dense = nn.Dense(4, 4)
        self.head = nn.Dense(4, 3, has_bias=False)
        self.pos_embed = Parameter(Tensor(np.zeros((5, 4)), ms.float32), name="pos_embed")
        self.frozen = Parameter(Tensor(np.zeros((4, 4)), ms.float32), name="frozen", requires_grad=False)

    def construct(self, x):
        return self.head(self.dense(self.norm(x) + self.pos_embed[0]) + ops.matmul(x, self.frozen))


def test_grouping_net_lists_a_no_decay_tensor_before_decay_tensors():
    names = [p.name for p in GroupingNet().trainable_params()]
    assert names.index("norm.gamma") < names.index("dense.weight")


def test_grouped_parameters_split_decay_from_no_decay():
    net = GroupingNet()
    groups = get_optimizer_grouped_parameters(net, weight_decay=0.1)
    decay, no_decay, order = groups
    assert {p.name for p in decay['params']} == {"dense.weight", "head.weight", "pos_embed"}
    assert decay['weight_decay'] == 0.1
    assert {p.name for p in no_decay['params']} == {"norm.gamma", "norm.beta", "dense.bias"}
    assert no_decay['weight_decay'] == 0.0
    assert order == {'order_params': net.trainable_params()}


def test_grouped_parameters_respect_model_no_weight_decay_lists():
    net = GroupingNet()
    net.no_weight_decay = lambda: {"head.weight"}
    net.no_weight_decay_keywords = lambda: ("pos_embed",)
    decay, no_decay, _ = get_optimizer_grouped_parameters(net, weight_decay=0.1)
    assert [p.name for p in decay['params']] == ["dense.weight"]
    assert {p.name for p in no_decay['params']} == {"norm.gamma", "norm.beta", "dense.bias", "head.weight",
                                                     "pos_embed"}


def test_grouped_parameters_drive_per_parameter_decay_flags():
    net = GroupingNet()
    optimizer = AdamW(get_optimizer_grouped_parameters(net, weight_decay=0.1), learning_rate=0.01)
    names = [p.name for p in optimizer.parameters]
    assert names == [p.name for p in net.trainable_params()]
    decayed = {name for name, flag in zip(names, optimizer.decay_flags) if flag}
    assert decayed == {"dense.weight", "head.weight", "pos_embed"}


def test_grouped_parameters_leave_out_an_empty_group():
    net = nn.Dense(3, 2, has_bias=False)
    groups = get_optimizer_grouped_parameters(net, weight_decay=0.1)
    assert len(groups) == 2 and groups[0]['weight_decay'] == 0.1
    assert isinstance(AdamW(groups), AdamW)


def test_layer_scale_needs_a_model_with_layers():
    with pytest.raises(ConfigError, match="layer_scale: True needs a model whose config has num_hidden_layers"):
        get_optimizer_grouped_parameters(GroupingNet(), 0.1, dynamic_lr_schedule=1e-3, layer_scale=True)


@pytest.mark.parametrize("config,fragment", [
    ({'type': 'AdamW', 'betas': [0.9, 1.0]}, r"beta2 must be in \[0, 1\)"),
    ({'type': 'AdamW', 'betas': 0.9}, "betas must be a pair"),
    ({'type': 'AdamW', 'eps': 0.0}, "eps must be > 0"),
    ({'type': 'fused_adamw', 'weight_decay': -0.1}, "weight_decay must be >= 0"),
    ({'type': 'fp32_adamw', 'beta1': -0.5}, "beta1 must be in"),
])
def test_bad_optimizer_arguments_raise_config_error(config, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        build_optim(config, default_args={'params': _params()})
    assert "\n" not in str(info.value)
