"""BloomProcessor: text -> {'text': input ids padded to max_length} for BLOOM."""
from mindformers.models.base_processor import TextProcessor
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['BloomProcessor']


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class BloomProcessor(TextProcessor):
    """`BloomProcessor(tokenizer=tok, max_length=128)("text")` -> {'text': Tensor (1, 128) int32}."""
    _support_list = ['bloom_560m', 'bloom_7.1b', 'bloom_65b', 'bloom_176b']
