"""LlamaProcessor: text (one string or a list) -> padded input ids for LLaMA, as upstream's predict path uses."""
from mindformers.models.base_processor import TextProcessor
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['LlamaProcessor']


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class LlamaProcessor(TextProcessor):
    """`processor(text)` -> {'text': input ids padded to max_length} with LLaMA's tokenizer."""
    _support_list = ['llama_7b', 'llama_13b', 'llama2_7b', 'llama2_13b', 'llama2_70b']
