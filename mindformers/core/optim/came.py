"""CAME (Confidence-guided Adaptive Memory Efficient optimization, Luo et al. 2023) with upstream's signature.

For a matrix parameter the second moment is factored into row and column averages (as Adafactor); the update is
clipped by its RMS (`clip_threshold`), smoothed with a first moment (`beta1`), and scaled by the factored inverse
square root of its instability (update - first moment)^2 (`beta3`): the confidence term. Vectors keep a full
second moment and skip the confidence term. The second-moment decay grows with the step:
beta2_t = 1 - step^(-decay_rate). `scale_parameter` multiplies the learning rate by max(eps[1], RMS(param)).
"""
import numbers

import numpy as np
from mindspore import nn, ops
from mindspore.common import dtype as mstype
from mindspore.common.initializer import initializer
from mindspore.common.parameter import Parameter, ParameterTuple
from mindspore.common.tensor import Tensor
from mindspore.ops import composite as C
from mindspore.ops import functional as F

from mindformers.tools.errors import ConfigError, ConfigTypeError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['Came']

_came_update = C.MultitypeFuncGraph("came_update")


def _rms(x):
    return ops.sqrt(ops.mean(ops.square(x)))


def _factored_rsqrt(row, col):
    """rsqrt of the rank-1 estimate row_i * col_j / mean(row): (..., rows, 1) x (..., 1, cols)."""
    row_factor = ops.rsqrt(row / ops.mean(row, -1, keep_dims=True))
    return ops.expand_dims(row_factor, -1) * ops.expand_dims(ops.rsqrt(col), -2)


@_came_update.register("Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Bool", "Bool",
                       "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor",
                       "Tensor", "Bool", "Bool")
def _came_update_one(eps, clip_threshold, beta1, beta3, beta2t, lr, weight_decay, scale_parameter, use_first_moment,
                     param, exp_avg, row, col, insta_row, insta_col, exp_avg_sq, gradient, eps1, eps3, decay_flag,
                     factored):
    """One parameter's CAME step in float32, written back in each state's dtype."""
    grad = F.cast(gradient, mstype.float32)
    param_fp32 = F.cast(param, mstype.float32)
    lr_t = lr * ops.maximum(eps, _rms(param_fp32)) if scale_parameter else lr
    squared = ops.square(grad) + eps1
    if factored:
        next_row = beta2t * row + (1.0 - beta2t) * ops.mean(squared, -1)
        next_col = beta2t * col + (1.0 - beta2t) * ops.mean(squared, -2)
        update = grad * _factored_rsqrt(next_row, next_col)
        param_fp32 = F.depend(param_fp32, F.assign(row, F.cast(next_row, F.dtype(row))))
        param_fp32 = F.depend(param_fp32, F.assign(col, F.cast(next_col, F.dtype(col))))
    else:
        next_sq = beta2t * exp_avg_sq + (1.0 - beta2t) * squared
        update = grad * ops.rsqrt(next_sq)
        param_fp32 = F.depend(param_fp32, F.assign(exp_avg_sq, F.cast(next_sq, F.dtype(exp_avg_sq))))
    update = update / ops.maximum(_rms(update) / clip_threshold, 1.0)
    moment = update * 0.0
    if use_first_moment:
        moment = beta1 * exp_avg + (1.0 - beta1) * update
        param_fp32 = F.depend(param_fp32, F.assign(exp_avg, F.cast(moment, F.dtype(exp_avg))))
    if factored:
        instability = ops.square(update - moment) + eps3
        next_insta_row = beta3 * insta_row + (1.0 - beta3) * ops.mean(instability, -1)
        next_insta_col = beta3 * insta_col + (1.0 - beta3) * ops.mean(instability, -2)
        step = _factored_rsqrt(next_insta_row, next_insta_col) * moment * lr_t
        param_fp32 = F.depend(param_fp32, F.assign(insta_row, F.cast(next_insta_row, F.dtype(insta_row))))
        param_fp32 = F.depend(param_fp32, F.assign(insta_col, F.cast(next_insta_col, F.dtype(insta_col))))
    else:
        step = moment * lr_t
    if decay_flag:
        param_fp32 = param_fp32 - weight_decay * lr_t * param_fp32
    return F.assign(param, F.cast(param_fp32 - step, F.dtype(param)))


def _float_in(name, value, low, high):
    if not isinstance(value, float):
        raise ConfigTypeError(f"Came: {name} must be a float, got {value!r}; fix optimizer.{name}")
    if not low <= value <= high:
        raise ConfigError(f"Came: {name} must be in [{low}, {high}], got {value}; fix optimizer.{name}")


