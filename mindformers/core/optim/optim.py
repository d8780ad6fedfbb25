"""Adam-family optimizers: FusedAdamWeightDecay, FP32StateAdamWeightDecay, FusedCastAdamWeightDecay and
PyTorch-style AdamW.

All of them are MindSpore `nn.Optimizer`s, so they take a parameter list or parameter groups
(`[{'params': [...], 'weight_decay': x, 'lr': y}, ..., {'order_params': [...]}]`) and run inside a
GRAPH_MODE train step. `learning_rate` may be a float, a Tensor or a `LearningRateSchedule`
(evaluated at the optimizer's own `global_step`, 0 at the first update).

Without groups, MindSpore's convention applies: parameters whose name contains `beta` or `gamma`
are not decayed. `get_optimizer_grouped_parameters` builds the usual groups instead.
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

from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['FusedAdamWeightDecay', 'FP32StateAdamWeightDecay', 'FusedCastAdamWeightDecay', 'AdamW']


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_adam_args(beta1, beta2, eps, weight_decay):
    """One-line ConfigErrors for the hyper-parameters every Adam variant shares; returns them as floats."""
    for name, beta in (('beta1', beta1), ('beta2', beta2)):
        if not _is_number(beta) or not 0.0 <= beta < 1.0:
            raise ConfigError(f"{name} must be in [0, 1), got {beta!r}; fix optimizer.{name}")
    if not _is_number(eps) or eps <= 0:
        raise ConfigError(f"eps must be > 0, got {eps!r}; fix optimizer.eps")
    if _is_number(weight_decay) and weight_decay < 0:
        raise ConfigError(f"weight_decay must be >= 0, got {weight_decay!r}; fix optimizer.weight_decay")
    if isinstance(weight_decay, numbers.Integral) and not isinstance(weight_decay, bool):
        weight_decay = float(weight_decay)
    return float(beta1), float(beta2), float(eps), weight_decay


def _fp32_zeros_like(parameters, prefix):
    """Zero-initialised float32 state named `<prefix>.<param name>`, whatever the parameters' dtype."""
    return ParameterTuple(Parameter(initializer('zeros', param.shape, mstype.float32),
                                    name=f"{prefix}.{param.name}", requires_grad=False)
                          for param in parameters)


@MindFormerRegister.register(MindFormerModuleType.OPTIMIZER)
class FusedAdamWeightDecay(nn.AdamWeightDecay):
    """Adam with decoupled weight decay and no bias correction: MindSpore `AdamWeightDecay` (its fused kernel)."""

    def __init__(self, params, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.0):
        beta1, beta2, eps, weight_decay = _check_adam_args(beta1, beta2, eps, weight_decay)
        super().__init__(params, learning_rate=learning_rate, beta1=beta1, beta2=beta2, eps=eps,
                         weight_decay=weight_decay)


@MindFormerRegister.register(MindFormerModuleType.OPTIMIZER)
class FP32StateAdamWeightDecay(nn.AdamWeightDecay):
    """`AdamWeightDecay` whose moments are float32 even for float16/bfloat16 parameters; the update runs in float32."""

    def __init__(self, params, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.0):
        beta1, beta2, eps, weight_decay = _check_adam_args(beta1, beta2, eps, weight_decay)
        super().__init__(params, learning_rate=learning_rate, beta1=beta1, beta2=beta2, eps=eps,
                         weight_decay=weight_decay)
        self.moments1 = _fp32_zeros_like(self._parameters, 'adam_m')
        self.moments2 = _fp32_zeros_like(self._parameters, 'adam_v')
        # the fused kernel wants moments of the parameter's dtype; MindSpore's composed update casts to float32
        self.use_fused_opt = False


@MindFormerRegister.register(MindFormerModuleType.OPTIMIZER)
class FusedCastAdamWeightDecay(FP32StateAdamWeightDecay):
    """Upstream's host-offloaded AdamWeightDecay for float16 parameters: float32 moments `adam_m` / `adam_v`, the
    gradient cast to float32 and divided by max(global gradient norm, clip_norm) before the step (with the default
    clip_norm 1.0: clipping to norm 1), then AdamWeightDecay's update (no bias correction). construct(gradients,
    clip_value=None): clip_value is the global norm the training cell computed; None computes it here."""

    def __init__(self, params, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.0, clip_norm=1.0):
        if not _is_number(clip_norm) or clip_norm <= 0:
            raise ConfigError(f"clip_norm must be > 0, got {clip_norm!r}; fix optimizer.clip_norm")
        super().__init__(params, learning_rate=learning_rate, beta1=beta1, beta2=beta2, eps=eps,
                         weight_decay=weight_decay)
        self.clip_norm = Tensor(np.array(clip_norm, np.float32))

    def construct(self, gradients, clip_value=None):
        gradients = tuple(F.cast(g, mstype.float32) for g in gradients)
        if clip_value is None:
            clip_value = ops.sqrt(ops.addn([ops.reduce_sum(ops.square(g)) for g in gradients]))
        divisor = ops.maximum(F.cast(clip_value, mstype.float32), self.clip_norm)
        return super().construct(tuple(g / divisor for g in gradients))


_adamw_update = C.MultitypeFuncGraph("adamw_update")


@_adamw_update.register("Function", "Bool", "Bool", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor",
                        "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Tensor", "Bool", "Bool")
