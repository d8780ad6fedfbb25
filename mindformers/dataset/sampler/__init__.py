"""Dataset samplers by name: every mindspore.dataset sampler (RandomSampler, DistributedSampler, ...)."""
from .build_sampler import build_sampler

__all__ = ['build_sampler']
