"""Metrics."""
from .metric import PerplexityMetric, PromptAccMetric, MLMPerplexityMetric
from .text_generation_metrics import ADGENMetric, EmF1Metric
from .token_classification_metrics import EntityScore
from .question_answering_metrics import SQuADMetric
from .translation_metrics import BleuMetric
from .build_metric import build_metric

__all__ = ['PerplexityMetric', 'PromptAccMetric', 'MLMPerplexityMetric', 'ADGENMetric', 'EmF1Metric', 'EntityScore',
           'SQuADMetric', 'BleuMetric', 'build_metric']
