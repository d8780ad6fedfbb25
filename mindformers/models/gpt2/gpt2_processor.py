"""GPT2Processor: text -> {'text': input ids padded to max_length with <|endoftext|>} for GPT-2."""
from mindformers.models.base_processor import TextProcessor
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['GPT2Processor']


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class GPT2Processor(TextProcessor):
    """`GPT2Processor(tokenizer=tok, max_length=256, return_tensors='ms')("hello!")` ->
    {'text': Tensor(shape=[1, 256], dtype=Int32)}; the default max_length is 128."""
    _support_list = ['gpt2', 'gpt2_lora', 'gpt2_xl', 'gpt2_xl_lora', 'gpt2_13b', 'gpt2_52b', 'gpt2_txtcls']
