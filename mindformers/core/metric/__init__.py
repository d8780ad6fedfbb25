"""Metrics."""
from .metric import PerplexityMetric
from .build_metric import build_metric

__all__ = ['PerplexityMetric', 'build_metric']
