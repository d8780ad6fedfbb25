"""Optimizers, parameter grouping and the optimizer builder; importing this registers them."""
from .optim import AdamW, FP32StateAdamWeightDecay, FusedAdamWeightDecay
from .build_optim import build_optim
from .param_groups import get_optimizer_grouped_parameters

__all__ = ['AdamW', 'FP32StateAdamWeightDecay', 'FusedAdamWeightDecay', 'build_optim',
           'get_optimizer_grouped_parameters']
