"""BERT family: config, encoder and task models, WordPiece tokenizer and processor."""
from .bert_config import BertConfig
from .bert import BertModel, BertForPreTraining, BertForMaskedLM, BertForSequenceClassification, \
    BertForMultipleChoice, BertForTokenClassification, BertForQuestionAnswering
from .bert_tokenizer import BertTokenizer, BasicTokenizer, WordpieceTokenizer
from .bert_processor import BertProcessor

__all__ = ['BertConfig', 'BertModel', 'BertForPreTraining', 'BertForMaskedLM', 'BertForSequenceClassification',
           'BertForMultipleChoice', 'BertForTokenClassification', 'BertForQuestionAnswering', 'BertTokenizer',
           'BasicTokenizer', 'WordpieceTokenizer', 'BertProcessor']
