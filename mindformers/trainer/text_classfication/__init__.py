"""text_classification task trainer (upstream keeps it in this folder, spelled `text_classfication`)."""
from .text_classification import TextClassificationTrainer

__all__ = ['TextClassificationTrainer']
