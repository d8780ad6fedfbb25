"""T5Processor: source text (and optionally target text) -> padded token ids for T5."""
from mindformers.models.base_processor import TextProcessor
from mindformers.models.t5.t5_config import T5_NAMES
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['T5Processor']


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class T5Processor(TextProcessor):
    """`T5Processor(tokenizer=tok)("translate English to German: hi")` -> {'text': ids padded to max_length (77)};
    `processor(source, target)` also gives {'tgt_output': target ids padded to tgt_max_length (128)}."""
    _support_list = T5_NAMES
    _saved_fields = ('max_length', 'tgt_max_length', 'padding', 'return_tensors')

    def __init__(self, tokenizer=None, max_length=77, tgt_max_length=128, padding='max_length', return_tensors='ms'):
        super().__init__(tokenizer, max_length, padding, return_tensors)
        self.tgt_max_length = tgt_max_length

    def __call__(self, text_input=None, text_pair=None):
        output = super().__call__(text_input)
        if text_pair is not None:
            if isinstance(text_pair, str):
                text_pair = [text_pair]
            output['tgt_output'] = self.tokenizer(text_pair, max_length=self.tgt_max_length, padding=self.padding,
                                                  return_tensors=self.return_tensors)['input_ids']
        return output
