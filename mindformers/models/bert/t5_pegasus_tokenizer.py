"""T5PegasusTokenizer: the Chinese T5-PEGASUS tokenizer, BERT's WordPiece after jieba word segmentation (upstream
keeps it with T5, whose MT5ForConditionalGeneration it serves; it lives here because it is a BERT tokenizer)."""
from mindformers.models.bert.bert_tokenizer import BertTokenizer
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['T5PegasusTokenizer']


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class T5PegasusTokenizer(BertTokenizer):
    """The Chinese T5-PEGASUS tokenizer (used with MT5ForConditionalGeneration): BERT's WordPiece vocabulary
    (`vocab.txt`) with jieba word segmentation first. A jieba word that is itself in the vocabulary is one token;
    any other word goes through BertTokenizer's tokenization. `pre_tokenizer` replaces jieba (a callable text ->
    words). Decoding joins the tokens with spaces, as upstream."""

    def __init__(self, vocab_file=None, *args, pre_tokenizer=None, **kwargs):
        super().__init__(vocab_file, *args, **kwargs)
        if pre_tokenizer is None:
            import jieba  # pylint: disable=import-outside-toplevel
            jieba.setLogLevel(60)
            pre_tokenizer = lambda text: jieba.cut(text, HMM=False)  # noqa: E731
        self.pre_tokenizer = pre_tokenizer

    def _tokenize(self, text):
        tokens = []
        for word in self.pre_tokenizer(text):
            if word in self.vocab:
                tokens.append(word)
            else:
                tokens.extend(super()._tokenize(word))
        return tokens

    def convert_tokens_to_string(self, tokens):
        return ' '.join(tokens)

    def _decode(self, token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=None,
                spaces_between_special_tokens=None):
        return self.convert_tokens_to_string(self.convert_ids_to_tokens(token_ids,
                                                                        skip_special_tokens=skip_special_tokens))
