"""image_classification and zero_shot_image_classification task trainers."""
from .image_classification import ImageClassificationTrainer
from .zero_shot_image_classification import ZeroShotImageClassificationTrainer

__all__ = ['ImageClassificationTrainer', 'ZeroShotImageClassificationTrainer']
