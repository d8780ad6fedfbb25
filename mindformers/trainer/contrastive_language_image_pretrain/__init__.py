"""The contrastive_language_image_pretrain task."""
from .contrastive_language_image_pretrain import ContrastiveLanguageImagePretrainTrainer

__all__ = ['ContrastiveLanguageImagePretrainTrainer']
