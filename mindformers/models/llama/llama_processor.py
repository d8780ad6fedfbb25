"""LlamaProcessor: text (one string or a list) -> padded input ids for LLaMA, as upstream's predict path uses."""
from mindformers.models.base_processor import BaseProcessor
from mindformers.models.base_tokenizer import PreTrainedTokenizer
from mindformers.models.build_tokenizer import build_tokenizer
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['LlamaProcessor']


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class LlamaProcessor(BaseProcessor):
    """Calls its tokenizer with `max_length`, `padding` and `return_tensors`.

    `processor(text_input)` returns `{'text': input_ids}`; one string gives a [1, max_length] batch.
    Texts longer than max_length are not cut (upstream does not truncate here).
    """
    _support_list = ['llama_7b', 'llama_13b', 'llama2_7b', 'llama2_13b', 'llama2_70b']
    _saved_fields = ('max_length', 'padding', 'return_tensors')

    def __init__(self, tokenizer=None, max_length=128, padding='max_length', return_tensors='ms'):
        if isinstance(tokenizer, dict):
            tokenizer = build_tokenizer(tokenizer)
        if tokenizer is not None and not isinstance(tokenizer, PreTrainedTokenizer):
            raise ConfigError(f"LlamaProcessor: tokenizer must be a tokenizer or a tokenizer config, "
                              f"got {type(tokenizer).__name__}")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.padding = padding
        self.return_tensors = return_tensors

    def __call__(self, text_input=None, image_input=None):
        output = {}
        if text_input is not None:
            if self.tokenizer is None:
                raise ConfigError("LlamaProcessor has no tokenizer; give processor.tokenizer in the config")
            if isinstance(text_input, str):
                text_input = [text_input]
            output['text'] = self.tokenizer(text_input, max_length=self.max_length, padding=self.padding,
                                            return_tensors=self.return_tensors)['input_ids']
        return output
