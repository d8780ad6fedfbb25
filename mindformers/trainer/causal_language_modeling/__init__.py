"""text_generation task trainer."""
from .causal_language_modeling import CausalLanguageModelingTrainer

__all__ = ['CausalLanguageModelingTrainer']
