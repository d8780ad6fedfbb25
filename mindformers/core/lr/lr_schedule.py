"""Learning-rate schedules with a linear warm-up: constant, linear, cosine, cosine with restarts, polynomial.

Every schedule is a MindSpore `LearningRateSchedule`: `construct(global_step)` maps an int32 step Tensor
(0-based: step 0 is the first optimizer step) to a float32 scalar Tensor using ops only, so it runs
inside a GRAPH_MODE train step. `get_lr(step)` computes the same value in plain Python for logging.

Shared shape, with w = warmup steps and D = decay steps (`decay_steps` or `total_steps - w`):
  step < w          -> warmup_lr_init + (learning_rate - warmup_lr_init) * step / w
  w <= step < w + D -> the schedule's decay curve at progress = (step - w) / D
  step >= w + D     -> lr_end
"""
import math
import numbers

from mindspore import ops
from mindspore.common import dtype as mstype
from mindspore.nn.learning_rate_schedule import LearningRateSchedule

from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['ConstantWarmUpLR', 'LinearWithWarmUpLR', 'CosineWithWarmUpLR', 'CosineWithRestartsAndWarmUpLR',
           'PolynomialWithWarmUpLR', 'LearningRateWiseLayer', 'WarmUpDecayLR']


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_non_negative(name, value):
    if not _is_number(value) or value < 0 or math.isnan(value):
        raise ConfigError(f"{name} must be a number >= 0, got {value!r}; fix lr_schedule.{name}")
    return float(value)


def _check_step_count(name, value, allow_zero):
    """An integral number of steps (YAML may give 100.0); returns an int."""
    lowest = 0 if allow_zero else 1
    if not _is_number(value) or value != int(value) or value < lowest:
        kind = "an integer >= 0" if allow_zero else "a positive integer"
        hint = " (a Trainer replaces -1 by the number of training steps)" if name == 'total_steps' else ""
        raise ConfigError(f"{name} must be {kind}, got {value!r}; fix lr_schedule.{name}{hint}")
    return int(value)


def _resolve_warmup_steps(warmup_steps, warmup_ratio, total_steps):
    """warmup_ratio, when given, wins over warmup_steps: warmup_steps = int(total_steps * warmup_ratio)."""
    if warmup_ratio is not None:
        if not _is_number(warmup_ratio) or not 0.0 <= warmup_ratio <= 1.0:
            raise ConfigError(f"warmup_ratio must be in [0, 1], got {warmup_ratio!r}; fix lr_schedule.warmup_ratio")
        if total_steps is None:
            raise ConfigError(f"warmup_ratio={warmup_ratio} needs total_steps to turn it into steps; "
                              "set lr_schedule.total_steps or use warmup_steps")
        total_steps = _check_step_count('total_steps', total_steps, allow_zero=False)
        return int(total_steps * warmup_ratio)
    if warmup_steps is None:
        return 0
    return _check_step_count('warmup_steps', warmup_steps, allow_zero=True)


def _resolve_decay_steps(warmup_steps, total_steps, decay_steps):
    """decay_steps if given, else total_steps - warmup_steps."""
    if decay_steps is not None:
        return _check_step_count('decay_steps', decay_steps, allow_zero=False)
    if total_steps is None:
        raise ConfigError("total_steps is required to know where the decay ends; "
                          "set lr_schedule.total_steps (or decay_steps)")
    total_steps = _check_step_count('total_steps', total_steps, allow_zero=False)
    if warmup_steps > total_steps:
        raise ConfigError(f"warmup_steps ({warmup_steps}) exceeds total_steps ({total_steps}); "
                          "lower lr_schedule.warmup_steps/warmup_ratio or raise lr_schedule.total_steps")
    return total_steps - warmup_steps


def _warn_unused(cls_name, kwargs):
    if kwargs:
        logger.warning("%s ignores unknown arguments: %s", cls_name, ", ".join(sorted(kwargs)))


