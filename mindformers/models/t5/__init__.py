"""T5 family: config, encoder-decoder model, sentencepiece tokenizer and processor."""
from .t5_config import T5Config
from .t5 import T5ForConditionalGeneration, MT5ForConditionalGeneration
from .t5_tokenizer import T5Tokenizer
from .t5_processor import T5Processor

__all__ = ['T5Config', 'T5ForConditionalGeneration', 'MT5ForConditionalGeneration', 'T5Tokenizer', 'T5Processor']
