"""LLaMA family: config, network, tokenizer and processor."""
from .llama_config import LlamaConfig
from .llama import LlamaForCausalLM, LlamaModel
from .llama_tokenizer import LlamaTokenizer
from .llama_processor import LlamaProcessor

__all__ = ['LlamaConfig', 'LlamaForCausalLM', 'LlamaModel', 'LlamaTokenizer', 'LlamaProcessor']
