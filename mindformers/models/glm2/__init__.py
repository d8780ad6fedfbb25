"""ChatGLM2 family: config and networks."""
from .glm2_config import ChatGLM2Config
from .glm2 import ChatGLM2ForConditionalGeneration, ChatGLM2Model

__all__ = ['ChatGLM2Config', 'ChatGLM2ForConditionalGeneration', 'ChatGLM2Model']
