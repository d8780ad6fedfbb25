"""Learning-rate schedules: exact values in GRAPH_MODE and in Python, warmup_ratio, aliases, bad arguments."""
import math

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn, Tensor

from mindformers.core.lr import (ConstantWarmUpLR, CosineWithRestartsAndWarmUpLR, CosineWithWarmUpLR,
                                 LinearWithWarmUpLR, PolynomialWithWarmUpLR, build_lr)
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

LR = 0.01
INIT = 0.002  # warmup_lr_init
END = 0.001   # lr_end
WARMUP = 4
TOTAL = 20



class _ScheduleCell(nn.Cell):
    """The schedule inside a compiled graph, as an optimizer calls it."""

    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def construct(self, global_step):
        return self.schedule(global_step) * 1.0


def _warmup(step):
    return INIT + (LR - INIT) * step / WARMUP


def _constant(step):
    return _warmup(step) if step < WARMUP else LR


def _linear(step):
    if step < WARMUP:
        return _warmup(step)
    return LR * max(0.0, (TOTAL - step) / (TOTAL - WARMUP))


def _cosine(step):
    if step < WARMUP:
        return _warmup(step)
    if step >= TOTAL:
        return END
    progress = (step - WARMUP) / (TOTAL - WARMUP)
    return END + (LR - END) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _cosine_restarts_2_cycles(step):
    if step < WARMUP:
        return _warmup(step)
    if step >= TOTAL:
        return END
    progress = (step - WARMUP) / (TOTAL - WARMUP)
    return END + (LR - END) * 0.5 * (1.0 + math.cos(math.pi * ((2.0 * progress) % 1.0)))


def _polynomial_power_2(step):
    if step < WARMUP:
        return _warmup(step)
    if step >= TOTAL:
        return END
    remaining = 1.0 - (step - WARMUP) / (TOTAL - WARMUP)
    return (LR - END) * remaining ** 2 + END


CASES = {
    "constant": (lambda: ConstantWarmUpLR(LR, warmup_steps=WARMUP, warmup_lr_init=INIT), _constant),
    "linear": (lambda: LinearWithWarmUpLR(LR, TOTAL, warmup_steps=WARMUP, warmup_lr_init=INIT), _linear),
    "cosine": (lambda: CosineWithWarmUpLR(LR, WARMUP, TOTAL, lr_end=END, warmup_lr_init=INIT), _cosine),
    "cosine_restarts": (lambda: CosineWithRestartsAndWarmUpLR(LR, WARMUP, TOTAL, num_cycles=2, lr_end=END,
                                                              warmup_lr_init=INIT), _cosine_restarts_2_cycles),
    "polynomial": (lambda: PolynomialWithWarmUpLR(LR, TOTAL, WARMUP, lr_end=END, power=2.0, warmup_lr_init=INIT),
                   _polynomial_power_2),
}
STEPS = [0, 1, 3, 4, 5, 7, 10, 12, 13, 15, 19, 20, 21, 100]


@pytest.mark.parametrize("name", sorted(CASES))
def test_schedule_matches_closed_form_in_graph_mode_and_python(name, graph_mode):
    make, expected = CASES[name]
    schedule = make()
    cell = _ScheduleCell(schedule)
    for step in STEPS:
        graph_value = cell(Tensor(step, ms.int32))
        assert graph_value.dtype == ms.float32 and graph_value.shape == ()
        np.testing.assert_allclose(graph_value.asnumpy(), expected(step), rtol=1e-5, atol=1e-9,
                                   err_msg=f"{name} graph step {step}")
        assert schedule.get_lr(step) == pytest.approx(expected(step), rel=1e-12, abs=1e-15), f"{name} step {step}"


def test_schedule_accepts_the_optimizer_global_step_shape(graph_mode):
    schedule = CosineWithWarmUpLR(LR, WARMUP, TOTAL, lr_end=END)
    value = _ScheduleCell(schedule)(Tensor([6], ms.int32))
    assert value.shape == ()
    np.testing.assert_allclose(value.asnumpy(), schedule.get_lr(6), rtol=1e-6)


def test_first_step_is_warmup_lr_init_and_warmup_ends_at_learning_rate():
    schedule = LinearWithWarmUpLR(1.0, total_steps=10, warmup_steps=5, warmup_lr_init=0.5)
    assert schedule.get_lr(0) == 0.5
    assert schedule.get_lr(5) == 1.0
    assert schedule.get_lr(10) == 0.0


