"""ChatGLM3: its tokenizer (the network is ChatGLM2's)."""
from .glm3_tokenizer import ChatGLM3Tokenizer

__all__ = ['ChatGLM3Tokenizer']
