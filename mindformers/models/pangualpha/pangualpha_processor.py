"""PanguAlphaProcessor: text -> {'text': input ids padded to max_length} for PanGu-Alpha."""
from mindformers.models.base_processor import TextProcessor
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['PanguAlphaProcessor']


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class PanguAlphaProcessor(TextProcessor):
    """`PanguAlphaProcessor(tokenizer=tok, max_length=1024, return_tensors='ms')("你好")` ->
    {'text': Tensor(shape=[1, 1024], dtype=Int32)} (the tokenizer's jieba + sentencepiece ids, padded)."""
    _support_list = ['pangualpha_2_6b', 'pangualpha_13b']
