"""Learning-rate schedules and their builder; importing this registers them."""
from .lr_schedule import (ConstantWarmUpLR, CosineWithRestartsAndWarmUpLR, CosineWithWarmUpLR, LinearWithWarmUpLR,
                          PolynomialWithWarmUpLR, LearningRateWiseLayer, WarmUpDecayLR)
from .build_lr import build_lr

__all__ = ['ConstantWarmUpLR', 'LinearWithWarmUpLR', 'CosineWithWarmUpLR', 'CosineWithRestartsAndWarmUpLR',
           'PolynomialWithWarmUpLR', 'LearningRateWiseLayer', 'WarmUpDecayLR', 'build_lr']