def test_cosine_decay_steps_overrides_total_steps():
    schedule = CosineWithWarmUpLR(1.0, warmup_steps=2, total_steps=100, decay_steps=4, lr_end=0.0)
    assert schedule.get_lr(4) == pytest.approx(0.5)
    assert schedule.get_lr(6) == 0.0
    assert schedule.get_lr(50) == 0.0


def test_warmup_ratio_wins_over_warmup_steps():
    schedule = CosineWithWarmUpLR(1.0, warmup_steps=1, total_steps=200, warmup_ratio=0.03)
    assert schedule.warmup_steps == 6
    assert schedule.get_lr(3) == pytest.approx(0.5)
    constant = ConstantWarmUpLR(1.0, warmup_ratio=0.25, total_steps=10)
    assert constant.warmup_steps == 2


def test_warmup_ratio_zero_means_no_warmup():
    schedule = CosineWithWarmUpLR(1e-6, total_steps=10, warmup_ratio=0.0, lr_end=1e-8)
    assert schedule.warmup_steps == 0
    assert schedule.get_lr(0) == pytest.approx(1e-6)


@pytest.mark.parametrize("alias,cls", [("constant_with_warmup", ConstantWarmUpLR), ("linear", LinearWithWarmUpLR),
                                       ("cosine", CosineWithWarmUpLR),
                                       ("cosine_with_restarts", CosineWithRestartsAndWarmUpLR),
                                       ("polynomial", PolynomialWithWarmUpLR)])
def test_build_lr_alias_builds_the_class(alias, cls):
    schedule = build_lr({'type': alias, 'learning_rate': 0.1, 'total_steps': 10, 'warmup_ratio': 0.1})
    assert type(schedule) is cls  # pylint: disable=unidiomatic-typecheck
    assert schedule.warmup_steps == 1
    assert MindFormerRegister.get_cls(MindFormerModuleType.LR, cls.__name__) is cls


def test_build_lr_default_args_override_config():
    schedule = build_lr({'type': 'CosineWithWarmUpLR', 'learning_rate': 0.1, 'total_steps': -1},
                        default_args={'total_steps': 50})
    assert schedule.total_steps == 50


def test_build_lr_without_config_or_class_name_returns_none():
    assert build_lr() is None


def test_build_lr_builds_mindspore_schedules_by_name():
    schedule = build_lr(class_name='CosineDecayLR', min_lr=0.0, max_lr=0.1, decay_steps=10)
    assert isinstance(schedule, nn.CosineDecayLR)
    assert isinstance(build_lr({'type': 'WarmUpLR', 'learning_rate': 0.1, 'warmup_steps': 5}), nn.WarmUpLR)


@pytest.mark.parametrize("config,fragment", [
    ({'type': 'linear', 'learning_rate': 0.1, 'total_steps': None}, "total_steps is required"),
    ({'type': 'cosine', 'learning_rate': 0.1, 'total_steps': -1}, "total_steps must be a positive integer"),
    ({'type': 'polynomial', 'learning_rate': 0.1, 'total_steps': 0}, "total_steps must be a positive integer"),
    ({'type': 'cosine', 'learning_rate': -0.1, 'total_steps': 10}, "learning_rate must be a number >= 0"),
    ({'type': 'cosine', 'learning_rate': 0.1, 'total_steps': 10, 'warmup_ratio': 1.5}, "warmup_ratio must be in"),
    ({'type': 'constant_with_warmup', 'learning_rate': 0.1, 'warmup_ratio': 0.1}, "needs total_steps"),
    ({'type': 'cosine', 'learning_rate': 0.1, 'total_steps': 10, 'warmup_steps': 11}, "exceeds total_steps"),
    ({'type': 'cosine', 'learning_rate': 0.1, 'total_steps': 10, 'warmup_steps': 2.5}, "warmup_steps must be"),
    ({'type': 'cosine_with_restarts', 'learning_rate': 0.1, 'decay_steps': 0}, "decay_steps must be"),
])
def test_bad_lr_arguments_raise_config_error(config, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        build_lr(config)
    message = str(info.value)
    assert "\n" not in message and "lr_schedule." in message
