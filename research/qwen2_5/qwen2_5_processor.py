"""Qwen2Processor: text -> {'text': padded input ids} with Qwen2Tokenizer (upstream's YAMLs name it; upstream ships
no class, so this research folder does)."""
from mindformers.models.base_processor import TextProcessor
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['Qwen2Processor']


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class Qwen2Processor(TextProcessor):
    """`Qwen2Processor(tokenizer=tok, max_length=128)("text")` -> {'text': Tensor (1, 128) int32}."""
    _support_list = ['qwen2_5_0.5b', 'qwen2_5_7b', 'qwen2_5_tiny']
