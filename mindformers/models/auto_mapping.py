"""Static name tables for the AutoClasses and convert_weight.py: plain strings, so nothing here imports a family.

HF_MODEL_TYPES: Hugging Face config.json `model_type` -> (our family folder, config class, model class); a
  config.json whose `architectures` names another registered model of the same config class builds that one.
CONVERT_FAMILIES: `convert_weight.py --model` name -> our family folder.
HF_TOKENIZER_CLASSES: tokenizer_config.json `tokenizer_class` -> our tokenizer class.
"""

HF_MODEL_TYPES = {
    'llama': ('llama', 'LlamaConfig', 'LlamaForCausalLM'),
    'qwen2': ('llama', 'LlamaConfig', 'LlamaForCausalLM'),
    'gpt2': ('gpt2', 'GPT2Config', 'GPT2LMHeadModel'),
    'bloom': ('bloom', 'BloomConfig', 'BloomLMHeadModel'),
    'glm': ('glm2', 'ChatGLM2Config', 'ChatGLM2ForConditionalGeneration'),
    'chatglm': ('glm2', 'ChatGLM2Config', 'ChatGLM2ForConditionalGeneration'),
    'bert': ('bert', 'BertConfig', 'BertModel'),
    't5': ('t5', 'T5Config', 'T5ForConditionalGeneration'),
    'mt5': ('t5', 'T5Config', 'MT5ForConditionalGeneration'),
    'vit': ('vit', 'ViTConfig', 'ViTForImageClassification'),
    'swin': ('swin', 'SwinConfig', 'SwinForImageClassification'),
    'vit_mae': ('mae', 'ViTMAEConfig', 'ViTMAEForPreTraining'),
    'clip': ('clip', 'CLIPConfig', 'CLIPModel'),
}

CONVERT_FAMILIES = {'llama': 'llama', 'qwen2': 'llama', 'gpt2': 'gpt2', 'bloom': 'bloom', 'glm2': 'glm2',
                    'bert': 'bert', 't5': 't5', 'mt5': 't5', 'vit': 'vit',
                    'swin': 'swin', 'mae': 'mae', 'clip': 'clip'}

HF_TOKENIZER_CLASSES = {
    'GPT2Tokenizer': 'BPETokenizer', 'GPT2TokenizerFast': 'BPETokenizer', 'BPETokenizer': 'BPETokenizer',
    'LlamaTokenizer': 'LlamaTokenizer', 'LlamaTokenizerFast': 'LlamaTokenizer',
    'Qwen2Tokenizer': 'BPETokenizer', 'Qwen2TokenizerFast': 'BPETokenizer',
    'BloomTokenizerFast': 'BloomTokenizer',
    'BertTokenizer': 'BertTokenizer', 'BertTokenizerFast': 'BertTokenizer',
    'T5Tokenizer': 'T5Tokenizer', 'T5TokenizerFast': 'T5Tokenizer',
    'CLIPTokenizer': 'CLIPTokenizer', 'CLIPTokenizerFast': 'CLIPTokenizer',
}


# a config class -> the model class AutoModel.from_config builds when the config names no arch
DEFAULT_ARCH = {config: model for _, config, model in HF_MODEL_TYPES.values()}
DEFAULT_ARCH['T5Config'] = 'T5ForConditionalGeneration'          # mt5 shares the config class
DEFAULT_ARCH['GLMConfig'] = 'GLMForPreTraining'   # no Hugging Face import for GLM-6B or PanGu-Alpha
DEFAULT_ARCH['PanguAlphaConfig'] = 'PanguAlphaHeadModel'