def _adamw_update_one(fused_kernel, amsgrad, maximize, beta1, beta2, eps, bias_correction1, bias_correction2_sqrt,
                      lr, weight_decay, param, exp_avg, exp_avg_sq, max_exp_avg_sq, gradient, decay_flag, fused):
    """One parameter's AdamW step in float32, written back in the parameter's dtype.

    A float32 parameter without amsgrad/maximize takes MindSpore's fused `AdamWeightDecay` kernel (one pass over
    the tensor instead of about twenty): with lr' = lr * sqrt(bc2) / bc1, eps' = eps * sqrt(bc2) and
    decay' = weight_decay * bc1 / sqrt(bc2), its `p -= lr' * (m / (sqrt(v) + eps') + decay' * p)` is exactly
    torch's `p -= lr * weight_decay * p; p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)`.
    """
    if fused:
        decay = weight_decay * bias_correction1 / bias_correction2_sqrt if decay_flag else weight_decay * 0.0
        return fused_kernel(param, exp_avg, exp_avg_sq, lr * bias_correction2_sqrt / bias_correction1, beta1, beta2,
                            eps * bias_correction2_sqrt, decay, F.cast(gradient, mstype.float32))
    param_fp32 = F.cast(param, mstype.float32)
    grad = F.cast(gradient, mstype.float32)
    if maximize:
        grad = -grad
    if decay_flag:
        # decoupled weight decay, applied before the Adam step as in torch.optim.AdamW
        param_fp32 = param_fp32 - lr * weight_decay * param_fp32
    next_exp_avg = beta1 * exp_avg + (1.0 - beta1) * grad
    next_exp_avg_sq = beta2 * exp_avg_sq + (1.0 - beta2) * ops.square(grad)
    second_moment = next_exp_avg_sq
    if amsgrad:
        second_moment = ops.maximum(max_exp_avg_sq, next_exp_avg_sq)
        param_fp32 = F.depend(param_fp32, F.assign(max_exp_avg_sq, second_moment))
    denom = ops.sqrt(second_moment) / bias_correction2_sqrt + eps
    next_param = param_fp32 - (lr / bias_correction1) * next_exp_avg / denom
    next_param = F.depend(next_param, F.assign(exp_avg, next_exp_avg))
    next_param = F.depend(next_param, F.assign(exp_avg_sq, next_exp_avg_sq))
    return F.assign(param, F.cast(next_param, F.dtype(param)))


@MindFormerRegister.register(MindFormerModuleType.OPTIMIZER)
class AdamW(nn.Optimizer):
    """torch.optim.AdamW: bias-corrected Adam plus decoupled weight decay `param -= lr * weight_decay * param`.

    Moments are float32 for every parameter dtype; the step count is the optimizer's `global_step`.
    """

    def __init__(self, params, learning_rate=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False):
        if not isinstance(betas, (list, tuple)) or len(betas) != 2:
            raise ConfigError(f"betas must be a pair [beta1, beta2], got {betas!r}; fix optimizer.betas")
        beta1, beta2, eps, weight_decay = _check_adam_args(betas[0], betas[1], eps, weight_decay)
        super().__init__(learning_rate, params, weight_decay)
        self.amsgrad = bool(amsgrad)
        self.maximize = bool(maximize)
        self.beta1 = Tensor(np.array(beta1, np.float32))
        self.beta2 = Tensor(np.array(beta2, np.float32))
        self.eps = Tensor(np.array(eps, np.float32))
        self.exp_avg = _fp32_zeros_like(self._parameters, 'adam_m')
        self.exp_avg_sq = _fp32_zeros_like(self._parameters, 'adam_v')
        # without amsgrad the running maximum is never read; pass exp_avg_sq in its place
        self.max_exp_avg_sq = (_fp32_zeros_like(self._parameters, 'max_exp_avg_sq') if self.amsgrad
                               else self.exp_avg_sq)
        self.fused_kernel = ops.AdamWeightDecay()
        self.fused_flags = tuple(param.dtype == mstype.float32 and not (self.amsgrad or self.maximize)
                                 for param in self._parameters)

    def construct(self, gradients):
        weight_decay = self.get_weight_decay()
        lr = self.get_lr()
        # step t = 1 at the first update; global_step still holds t - 1 here
        step = ops.reshape(F.cast(self.global_step, mstype.float32), ()) + 1.0
        bias_correction1 = 1.0 - ops.pow(self.beta1, step)
        bias_correction2_sqrt = ops.sqrt(1.0 - ops.pow(self.beta2, step))
        # one partial per case: MindSpore cannot specialise a partial of a partial inside hyper_map
        update = F.partial(_adamw_update, self.fused_kernel, self.amsgrad, self.maximize, self.beta1, self.beta2,
                           self.eps, bias_correction1, bias_correction2_sqrt)
        if self.is_group_lr:
            result = self.hyper_map(update, lr, weight_decay, self._parameters, self.exp_avg, self.exp_avg_sq,
                                    self.max_exp_avg_sq, gradients, self.decay_flags, self.fused_flags)
        elif self.is_group:
            update = F.partial(_adamw_update, self.fused_kernel, self.amsgrad, self.maximize, self.beta1, self.beta2,
                               self.eps, bias_correction1, bias_correction2_sqrt, lr)
            result = self.hyper_map(update, weight_decay, self._parameters, self.exp_avg, self.exp_avg_sq,
                                    self.max_exp_avg_sq, gradients, self.decay_flags, self.fused_flags)
        else:
            update = F.partial(_adamw_update, self.fused_kernel, self.amsgrad, self.maximize, self.beta1, self.beta2,
                               self.eps, bias_correction1, bias_correction2_sqrt, lr, weight_decay)
            result = self.hyper_map(update, self._parameters, self.exp_avg, self.exp_avg_sq,
                                    self.max_exp_avg_sq, gradients, self.decay_flags, self.fused_flags)
        self.assignadd(self.global_step, self.global_step_increase_tensor)
        return result
