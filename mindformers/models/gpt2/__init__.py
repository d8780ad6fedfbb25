"""GPT-2 family: config, networks (LM head, sequence classification), tokenizer and processor."""
from .gpt2_config import GPT2Config
from .gpt2 import GPT2LMHeadModel, GPT2ForSequenceClassification, GPT2Model
from .gpt2_tokenizer import GPT2Tokenizer
from .gpt2_processor import GPT2Processor

__all__ = ['GPT2Config', 'GPT2LMHeadModel', 'GPT2ForSequenceClassification', 'GPT2Model', 'GPT2Tokenizer',
           'GPT2Processor']