class _WarmUpThenDecayLR(LearningRateSchedule):
    """Linear warm-up, then `_decay(progress)` over `decay_steps`, then `lr_end` (if the schedule ends)."""

    def __init__(self, learning_rate, warmup_steps, warmup_lr_init, decay_steps=None, lr_end=0.0):
        super().__init__()
        self.learning_rate = learning_rate
        self.warmup_steps = warmup_steps
        self.warmup_lr_init = warmup_lr_init
        self.decay_steps = decay_steps
        self.lr_end = lr_end
        # float copies used by the graph; max(., 1) keeps the divisions defined for w = 0 or D = 0
        self._warmup_steps_f = float(warmup_steps)
        self._warmup_divisor = float(max(warmup_steps, 1))
        self._has_end = decay_steps is not None
        self._decay_divisor = float(max(decay_steps, 1)) if self._has_end else 1.0
        self._end_step = float(warmup_steps + decay_steps) if self._has_end else 0.0

    def _decay(self, progress):
        """Graph version of the decay curve; `progress` is a float32 Tensor in [0, 1]."""
        raise NotImplementedError

    def _decay_py(self, progress):
        """Python version of `_decay`."""
        raise NotImplementedError

    def construct(self, global_step):
        step = ops.reshape(ops.cast(global_step, mstype.float32), ())
        warmup_lr = self.warmup_lr_init + (self.learning_rate - self.warmup_lr_init) * (step / self._warmup_divisor)
        progress = ops.clip_by_value((step - self._warmup_steps_f) / self._decay_divisor, 0.0, 1.0)
        lr = ops.select(step < self._warmup_steps_f, warmup_lr, self._decay(progress))
        if self._has_end:
            lr = ops.select(step >= self._end_step, ops.zeros_like(lr) + self.lr_end, lr)
        return ops.cast(lr, mstype.float32)

    def get_lr(self, step):
        """The learning rate at optimizer step `step` (0-based), as a Python float."""
        step = int(step)
        if step < self.warmup_steps:
            return self.warmup_lr_init + (self.learning_rate - self.warmup_lr_init) * step / self._warmup_divisor
        if self._has_end and step >= self._end_step:
            return self.lr_end
        progress = min(max((step - self.warmup_steps) / self._decay_divisor, 0.0), 1.0)
        return self._decay_py(progress)


@MindFormerRegister.register(MindFormerModuleType.LR)
class ConstantWarmUpLR(_WarmUpThenDecayLR):
    """Linear warm-up from `warmup_lr_init` to `learning_rate`, then constant `learning_rate` forever."""

    def __init__(self, learning_rate, warmup_steps=None, warmup_lr_init=0., warmup_ratio=None, total_steps=None,
                 **kwargs):
        _warn_unused(type(self).__name__, kwargs)
        learning_rate = _check_non_negative('learning_rate', learning_rate)
        warmup_lr_init = _check_non_negative('warmup_lr_init', warmup_lr_init)
        warmup_steps = _resolve_warmup_steps(warmup_steps, warmup_ratio, total_steps)
        super().__init__(learning_rate, warmup_steps, warmup_lr_init)
        self.total_steps = total_steps

    def _decay(self, progress):
        return ops.zeros_like(progress) + self.learning_rate

    def _decay_py(self, progress):
        return self.learning_rate


@MindFormerRegister.register(MindFormerModuleType.LR)
class LinearWithWarmUpLR(_WarmUpThenDecayLR):
    """Linear warm-up to `learning_rate`, then linear decay to 0 at `total_steps`."""

    def __init__(self, learning_rate, total_steps, warmup_steps=None, warmup_lr_init=0., warmup_ratio=None,
                 **kwargs):
        _warn_unused(type(self).__name__, kwargs)
        learning_rate = _check_non_negative('learning_rate', learning_rate)
        warmup_lr_init = _check_non_negative('warmup_lr_init', warmup_lr_init)
        warmup_steps = _resolve_warmup_steps(warmup_steps, warmup_ratio, total_steps)
        decay_steps = _resolve_decay_steps(warmup_steps, total_steps, None)
        super().__init__(learning_rate, warmup_steps, warmup_lr_init, decay_steps, lr_end=0.0)
        self.total_steps = int(total_steps)

    def _decay(self, progress):
        return self.learning_rate * (1.0 - progress)

    def _decay_py(self, progress):
        return self.learning_rate * (1.0 - progress)


