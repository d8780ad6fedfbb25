"""translation task trainer."""
from .translation_finetune import TranslationTrainer

__all__ = ['TranslationTrainer']
