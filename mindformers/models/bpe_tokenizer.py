"""BPETokenizer: GPT-2 style byte-level BPE from vocab.json + merges.txt or a tokenizer.json (GPT-2, SmolLM2, Qwen2)."""
import json
import os
import unicodedata
from functools import lru_cache

import regex

from mindformers.models.base_tokenizer import PreTrainedTokenizer
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['BPETokenizer', 'bytes_to_unicode']

# GPT-2's pre-tokenizer: contractions, letters, numbers, other symbols, whitespace runs
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
DIGIT_PATTERN = r"\p{N}"


@lru_cache()
def bytes_to_unicode():
    """byte -> printable unicode char: printable latin-1 bytes map to themselves, the rest to 256+."""
    printable = (list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) +
                 list(range(ord('®'), ord('ÿ') + 1)))
    chars = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in chars)))


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class BPETokenizer(PreTrainedTokenizer):
    """Byte-level BPE: text -> regex pieces -> bytes as unicode chars -> merges by rank -> vocab ids.

    `split_digits=True` isolates every digit before the GPT-2 regex runs (SmolLM2 / StarCoder tokenizers);
    `pattern` replaces the GPT-2 regex (Qwen2's); `nfc=True` NFC-normalises text first; `ignore_merges=True`
    takes a pre-token that is itself in the vocabulary as one token. A Hugging Face `tokenizer.json` with a
    byte-level BPE model sets all of these (`tokenizer_file=`).
    """
    vocab_files_names = {'vocab_file': 'vocab.json', 'merges_file': 'merges.txt'}
    model_input_names = ['input_ids', 'attention_mask']

    def __init__(self, vocab_file=None, merges_file=None, unk_token='<|endoftext|>', bos_token='<|endoftext|>',
                 eos_token='<|endoftext|>', pad_token=None, add_prefix_space=False, add_bos_token=False,
                 add_eos_token=False, split_digits=False, errors='replace', pattern=None, nfc=False,
                 ignore_merges=False, tokenizer_file=None, **kwargs):
        if tokenizer_file is not None:
            encoder, merges, settings, specials = read_tokenizer_json(tokenizer_file)
            split_digits = settings['split_digits']
            pattern, nfc, ignore_merges = settings['pattern'], settings['nfc'], settings['ignore_merges']
            add_prefix_space = settings['add_prefix_space']
            known = {str(t) for t in (unk_token, bos_token, eos_token, pad_token) if t is not None}
            extra = list(kwargs.pop('additional_special_tokens', None) or [])
            kwargs['additional_special_tokens'] = extra + [t for t in specials if t not in known and t not in extra]
        else:
            encoder, merges = self._read_vocabulary(vocab_file, merges_file)
        self.vocab_file = vocab_file
        self.merges_file = merges_file
        self.encoder = encoder
        self.decoder = {index: token for token, index in self.encoder.items()}
        self.bpe_ranks = {pair: rank for rank, pair in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {char: byte for byte, char in self.byte_encoder.items()}
        self.add_prefix_space = add_prefix_space
        self.add_bos_token = add_bos_token
        self.add_eos_token = add_eos_token
        self.split_digits = split_digits
        self.errors = errors
        self.nfc = nfc
        self.ignore_merges = ignore_merges
        self.pattern = _compile_pretokenizer(pattern or GPT2_PATTERN)
        self.digit_pattern = regex.compile(DIGIT_PATTERN)
        self._cache = {}
        kwargs.setdefault('spaces_between_special_tokens', False)
        kwargs.setdefault('clean_up_tokenization_spaces', False)
        super().__init__(unk_token=unk_token, bos_token=bos_token, eos_token=eos_token, pad_token=pad_token,
                         add_prefix_space=add_prefix_space, add_bos_token=add_bos_token, add_eos_token=add_eos_token,
                         split_digits=split_digits, errors=errors, pattern=pattern, nfc=nfc,
                         ignore_merges=ignore_merges, **kwargs)

    def _read_vocabulary(self, vocab_file, merges_file):
        """(token -> id, merges by rank) from vocab.json and merges.txt."""
        for what, path in (('vocab_file', vocab_file), ('merges_file', merges_file)):
            if not os.path.isfile(str(path)):
                raise ConfigError(f"{type(self).__name__}: {what} {path} does not exist")
        with open(vocab_file, encoding='utf-8') as stream:
            encoder = json.load(stream)
        with open(merges_file, encoding='utf-8') as stream:
            lines = stream.read().split('\n')
        merges = [tuple(line.split(' ')) for line in lines
                  if line and not line.startswith('#version') and len(line.split(' ')) == 2]
        return encoder, merges

    @property
    def vocab_size(self):
        return len(self.encoder)

    def get_vocab(self):
        vocab = dict(self.encoder)
        vocab.update(self.added_tokens_encoder)
        return vocab

    def bpe(self, word):
        """Merge the chars of one pre-token, lowest-rank pair first, until no known pair is left."""
        if word in self._cache:
            return self._cache[word]
        if self.ignore_merges and word in self.encoder:
            return [word]
        parts = self._word_parts(word)
        while len(parts) > 1:
            pairs = [(self.bpe_ranks.get(pair, float('inf')), i, pair) for i, pair in enumerate(zip(parts, parts[1:]))]
            rank, _, best = min(pairs)
            if rank == float('inf'):
                break
            merged, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and (parts[i], parts[i + 1]) == best:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        if len(self._cache) < 100000:
            self._cache[word] = parts
        return parts

    @staticmethod
    def _word_parts(word):
        """The symbols a pre-token starts from before any merge: its characters."""
        return list(word)

    def _pre_tokenize(self, text):
        chunks = [text]
        if self.split_digits:
            chunks, start = [], 0
            for match in self.digit_pattern.finditer(text):
                if match.start() > start:
                    chunks.append(text[start:match.start()])
                chunks.append(match.group())
                start = match.end()
            if start < len(text):
                chunks.append(text[start:])
        return [piece for chunk in chunks for piece in self._split_isolated(chunk)]

    def _split_isolated(self, text):
        """The regex matches and, as separate pieces, the text between them (tokenizers' 'Isolated' split:
        GPT-2's and Qwen2's patterns cover every character, BLOOM's leaves spaces and punctuation between)."""
        pieces, start = [], 0
        for match in self.pattern.finditer(text):
            if match.start() > start:
                pieces.append(text[start:match.start()])
            if match.end() > match.start():
                pieces.append(match.group())
            start = match.end()
        if start < len(text):
            pieces.append(text[start:])
        return pieces

    @classmethod
    def from_pretrained(cls, name_or_path, **kwargs):
        """A directory with vocab.json + merges.txt, or with only a Hugging Face tokenizer.json."""
        name_or_path = os.path.expanduser(str(name_or_path))
        tokenizer_json = os.path.join(name_or_path, 'tokenizer.json')
        has_vocab = all(os.path.isfile(os.path.join(name_or_path, f)) for f in cls.vocab_files_names.values())
        if os.path.isdir(name_or_path) and not has_vocab and os.path.isfile(tokenizer_json):
            config = cls._load_saved_config(name_or_path)
            config.update(kwargs)
            return cls(tokenizer_file=tokenizer_json, **config)
        return super().from_pretrained(name_or_path, **kwargs)

    def tokenize(self, text, **kwargs):
        if self.nfc:
            text = unicodedata.normalize('NFC', text)
        if self.add_prefix_space and text and not text[0].isspace():
            text = ' ' + text
        return super().tokenize(text, **kwargs)

    def _tokenize(self, text):
        tokens = []
        for piece in self._pre_tokenize(text):
            chars = ''.join(self.byte_encoder[b] for b in piece.encode('utf-8'))
            tokens.extend(self.bpe(chars))
        return tokens

    def _convert_token_to_id(self, token):
        return self.encoder.get(token, self.encoder.get(str(self.unk_token)))

    def _convert_id_to_token(self, index):
        return self.decoder.get(index)

    def convert_tokens_to_string(self, tokens):
        data = bytearray(self.byte_decoder[c] for c in ''.join(tokens) if c in self.byte_decoder)
        return data.decode('utf-8', errors=self.errors)

    def save_vocabulary(self, save_directory, filename_prefix=None):
        """Write vocab.json and merges.txt; returns their paths."""
        if not os.path.isdir(save_directory):
            raise ConfigError(f"save_vocabulary: {save_directory} is not a directory")
        prefix = filename_prefix + '-' if filename_prefix else ''
        vocab_path = os.path.join(save_directory, prefix + self.vocab_files_names['vocab_file'])
        merges_path = os.path.join(save_directory, prefix + self.vocab_files_names['merges_file'])
        with open(vocab_path, 'w', encoding='utf-8') as stream:
            json.dump(self.encoder, stream, ensure_ascii=False)
        with open(merges_path, 'w', encoding='utf-8') as stream:
            stream.write('#version: 0.2\n')
            for pair, _ in sorted(self.bpe_ranks.items(), key=lambda item: item[1]):
                stream.write(' '.join(pair) + '\n')
        return vocab_path, merges_path


def _compile_pretokenizer(pattern):
    """Compile a tokenizer.json regex. Oniguruma (what `tokenizers` runs) nests character classes, as BLOOM's
    `[^(\\s|[.,!?])]` does; Python's `regex` does so only in its V1 mode, used when the plain compile fails."""
    try:
        return regex.compile(pattern)
    except regex.error:
        try:
            return regex.compile(pattern, flags=regex.V1)
        except regex.error as err:
            raise ConfigError(f"pre-tokenizer regex {pattern!r} does not compile: {err}") from None


def read_tokenizer_json(path):
    """(vocab incl. added tokens, merges, settings, special tokens) of a byte-level BPE tokenizer.json."""
    try:
        with open(path, encoding='utf-8') as stream:
            data = json.load(stream)
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"cannot read tokenizer file {path}: {err}") from None
    model = data.get('model') or {}
    if model.get('type') != 'BPE' or (data.get('decoder') or {}).get('type') != 'ByteLevel':
        raise ConfigError(f"{path} is not a byte-level BPE tokenizer (model {model.get('type')}, decoder "
                          f"{(data.get('decoder') or {}).get('type')}); BPETokenizer reads only those")
    merges = [tuple(m.split(' ')) if isinstance(m, str) else tuple(m) for m in model['merges']]
    encoder = dict(model['vocab'])
    specials = []
    for token in sorted(data.get('added_tokens') or [], key=lambda t: t['id']):
        encoder.setdefault(token['content'], token['id'])
        if token.get('special'):
            specials.append(token['content'])
    pre = data.get('pre_tokenizer') or {}
    steps = pre.get('pretokenizers', [pre]) if pre.get('type') == 'Sequence' else [pre]
    settings = {'split_digits': False, 'pattern': None, 'add_prefix_space': False,
                'nfc': (data.get('normalizer') or {}).get('type') == 'NFC',
                'ignore_merges': bool(model.get('ignore_merges', False))}
    for step in steps:
        kind = step.get('type')
        if kind == 'Digits':
            settings['split_digits'] = bool(step.get('individual_digits'))
        elif kind == 'Split' and 'Regex' in (step.get('pattern') or {}):
            if step.get('behavior', 'Isolated') != 'Isolated' or step.get('invert'):
                raise ConfigError(f"{path}: Split pre-tokenizer with behavior {step.get('behavior')!r} / invert "
                                  f"{step.get('invert')!r} is not supported (only Isolated)")
            settings['pattern'] = step['pattern']['Regex']
        elif kind == 'ByteLevel':
            settings['add_prefix_space'] = bool(step.get('add_prefix_space'))
        elif kind:
            raise ConfigError(f"{path}: pre-tokenizer '{kind}' is not supported by BPETokenizer")
    return encoder, merges, settings, specials
