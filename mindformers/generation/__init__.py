"""Text generation: config, logits processors, the generate loop."""
from .generation_config import GenerationConfig
from .text_generator import GeneratorMixin

__all__ = ['GenerationConfig', 'GeneratorMixin']
