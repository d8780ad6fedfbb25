"""CLIPTokenizer: CLIP's lower-cased byte-level BPE, whose word-final symbols carry `</w>` (vocabulary 49408).

The vocabulary comes from OpenAI's `bpe_simple_vocab_16e6.txt.gz` (upstream's `vocab_file`: a header line, then
merges by rank, of which CLIP uses the first 48,894) or from a Hugging Face directory's vocab.json + merges.txt.
Text is cleaned as CLIP was trained (ftfy's fix_text, HTML entities unescaped, whitespace runs collapsed,
lower-cased), split by CLIP's pattern, and every piece is merged by rank. Ids: 256 byte symbols, the same 256 with
`</w>`, one per merge, then `<|startoftext|>` (49406) and `<|endoftext|>` (49407).
"""
import gzip
import html
import os

import regex

from mindformers.models.bpe_tokenizer import BPETokenizer, bytes_to_unicode
from mindformers.models.clip.clip_config import CLIP_NAMES
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['CLIPTokenizer']

CLIP_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
# CLIP's vocabulary: 49152 BPE symbols = 2 x 256 byte symbols + this many merges (then the two specials)
NUM_MERGES = 49152 - 256 - 2
END_OF_WORD = '</w>'
BPE_FILE = 'bpe_simple_vocab_16e6.txt.gz'


def clean_text(text):
    """CLIP's text cleaning: ftfy.fix_text, HTML entities unescaped (twice, as CLIP), whitespace collapsed,
    lower-cased."""
    try:
        import ftfy  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ConfigError("CLIPTokenizer needs the 'ftfy' package for CLIP's text cleaning: pip install ftfy") from None
    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return regex.sub(r'\s+', ' ', text).strip().lower()


def fetch_clip_bpe(vocab_file=None):
    """CLIP's BPE file: `vocab_file` when it exists; else, when it is missing and carries the file's own name (or is
    None: <checkpoint_download>/clip/), it is downloaded there from upstream's store (a one-line error offline)."""
    from mindformers.mindformer_book import MindFormerBook  # pylint: disable=import-outside-toplevel
    from mindformers.tools.download import checkpoint_download_root, download_with_progress_bar  # noqa
    if vocab_file is None:
        vocab_file = os.path.join(checkpoint_download_root(), 'clip', BPE_FILE)
    if os.path.isfile(str(vocab_file)) or os.path.basename(str(vocab_file)) != BPE_FILE:
        return vocab_file
    download_with_progress_bar(MindFormerBook.get_tokenizer_url_list()['clip'][0], str(vocab_file))
    return vocab_file


def read_clip_merges(path):
    """The first NUM_MERGES merges of a CLIP `bpe_simple_vocab_16e6.txt.gz` (its first line is a header)."""
    try:
        with gzip.open(path, 'rt', encoding='utf-8') as stream:
            lines = stream.read().split('\n')
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise ConfigError(f"CLIPTokenizer: cannot read the BPE file {path}: {err}") from None
    merges = [tuple(line.split()) for line in lines[1:NUM_MERGES + 1] if line.strip()]
    if not merges or any(len(pair) != 2 for pair in merges):
        raise ConfigError(f"CLIPTokenizer: {path} is not a CLIP BPE merges file (lines of two symbols)")
    return merges


