"""BertTokenizer: BERT's WordPiece (vocab.txt) after its basic pre-tokenizer (clean-up, CJK characters as single
tokens, lower-casing, accent stripping, punctuation split)."""
import os
import re
import unicodedata

from mindformers.models.base_tokenizer import PreTrainedTokenizer
from mindformers.models.bert.bert_config import BERT_NAMES, TXTCLS_NAMES, TOKCLS_NAMES, QA_NAMES
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['BertTokenizer', 'BasicTokenizer', 'WordpieceTokenizer', 'load_vocab']

# the CJK Unified Ideographs blocks (and their extensions and compatibility forms): each such character is a word
_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
               (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def load_vocab(vocab_file):
    """vocab.txt (one token per line, the line number is the id) -> {token: id}."""
    if vocab_file is None or not os.path.isfile(vocab_file):
        raise ConfigError(f"BertTokenizer: vocab_file {vocab_file!r} is not a file; give the WordPiece vocab.txt")
    vocab = {}
    with open(vocab_file, encoding='utf-8') as stream:
        for index, line in enumerate(stream):
            vocab[line.rstrip('\n')] = index
    if not vocab:
        raise ConfigError(f"BertTokenizer: vocab_file {vocab_file} is empty")
    return vocab


def _is_whitespace(char):
    return char in ' \t\n\r' or unicodedata.category(char) == 'Zs'


def _is_control(char):
    return char not in '\t\n\r' and unicodedata.category(char).startswith('C')


def _is_punctuation(char):
    code = ord(char)
    # every non-alphanumeric ASCII character counts, also those Unicode files as symbols ($, ^, `)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith('P')


def _is_cjk(code):
    return any(low <= code <= high for low, high in _CJK_RANGES)


class BasicTokenizer:
    """Text -> words: drop control characters, space out CJK characters, split on whitespace, lower-case and
    strip accents (when asked), split punctuation off. Tokens in `never_split` pass unchanged."""

    def __init__(self, do_lower_case=True, never_split=None, tokenize_chinese_chars=True, strip_accents=None):
        self.do_lower_case = do_lower_case
        self.never_split = set(never_split or ())
        self.tokenize_chinese_chars = tokenize_chinese_chars
        self.strip_accents = strip_accents

    @staticmethod
    def _clean(text):
        out = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD or _is_control(char):
                continue
            out.append(' ' if _is_whitespace(char) else char)
        return ''.join(out)

    @staticmethod
    def _space_cjk(text):
        return ''.join(f' {char} ' if _is_cjk(ord(char)) else char for char in text)

    @staticmethod
    def _strip_accents(word):
        return ''.join(char for char in unicodedata.normalize('NFD', word) if unicodedata.category(char) != 'Mn')

    @staticmethod
    def _split_punctuation(word):
        pieces, current = [], []
        for char in word:
            if _is_punctuation(char):
                if current:
                    pieces.append(''.join(current))
                    current = []
                pieces.append(char)
            else:
                current.append(char)
        if current:
            pieces.append(''.join(current))
        return pieces

    def tokenize(self, text):
        text = self._clean(text)
        if self.tokenize_chinese_chars:
            text = self._space_cjk(text)
        text = unicodedata.normalize('NFC', text)
        words = []
        for word in text.split():
            if word in self.never_split:
                words.append(word)
                continue
            if self.do_lower_case:
                word = word.lower()
                if self.strip_accents is not False:
                    word = self._strip_accents(word)
            elif self.strip_accents:
                word = self._strip_accents(word)
            words.extend(self._split_punctuation(word))
        return ' '.join(words).split()

    def _normalize_char(self, char):
        if self.do_lower_case:
            char = char.lower()
            return self._strip_accents(char) if self.strip_accents is not False else char
        return self._strip_accents(char) if self.strip_accents else char

    def tokenize_with_offsets(self, text):
        """[(word, indices), ...]: the words of `tokenize(text)`, each with the index in `text` of every one of its
        characters. Works character by character, so the indices survive lower-casing and accent stripping (which
        drop combining marks); the words equal `tokenize(text)` except where NFC composition of a combining
        sequence matters (a cased vocabulary that keeps accents)."""
        chars = []   # (character, index in text); None marks a word boundary
        for index, char in enumerate(text):
            code = ord(char)
            if code == 0 or code == 0xFFFD or _is_control(char):
                continue
            if _is_whitespace(char):
                chars.append((None, index))
            elif self.tokenize_chinese_chars and _is_cjk(code):
                chars.extend([(None, index), (char, index), (None, index)])
            else:
                chars.append((char, index))
        words, current = [], []
        for char, index in chars + [(None, len(text))]:
            if char is not None:
                current.append((char, index))
                continue
            if current:
                words.extend(self._split_with_offsets(current))
            current = []
        return words

    def _split_with_offsets(self, raw):
        """One whitespace-free word as [(char, index)] -> its [(word, indices)] pieces."""
        word = ''.join(char for char, _ in raw)
        if word in self.never_split:
            return [(word, [index for _, index in raw])]
        pieces, current = [], []
        for char, index in raw:
            for normal in self._normalize_char(char):
                if _is_punctuation(normal):
                    if current:
                        pieces.append(current)
                    pieces.append([(normal, index)])
                    current = []
                else:
                    current.append((normal, index))
        if current:
            pieces.append(current)
        return [(''.join(c for c, _ in piece), [i for _, i in piece]) for piece in pieces]


class WordpieceTokenizer:
    """A word -> the longest vocabulary prefix, then `##`-marked continuations, greedily; a word with a piece
    the vocabulary cannot cover (or longer than `max_input_chars_per_word`) is `unk_token` as a whole."""

    def __init__(self, vocab, unk_token, max_input_chars_per_word=100):
        self.vocab = vocab
        self.unk_token = unk_token
        self.max_input_chars_per_word = max_input_chars_per_word

    def tokenize(self, word):
        if len(word) > self.max_input_chars_per_word:
            return [self.unk_token]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else '##' + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            if end == start:
                return [self.unk_token]
            pieces.append(piece)
            start = end
        return pieces


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class BertTokenizer(PreTrainedTokenizer):
    """BERT's tokenizer: `[CLS] A [SEP]` (and `B [SEP]` for a pair, segment 1), `token_type_ids` in the output.

    `BertTokenizer(vocab_file='vocab.txt')("Hello, world!")` ->
    {'input_ids': [101, 7592, 1010, 2088, 999, 102], 'token_type_ids': [0, ...], 'attention_mask': [1, ...]}
    with the bert-base-uncased vocabulary. `do_lower_case=False` for cased vocabularies; `strip_accents`
    None follows do_lower_case.
    """
    vocab_files_names = {'vocab_file': 'vocab.txt'}
    model_input_names = ['input_ids', 'token_type_ids', 'attention_mask']
    _support_list = BERT_NAMES + TXTCLS_NAMES + TOKCLS_NAMES + QA_NAMES

    def __init__(self, vocab_file=None, do_lower_case=True, do_basic_tokenize=True, never_split=None,
                 unk_token='[UNK]', sep_token='[SEP]', pad_token='[PAD]', cls_token='[CLS]', mask_token='[MASK]',
                 tokenize_chinese_chars=True, strip_accents=None, is_tokenize_char=False, **kwargs):
        self.vocab = load_vocab(vocab_file)
        self.is_tokenize_char = bool(is_tokenize_char)
        self.ids_to_tokens = {index: token for token, index in self.vocab.items()}
        self.vocab_file = vocab_file
        self.do_lower_case = do_lower_case
        self.do_basic_tokenize = do_basic_tokenize
        self.tokenize_chinese_chars = tokenize_chinese_chars
        self.strip_accents = strip_accents
        self.never_split = list(never_split or [])
        super().__init__(unk_token=unk_token, sep_token=sep_token, pad_token=pad_token, cls_token=cls_token,
                         mask_token=mask_token, do_lower_case=do_lower_case, do_basic_tokenize=do_basic_tokenize,
                         never_split=never_split, tokenize_chinese_chars=tokenize_chinese_chars,
                         strip_accents=strip_accents, is_tokenize_char=self.is_tokenize_char, **kwargs)
        for name in ('unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'):
            token = getattr(self, name)
            if token not in self.vocab:
                raise ConfigError(f"BertTokenizer: {name} {token!r} is not in {vocab_file}")
        self.basic_tokenizer = BasicTokenizer(do_lower_case, set(self.never_split) | set(self.all_special_tokens),
                                              tokenize_chinese_chars, strip_accents)
        self.wordpiece_tokenizer = WordpieceTokenizer(self.vocab, str(self.unk_token))

    @property
    def vocab_size(self):
        return len(self.vocab)

    def get_vocab(self):
        return dict(self.vocab, **self.added_tokens_encoder)

    def _tokenize(self, text):
        if self.is_tokenize_char:
            return [self._char_token(char) for char in text]
        words = self.basic_tokenizer.tokenize(text) if self.do_basic_tokenize else text.split()
        tokens = []
        for word in words:
            if word in self.basic_tokenizer.never_split:
                tokens.append(word)
            else:
                tokens.extend(self.wordpiece_tokenizer.tokenize(word))
        return tokens

    def tokenize_with_offsets(self, text):
        """(tokens, offsets): `tokenize(text)` and the `(start, end)` character span of `text` each token covers
        (end exclusive), as the offset mapping of Hugging Face's fast tokenizers. A word-piece covers its share of
        the word; [UNK] covers its whole word. Question answering maps predicted tokens back to the text with it."""
        if self.is_tokenize_char:
            return [self._char_token(char) for char in text], [(i, i + 1) for i in range(len(text))]
        if self.do_basic_tokenize:
            words = self.basic_tokenizer.tokenize_with_offsets(text)
        else:
            words = [(m.group(), list(range(m.start(), m.end()))) for m in re.finditer(r'\S+', text)]
        tokens, offsets = [], []
        for word, indices in words:
            pieces = [word] if word in self.basic_tokenizer.never_split else self.wordpiece_tokenizer.tokenize(word)
            if pieces == [str(self.unk_token)]:
                tokens.append(pieces[0])
                offsets.append((indices[0], indices[-1] + 1))
                continue
            position = 0
            for piece in pieces:
                size = len(piece[2:] if piece.startswith('##') and position else piece)
                tokens.append(piece)
                offsets.append((indices[position], indices[position + size - 1] + 1))
                position += size
        return tokens, offsets

    def _char_token(self, char):
        """`is_tokenize_char`: every character is one token (the token classification YAMLs label characters), the
        character itself when the vocabulary has it, else its lower-cased form under do_lower_case, else [UNK]
        (whitespace too, so that token i + 1 is always character i)."""
        if char in self.vocab:
            return char
        if self.do_lower_case and char.lower() in self.vocab:
            return char.lower()
        return str(self.unk_token)

    def _convert_token_to_id(self, token):
        return self.vocab.get(token, self.vocab[str(self.unk_token)])

    def _convert_id_to_token(self, index):
        return self.ids_to_tokens.get(index, str(self.unk_token))

    def convert_tokens_to_string(self, tokens):
        return ' '.join(tokens).replace(' ##', '').strip()

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        output = [self.cls_token_id] + list(token_ids_0) + [self.sep_token_id]
        if token_ids_1 is not None:
            output += list(token_ids_1) + [self.sep_token_id]
        return output

    def save_vocabulary(self, save_directory, filename_prefix=None):
        name = (filename_prefix + '-' if filename_prefix else '') + 'vocab.txt'
        path = os.path.join(save_directory, name)
        with open(path, 'w', encoding='utf-8') as stream:
            for token, _ in sorted(self.vocab.items(), key=lambda item: item[1]):
                stream.write(token + '\n')
        return (path,)