@MindFormerRegister.register(MindFormerModuleType.LR)
class CosineWithWarmUpLR(_WarmUpThenDecayLR):
    """Linear warm-up to `learning_rate`, then cosine decay to `lr_end` over `num_cycles` periods (0.5 = half)."""

    def __init__(self, learning_rate, warmup_steps=0, total_steps=None, num_cycles=0.5, lr_end=0.,
                 warmup_lr_init=0., warmup_ratio=None, decay_steps=None, **kwargs):
        _warn_unused(type(self).__name__, kwargs)
        learning_rate = _check_non_negative('learning_rate', learning_rate)
        lr_end = _check_non_negative('lr_end', lr_end)
        warmup_lr_init = _check_non_negative('warmup_lr_init', warmup_lr_init)
        self.num_cycles = _check_non_negative('num_cycles', num_cycles)
        warmup_steps = _resolve_warmup_steps(warmup_steps, warmup_ratio, total_steps)
        decay_steps = _resolve_decay_steps(warmup_steps, total_steps, decay_steps)
        super().__init__(learning_rate, warmup_steps, warmup_lr_init, decay_steps, lr_end)
        self.total_steps = total_steps

    def _decay(self, progress):
        # num_cycles = 0.5 gives the usual half cosine from learning_rate (progress 0) to lr_end (progress 1)
        percent = ops.maximum(0.5 * (1.0 + ops.cos(math.pi * self.num_cycles * 2.0 * progress)), 0.0)
        return self.lr_end + (self.learning_rate - self.lr_end) * percent

    def _decay_py(self, progress):
        percent = max(0.5 * (1.0 + math.cos(math.pi * self.num_cycles * 2.0 * progress)), 0.0)
        return self.lr_end + (self.learning_rate - self.lr_end) * percent


@MindFormerRegister.register(MindFormerModuleType.LR)
class CosineWithRestartsAndWarmUpLR(_WarmUpThenDecayLR):
    """Linear warm-up to `learning_rate`, then `num_cycles` half-cosines to `lr_end`, each restarting at the top."""

    def __init__(self, learning_rate, warmup_steps=None, total_steps=None, num_cycles=1., lr_end=0.,
                 warmup_lr_init=0., warmup_ratio=None, decay_steps=None, **kwargs):
        _warn_unused(type(self).__name__, kwargs)
        learning_rate = _check_non_negative('learning_rate', learning_rate)
        lr_end = _check_non_negative('lr_end', lr_end)
        warmup_lr_init = _check_non_negative('warmup_lr_init', warmup_lr_init)
        self.num_cycles = _check_non_negative('num_cycles', num_cycles)
        warmup_steps = _resolve_warmup_steps(warmup_steps, warmup_ratio, total_steps)
        decay_steps = _resolve_decay_steps(warmup_steps, total_steps, decay_steps)
        super().__init__(learning_rate, warmup_steps, warmup_lr_init, decay_steps, lr_end)
        self.total_steps = total_steps

    def _decay(self, progress):
        cycle_position = self.num_cycles * progress
        cycle_position = cycle_position - ops.floor(cycle_position)
        percent = ops.maximum(0.5 * (1.0 + ops.cos(math.pi * cycle_position)), 0.0)
        return self.lr_end + (self.learning_rate - self.lr_end) * percent

    def _decay_py(self, progress):
        cycle_position = (self.num_cycles * progress) % 1.0
        percent = max(0.5 * (1.0 + math.cos(math.pi * cycle_position)), 0.0)
        return self.lr_end + (self.learning_rate - self.lr_end) * percent


