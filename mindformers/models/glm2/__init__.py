"""ChatGLM2 family: config, networks and tokenizer."""
from .glm2_config import ChatGLM2Config
from .glm2 import ChatGLM2ForConditionalGeneration, ChatGLM2Model, ChatGLM2WithLora, ChatGLM2WithPtuning2
from .glm2_tokenizer import ChatGLM2Tokenizer

__all__ = ['ChatGLM2Config', 'ChatGLM2ForConditionalGeneration', 'ChatGLM2Model', 'ChatGLM2WithLora',
           'ChatGLM2WithPtuning2', 'ChatGLM2Tokenizer']
