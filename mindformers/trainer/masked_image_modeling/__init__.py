"""masked_image_modeling task trainer."""
from .masked_image_modeling_pretrain import MaskedImageModelingTrainer

__all__ = ['MaskedImageModelingTrainer']
