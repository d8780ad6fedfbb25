"""Model families, their tokenizers and processors, and the builders that make them from config."""
from .base_config import BaseConfig
from .base_model import BaseModel
from .base_tokenizer import PreTrainedTokenizer, BaseTokenizer, Tokenizer, SpecialTokensMixin
from .base_processor import BaseProcessor, BaseAudioProcessor
from .build_config import build_model_config
from .build_model import build_model, build_network
from .build_tokenizer import build_tokenizer
from .build_processor import build_processor
from .bpe_tokenizer import BPETokenizer
from .llama import LlamaConfig, LlamaForCausalLM, LlamaModel, LlamaTokenizer, LlamaProcessor
from .gpt2 import GPT2Config, GPT2LMHeadModel, GPT2ForSequenceClassification, GPT2Model, GPT2Tokenizer, GPT2Processor
from .bloom import BloomConfig, BloomLMHeadModel, BloomModel, BloomRewardModel, VHead, BloomTokenizer, BloomProcessor
from .glm import GLMConfig, GLMModel, GLMForPreTraining, GLMChatModel, GLMForPreTrainingWithLora, \
    GLMChatModelWithLora, ChatGLMTokenizer, GLMProcessor
from .pangualpha import PanguAlphaConfig, PanguAlphaModel, PanguAlphaHeadModel, \
    PanguAlphaPromptTextClassificationModel, PanguAlphaTokenizer, PanguAlphaProcessor
from .glm2 import ChatGLM2Config, ChatGLM2ForConditionalGeneration, ChatGLM2Model, ChatGLM2Tokenizer, \
    ChatGLM2WithLora, ChatGLM2WithPtuning2
from .bert import BertConfig, BertModel, BertForPreTraining, BertForMaskedLM, BertForSequenceClassification, \
    BertForMultipleChoice, BertForTokenClassification, BertForQuestionAnswering, BertTokenizer, BertProcessor
from .t5 import T5Config, T5ForConditionalGeneration, MT5ForConditionalGeneration, T5Tokenizer, T5Processor
from .bert.t5_pegasus_tokenizer import T5PegasusTokenizer
from .bert.bert_tokenizer import BasicTokenizer
from .glm3 import ChatGLM3Tokenizer
from .tokenization_fast import (GPT2TokenizerFast, BloomTokenizerFast, BertTokenizerFast, LlamaTokenizerFast,
                                T5TokenizerFast)
from .image_processor import BaseImageProcessor
from .vit import ViTConfig, ViTModel, ViTForImageClassification, ViTImageProcessor, ViTProcessor
from .swin import SwinConfig, SwinModel, SwinForImageClassification, SwinImageProcessor, SwinProcessor
from .mae import ViTMAEConfig, ViTMAEModel, ViTMAEForPreTraining, ViTMAEImageProcessor, ViTMAEProcessor
from .clip import CLIPConfig, CLIPTextConfig, CLIPVisionConfig, CLIPModel, CLIPTokenizer, CLIPImageProcessor, \
    CLIPProcessor