@MindFormerRegister.register(MindFormerModuleType.OPTIMIZER)
class Came(nn.Optimizer):
    """Came(params, learning_rate, eps=(1e-30, 1e-3, 1e-16), clip_threshold=1.0, decay_rate=0.8, beta1=0.9,
    beta3=0.99, weight_decay=0.0, scale_parameter=False, relative_step=False, warmup_init=False,
    compression=False, loss_scale=1). eps: (added to the squared gradient, the floor of RMS(param) under
    scale_parameter, added to the instability). relative_step / warmup_init (a step-dependent learning rate) are
    refused: give learning_rate (a number or a schedule)."""

    def __init__(self, params, learning_rate=None, eps=(1e-30, 1e-3, 1e-16), clip_threshold=1.0, decay_rate=0.8,
                 beta1=0.9, beta3=0.99, weight_decay=0.0, scale_parameter=False, relative_step=False,
                 warmup_init=False, compression=False, loss_scale=1):
        for name, value in (('scale_parameter', scale_parameter), ('relative_step', relative_step),
                            ('warmup_init', warmup_init), ('compression', compression)):
            if not isinstance(value, bool):
                raise ConfigTypeError(f"Came: {name} must be True or False, got {value!r}")
        if compression:
            raise ConfigError("Came: compression=True is not supported (as upstream)")
        if relative_step or warmup_init:
            raise ConfigError("Came: relative_step / warmup_init (a step-dependent learning rate) are not "
                              "implemented; give learning_rate")
        if learning_rate is None:
            raise ConfigError("Came: learning_rate is required")
        if not isinstance(loss_scale, int) or isinstance(loss_scale, bool):
            raise ConfigTypeError(f"Came: loss_scale must be an int, got {loss_scale!r}")
        if not isinstance(eps, (list, tuple)) or len(eps) != 3:
            raise ConfigError(f"Came: eps must have 3 values (eps1, eps2, eps3), got {eps!r}")
        for value in eps:
            if not isinstance(value, float) or value < 0:
                raise ConfigError(f"Came: every eps must be a float >= 0, got {eps!r}")
        if not isinstance(clip_threshold, float) or clip_threshold < 0:
            raise ConfigError(f"Came: clip_threshold must be a float >= 0, got {clip_threshold!r}")
        _float_in('decay_rate', decay_rate, 0.0, 1.0)
        _float_in('beta1', beta1, 0.0, 1.0)
        _float_in('beta3', beta3, 0.0, 1.0)
        if isinstance(weight_decay, numbers.Real) and not isinstance(weight_decay, bool):
            _float_in('weight_decay', float(weight_decay), 0.0, 1.0)
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        self.eps1, self.eps2, self.eps3 = (Tensor(np.array(value, np.float32)) for value in eps)
        self.clip_threshold = Tensor(np.array(clip_threshold, np.float32))
        self.decay_rate = float(decay_rate)
        self.beta1 = Tensor(np.array(beta1, np.float32))
        self.beta3 = Tensor(np.array(beta3, np.float32))
        self.scale_parameter = scale_parameter
        self.use_first_moment = beta1 > 0
        self.factored = tuple(len(param.shape) >= 2 for param in self._parameters)

        def state(prefix, shape_of):
            return ParameterTuple(Parameter(initializer('zeros', shape_of(param, factored), param.dtype),
                                            name=f"{prefix}_{param.name}", requires_grad=False)
                                  for param, factored in zip(self._parameters, self.factored))
        self.exp_avg = ParameterTuple(
            Parameter(initializer('zeros', param.shape if self.use_first_moment else (1,), param.dtype),
                      name=f"exp_avg.{param.name}", requires_grad=False) for param in self._parameters)
        self.exp_avg_sq_row = state('exp_avg_sq_row', lambda p, f: p.shape[:-1] if f else (1,))
        self.exp_avg_sq_col = state('exp_avg_sq_col', lambda p, f: p.shape[:-2] + p.shape[-1:] if f else (1,))
        self.exp_avg_insta_row = state('exp_avg_insta_row', lambda p, f: p.shape[:-1] if f else (1,))
        self.exp_avg_insta_col = state('exp_avg_insta_col', lambda p, f: p.shape[:-2] + p.shape[-1:] if f else (1,))
        self.exp_avg_sq = state('exp_avg_sq', lambda p, f: (1,) if f else p.shape)

    def construct(self, gradients):
        gradients = self.flatten_gradients(gradients)
        gradients = self.scale_grad(gradients)
        weight_decay = self.get_weight_decay()
        lr = self.get_lr()
        step = ops.reshape(F.cast(self.global_step, mstype.float32), ()) + 1.0
        beta2t = 1.0 - ops.pow(step, -self.decay_rate)
        count = len(self._parameters)
        eps1, eps3 = (self.eps1,) * count, (self.eps3,) * count
        scale, first = (self.scale_parameter,) * count, (self.use_first_moment,) * count
        # one partial per case: MindSpore cannot specialise a partial of a partial inside hyper_map
        head = (self.eps2, self.clip_threshold, self.beta1, self.beta3, beta2t)
        if self.is_group_lr:
            result = self.hyper_map(F.partial(_came_update, head[0], head[1], head[2], head[3], head[4]), lr,
                                    weight_decay, scale, first, self._parameters, self.exp_avg, self.exp_avg_sq_row,
                                    self.exp_avg_sq_col, self.exp_avg_insta_row,
                                    self.exp_avg_insta_col, self.exp_avg_sq, gradients, eps1, eps3, self.decay_flags,
                                    self.factored)
        elif self.is_group:
            result = self.hyper_map(F.partial(_came_update, head[0], head[1], head[2], head[3], head[4], lr),
                                    weight_decay, scale, first, self._parameters, self.exp_avg,
                                    self.exp_avg_sq_row, self.exp_avg_sq_col, self.exp_avg_insta_row,
                                    self.exp_avg_insta_col, self.exp_avg_sq, gradients, eps1, eps3, self.decay_flags,
                                    self.factored)
        else:
            result = self.hyper_map(F.partial(_came_update, head[0], head[1], head[2], head[3], head[4], lr,
                                              weight_decay, self.scale_parameter, self.use_first_moment),
                                    self._parameters, self.exp_avg, self.exp_avg_sq_row, self.exp_avg_sq_col,
                                    self.exp_avg_insta_row, self.exp_avg_insta_col, self.exp_avg_sq, gradients, eps1,
                                    eps3, self.decay_flags, self.factored)
        self.assignadd(self.global_step, self.global_step_increase_tensor)
        return result
