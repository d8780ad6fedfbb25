"""token_classification task trainer."""
from .token_classification import TokenClassificationTrainer

__all__ = ['TokenClassificationTrainer']
