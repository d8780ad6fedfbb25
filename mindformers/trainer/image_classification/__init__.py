"""image_classification task trainer."""
from .image_classification import ImageClassificationTrainer

__all__ = ['ImageClassificationTrainer']
