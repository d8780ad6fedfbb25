"""GLM family: the processor its YAMLs (and ChatGLM2's) name."""
from .glm_processor import GLMProcessor, process_response

__all__ = ['GLMProcessor', 'process_response']
