"""Text generation: config, logits processors, the generate loop (full or KV-cache), streamers."""
from .generation_config import GenerationConfig
from .text_generator import GeneratorMixin, GenerateOutput
from .streamers import BaseStreamer, TextStreamer, TextIteratorStreamer
from .logits_process import (LogitsProcessor, LogitsWarper, LogitsProcessorList, RepetitionPenaltyLogitsProcessor,
                             LogitNormalization, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper)

__all__ = ['GenerationConfig', 'GeneratorMixin', 'GenerateOutput', 'BaseStreamer', 'TextStreamer',
           'TextIteratorStreamer', 'LogitsProcessor', 'LogitsWarper', 'LogitsProcessorList',
           'RepetitionPenaltyLogitsProcessor', 'LogitNormalization', 'TemperatureLogitsWarper', 'TopKLogitsWarper',
           'TopPLogitsWarper']
