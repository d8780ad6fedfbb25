"""fill_mask task trainer."""
from .masked_language_modeling_pretrain import MaskedLanguageModelingTrainer

__all__ = ['MaskedLanguageModelingTrainer']
