"""BertProcessor: text -> {'text': input ids padded to max_length with [PAD]} for BERT."""
from mindformers.models.base_processor import TextProcessor
from mindformers.models.bert.bert_config import BERT_NAMES, TXTCLS_NAMES, TOKCLS_NAMES, QA_NAMES
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['BertProcessor']


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class BertProcessor(TextProcessor):
    """`BertProcessor(tokenizer=tok, max_length=128)("hello!")` -> {'text': Tensor(shape=[1, 128], Int32)} with
    [CLS] ... [SEP] then [PAD] (id 0 in the uncased vocabulary)."""
    _support_list = BERT_NAMES + TXTCLS_NAMES + TOKCLS_NAMES + QA_NAMES
