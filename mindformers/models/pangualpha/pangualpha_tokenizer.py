"""PanguAlphaTokenizer: jieba word segmentation, then PanGu-Alpha's sentencepiece model (`vocab.model`)."""
import jieba

from mindformers.models.base_tokenizer import PreTrainedTokenizer
from mindformers.models.sentencepiece_model import SentencePieceFileMixin, load_sentencepiece
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['PanguAlphaTokenizer']

# PanGu-Alpha writes spaces and newlines inside words as these two pieces, and joins jieba's words with spaces
_TO_PIECES = str.maketrans(' \n', '\u2582\u2583')


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class PanguAlphaTokenizer(SentencePieceFileMixin, PreTrainedTokenizer):
    """PanGu-Alpha tokenizer, as upstream's: the text is cut into words by jieba (accurate mode), spaces and
    newlines inside the words become '▂' and '▃', the words are joined with spaces and encoded by sentencepiece.
    Decoding drops the joining spaces and turns '▂' / '▃' back. No special token is added when encoding;
    `eos_token` is `<eod>` (PanGu-Alpha's end of document).

    `tokenize` returns the sentencepiece pieces (upstream returns the jieba words; the ids are the same).
    """
    vocab_files_names = {'vocab_file': 'vocab.model'}
    model_input_names = ['input_ids', 'attention_mask']
    _support_list = ['pangualpha_2_6b', 'pangualpha_13b']

    def __init__(self, vocab_file, eos_token='<eod>', bos_token='<s>', unk_token='<unk>', pad_token='<pad>',
                 sp_model_kwargs=None, **kwargs):
        self.vocab_file = vocab_file
        self.sp_model_kwargs = dict(sp_model_kwargs or {})
        self.sp_model = load_sentencepiece(vocab_file, self.sp_model_kwargs, type(self).__name__)
        kwargs.setdefault('clean_up_tokenization_spaces', False)
        super().__init__(vocab_file=vocab_file, eos_token=eos_token, bos_token=bos_token, unk_token=unk_token,
                         pad_token=pad_token, sp_model_kwargs=self.sp_model_kwargs, **kwargs)

    @staticmethod
    def segment(text):
        """jieba's words of `text` with their spaces and newlines as '▂' / '▃', joined by spaces."""
        return ' '.join(word.translate(_TO_PIECES) for word in jieba.cut(text, cut_all=False))

    def _tokenize(self, text):
        return self.sp_model.encode(self.segment(text), out_type=str)

    def _convert_token_to_id(self, token):
        return self.sp_model.piece_to_id(token)

    def _convert_id_to_token(self, index):
        return self.sp_model.id_to_piece(index)

    @staticmethod
    def process_tokens(text):
        """Decoded sentencepiece text -> the original: joining spaces dropped, '▂' -> space, '▃' -> newline."""
        return text.replace(' ', '').replace('\u2582', ' ').replace('\u2583', '\n')

    def convert_tokens_to_string(self, tokens):
        return self.process_tokens(self.sp_model.decode_pieces(list(tokens)))

    def _decode(self, token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=None,
                spaces_between_special_tokens=None):
        special = set(self.all_special_ids) if skip_special_tokens else set()
        tokens = [self._id_to_token(index) for index in token_ids if index not in special]
        return self.convert_tokens_to_string(tokens)
