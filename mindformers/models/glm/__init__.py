"""GLM family (GLM-6B / ChatGLM-6B): config, networks, tokenizer, and the processor its YAMLs (and ChatGLM2's) name."""
from .glm_config import GLMConfig
from .glm import GLMModel, GLMForPreTraining, GLMChatModel, GLMForPreTrainingWithLora, GLMChatModelWithLora
from .chatglm_6b_tokenizer import ChatGLMTokenizer
from .glm_processor import GLMProcessor, process_response

__all__ = ['GLMConfig', 'GLMModel', 'GLMForPreTraining', 'GLMChatModel', 'GLMForPreTrainingWithLora',
           'GLMChatModelWithLora', 'ChatGLMTokenizer', 'GLMProcessor', 'process_response']