@MindFormerRegister.register(MindFormerModuleType.LR)
class PolynomialWithWarmUpLR(_WarmUpThenDecayLR):
    """Linear warm-up to `learning_rate`, then (learning_rate - lr_end) * (1 - progress)**power + lr_end."""

    def __init__(self, learning_rate, total_steps, warmup_steps=None, lr_end=1e-7, power=1.0, warmup_lr_init=0.,
                 warmup_ratio=None, decay_steps=None, **kwargs):
        _warn_unused(type(self).__name__, kwargs)
        learning_rate = _check_non_negative('learning_rate', learning_rate)
        lr_end = _check_non_negative('lr_end', lr_end)
        warmup_lr_init = _check_non_negative('warmup_lr_init', warmup_lr_init)
        self.power = _check_non_negative('power', power)
        warmup_steps = _resolve_warmup_steps(warmup_steps, warmup_ratio, total_steps)
        decay_steps = _resolve_decay_steps(warmup_steps, total_steps, decay_steps)
        super().__init__(learning_rate, warmup_steps, warmup_lr_init, decay_steps, lr_end)
        self.total_steps = total_steps

    def _decay(self, progress):
        return (self.learning_rate - self.lr_end) * ops.pow(1.0 - progress, self.power) + self.lr_end

    def _decay_py(self, progress):
        return (self.learning_rate - self.lr_end) * (1.0 - progress) ** self.power + self.lr_end


@MindFormerRegister.register(MindFormerModuleType.LR)
class LearningRateWiseLayer(LearningRateSchedule):
    """`base_lr` (a schedule) times `lr_scale`: one layer's rate under layer-wise decay."""

    def __init__(self, base_lr, lr_scale):
        super().__init__()
        if not isinstance(base_lr, LearningRateSchedule):
            raise ConfigError(f"LearningRateWiseLayer base_lr must be a learning-rate schedule, got "
                              f"{type(base_lr).__name__}")
        self.base_lr = base_lr
        self.lr_scale = float(lr_scale)

    def construct(self, global_step):
        return self.base_lr(global_step) * self.lr_scale


@MindFormerRegister.register(MindFormerModuleType.LR)
class WarmUpDecayLR(LearningRateSchedule):
    """Upstream's BERT schedule: before `warmup_steps`, learning_rate * step / warmup_steps; from then on the decay
    curve evaluated at the global step (not the step after warm-up): polynomial
    (learning_rate - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end, or with `use_cosine`
    end + (learning_rate - end) * (1 + cos(pi * min(step, decay_steps) / decay_steps)) / 2."""

    def __init__(self, learning_rate, end_learning_rate, warmup_steps, decay_steps, power=1.0, use_cosine=False,
                 total_steps=None, **kwargs):
        super().__init__()
        _warn_unused(type(self).__name__, kwargs)   # total_steps (a Trainer fills it in) plays no part here
        _check_non_negative('learning_rate', learning_rate)
        _check_non_negative('end_learning_rate', end_learning_rate)
        _check_step_count('warmup_steps', warmup_steps, allow_zero=True)
        _check_step_count('decay_steps', decay_steps, allow_zero=False)
        self.learning_rate = float(learning_rate)
        self.end_learning_rate = float(end_learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.decay_steps = int(decay_steps)
        self.power = float(power)
        self.use_cosine = bool(use_cosine)

    def get_lr(self, step):
        if step < self.warmup_steps:
            return self.learning_rate * step / self.warmup_steps
        progress = min(step, self.decay_steps) / self.decay_steps
        span = self.learning_rate - self.end_learning_rate
        if self.use_cosine:
            return self.end_learning_rate + span * 0.5 * (1 + math.cos(math.pi * progress))
        return span * (1 - progress) ** self.power + self.end_learning_rate

    def construct(self, global_step):
        step = ops.cast(global_step, mstype.float32)
        progress = ops.minimum(step, float(self.decay_steps)) / float(self.decay_steps)
        span = self.learning_rate - self.end_learning_rate
        if self.use_cosine:
            decayed = self.end_learning_rate + span * 0.5 * (1.0 + ops.cos(progress * math.pi))
        else:
            decayed = span * ops.pow(1.0 - progress, self.power) + self.end_learning_rate
        if self.warmup_steps > 0:
            warm = self.learning_rate * step / float(self.warmup_steps)
            return ops.select(step < float(self.warmup_steps), warm, decayed)
        return decayed