def clip_vocabulary(merges, specials=('<|startoftext|>', '<|endoftext|>')):
    """token -> id built from the merges, as CLIP numbers them."""
    symbols = list(bytes_to_unicode().values())
    tokens = symbols + [symbol + END_OF_WORD for symbol in symbols] + [''.join(pair) for pair in merges]
    tokens.extend(specials)
    return {token: index for index, token in enumerate(tokens)}


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class CLIPTokenizer(BPETokenizer):
    """As upstream MindFormers: `<|startoftext|>` and `<|endoftext|>` around every text, `attention_mask` in the
    output; upstream's YAMLs pad with `'!'` (id 0), the default pad is `<|endoftext|>`.

    `CLIPTokenizer(vocab_file='bpe_simple_vocab_16e6.txt.gz')("a boy")` ->
    {'input_ids': [49406, 320, 1876, 49407], 'attention_mask': [1, 1, 1, 1]}
    """
    vocab_files_names = {'vocab_file': BPE_FILE}
    hf_vocab_files = ('vocab.json', 'merges.txt')
    model_input_names = ['input_ids', 'attention_mask']
    _support_list = CLIP_NAMES

    def __init__(self, vocab_file=None, merges_file=None, eos_token='<|endoftext|>', bos_token='<|startoftext|>',
                 pad_token='<|endoftext|>', unk_token='<|endoftext|>', add_bos_token=True, add_eos_token=True,
                 errors='replace', **kwargs):
        for key in ('add_prefix_space', 'split_digits', 'pattern', 'nfc', 'ignore_merges', 'tokenizer_file'):
            kwargs.pop(key, None)     # BPETokenizer's options: CLIP fixes them
        super().__init__(vocab_file=vocab_file, merges_file=merges_file, unk_token=unk_token, bos_token=bos_token,
                         eos_token=eos_token, pad_token=pad_token, add_bos_token=add_bos_token,
                         add_eos_token=add_eos_token, errors=errors, **kwargs)
        self.pattern = regex.compile(CLIP_PATTERN, regex.IGNORECASE)

    def _read_vocabulary(self, vocab_file, merges_file):
        if merges_file is None:
            vocab_file = fetch_clip_bpe(vocab_file)
            if not os.path.isfile(str(vocab_file)):
                raise ConfigError(f"CLIPTokenizer: vocab_file {vocab_file} does not exist; give CLIP's "
                                  f"{self.vocab_files_names['vocab_file']} (or vocab.json with merges_file)")
            merges = read_clip_merges(vocab_file)
            return clip_vocabulary(merges), merges
        return super()._read_vocabulary(vocab_file, merges_file)

    @classmethod
    def from_pretrained(cls, name_or_path, **kwargs):
        """A directory with CLIP's .txt.gz (upstream / ours) or with a Hugging Face vocab.json + merges.txt."""
        folder = os.path.expanduser(str(name_or_path))
        has_gz = os.path.isfile(os.path.join(folder, cls.vocab_files_names['vocab_file']))
        if os.path.isdir(folder) and not has_gz and all(os.path.isfile(os.path.join(folder, name))
                                                        for name in cls.hf_vocab_files):
            config = cls._load_saved_config(folder)
            config.update(kwargs)
            config.update(vocab_file=os.path.join(folder, 'vocab.json'), merges_file=os.path.join(folder, 'merges.txt'))
            return cls(**config)
        return super(BPETokenizer, cls).from_pretrained(name_or_path, **kwargs)

    @staticmethod
    def _word_parts(word):
        return list(word[:-1]) + [word[-1] + END_OF_WORD]

    def tokenize(self, text, **kwargs):
        return super(BPETokenizer, self).tokenize(text, **kwargs)

    def _tokenize(self, text):
        tokens = []
        for piece in self.pattern.findall(clean_text(text)):
            tokens.extend(self.bpe(''.join(self.byte_encoder[b] for b in piece.encode('utf-8'))))
        return tokens

    def convert_tokens_to_string(self, tokens):
        data = bytearray(self.byte_decoder[c] for c in ''.join(tokens) if c in self.byte_decoder)
        return data.decode('utf-8', errors=self.errors).replace(END_OF_WORD, ' ').strip()

    def save_vocabulary(self, save_directory, filename_prefix=None):
        """Write the merges as CLIP's .txt.gz (a header line, then one merge per line); returns its path."""
        if not os.path.isdir(save_directory):
            raise ConfigError(f"save_vocabulary: {save_directory} is not a directory")
        prefix = filename_prefix + '-' if filename_prefix else ''
        path = os.path.join(save_directory, prefix + self.vocab_files_names['vocab_file'])
        merges = [' '.join(pair) for pair, _ in sorted(self.bpe_ranks.items(), key=lambda item: item[1])]
        with gzip.open(path, 'wt', encoding='utf-8') as stream:
            stream.write('bpe_simple_vocab_16e6.txt#version: 0.2\n' + '\n'.join(merges) + '\n')
        return (path,)
