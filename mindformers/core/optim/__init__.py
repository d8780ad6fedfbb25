"""Optimizers, parameter grouping and the optimizer builder; importing this registers them."""
from .optim import AdamW, FP32StateAdamWeightDecay, FusedAdamWeightDecay, FusedCastAdamWeightDecay
from .came import Came
from .build_optim import build_optim
from .param_groups import get_optimizer_grouped_parameters

__all__ = ['AdamW', 'FP32StateAdamWeightDecay', 'FusedAdamWeightDecay', 'FusedCastAdamWeightDecay', 'Came',
           'build_optim', 'get_optimizer_grouped_parameters']
