"""AdaptiveLossScaleUpdateCell: a dynamic loss scale whose growth window adapts. The scale halves (/ scale_factor,
never below 1) on overflow and grows (x scale_factor) after `scale_window` clean steps; after 3 growths the
window moves up a ladder of windows between min_scale_window and max_scale_window, after 3 overflows without a
growth between them it drops to 1 step (and climbs the ladder from its bottom again)."""
import numpy as np
import mindspore as ms
from mindspore import ops, Parameter, Tensor

from mindformers.tools.errors import ConfigError, ConfigTypeError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.wrapper.wrapper import DynamicLossScale

__all__ = ['AdaptiveLossScaleUpdateCell']

_WINDOW_INTERVAL = 100
_WINDOW_FACTOR = 2
_THRESHOLD = 3          # growths (or overflows) that move the window
_COUNTER_MOD = 4


def scale_windows(max_scale_window, min_scale_window):
    """The ladder of windows, smallest first: from max down by halving to hundreds, then in steps of min/2."""
    window = max_scale_window
    ladder = [int(window)]
    while window > min_scale_window:
        if window > _WINDOW_INTERVAL:
            window = int(window / _WINDOW_FACTOR / _WINDOW_INTERVAL) * _WINDOW_INTERVAL
        elif window == _WINDOW_INTERVAL:
            window = window / _WINDOW_FACTOR
        else:
            window = window - min_scale_window / _WINDOW_FACTOR
        ladder.append(int(window))
    return ladder[::-1]


@MindFormerRegister.register(MindFormerModuleType.WRAPPER)
class AdaptiveLossScaleUpdateCell(DynamicLossScale):
    """Pass as `scale_sense` of MFTrainOneStepCell (or MFPipelineWithLossScaleCell), like DynamicLossScale."""

    def __init__(self, loss_scale_value, scale_factor, scale_window, max_scale_window=1000, min_scale_window=20):
        for name, value in (('max_scale_window', max_scale_window), ('min_scale_window', min_scale_window)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigTypeError(f"AdaptiveLossScaleUpdateCell: {name} must be an int, got {value!r}")
        if min_scale_window <= 0 or max_scale_window <= min_scale_window:
            raise ConfigError(f"AdaptiveLossScaleUpdateCell: need 0 < min_scale_window < max_scale_window, got "
                              f"{min_scale_window} and {max_scale_window}")
        super().__init__(loss_scale_value, scale_factor, scale_window)
        self.windows = scale_windows(max_scale_window, min_scale_window)
        if scale_window in self.windows:
            index = self.windows.index(scale_window)
        else:
            logger.warning("AdaptiveLossScaleUpdateCell: scale_window %s is not one of the windows %s; starting at "
                           "%s", scale_window, self.windows, self.windows[0])
            index = 0
        self.window_table = Tensor(np.array(self.windows, np.int32))
        self.last_index = len(self.windows) - 1

        def counter(name, value):
            return Parameter(Tensor(value, ms.int32), name=name, requires_grad=False)
        self.current_window = counter('scale_window', self.windows[index])
        self.list_index = counter('list_index', index)
        self.scale_window_up_count = counter('scale_window_up_count', 0)
        self.scale_window_down_count = counter('scale_window_down_count', 0)
        self.current_iterator_step = counter('current_iterator_step', 1)
        self.last_overflow_iterator_step = counter('last_overflow_iterator_step', 0)

    def get_loss_scale(self):
        return self.loss_scale_value

    def construct(self, scale, overflow):
        overflow = ops.cast(overflow, ms.bool_)
        lowered = ops.select(overflow, ops.maximum(scale / self.scale_factor, 1.0), scale)
        step = self.current_iterator_step
        should_grow = self.current_window <= step - self.last_overflow_iterator_step
        ops.assign(self.last_overflow_iterator_step,
                   ops.select(ops.logical_or(overflow, should_grow), step, self.last_overflow_iterator_step))
        grow = ops.logical_and(should_grow, ops.logical_not(overflow))
        ops.assign(scale, ops.select(grow, lowered * self.scale_factor, lowered))
        ops.assign(self.current_iterator_step, step + 1)

        zero = ops.zeros((), ms.int32)
        up = ops.select(grow, (self.scale_window_up_count + 1) % _COUNTER_MOD, self.scale_window_up_count)
        down = ops.select(grow, zero, self.scale_window_down_count)
        index = self.list_index
        widen = ops.logical_and(up == _THRESHOLD, index != self.last_index)
        following = ops.select(index == -1, zero, index + 1)
        window = ops.select(widen, ops.gather(self.window_table, ops.minimum(following, self.last_index), 0),
                            self.current_window)
        index = ops.select(widen, following, index)
        up = ops.select(widen, zero, up)
        down = ops.select(overflow, (down + 1) % _COUNTER_MOD, down)
        narrow = ops.logical_and(ops.logical_and(overflow, down == _THRESHOLD),
                                 ops.logical_and(index != -1, index != 0))
        ops.assign(self.current_window, ops.select(narrow, ops.ones((), ms.int32), window))
        ops.assign(self.list_index, ops.select(narrow, -ops.ones((), ms.int32), index))
        ops.assign(self.scale_window_up_count, ops.select(narrow, zero, up))
        ops.assign(self.scale_window_down_count, ops.select(narrow, zero, down))
        return overflow
