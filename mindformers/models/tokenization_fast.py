"""*TokenizerFast: the families' tokenizers with the tokenization core run by Hugging Face's Rust `tokenizers`
library, built from the same vocabulary. Everything around it (special tokens and their wrapping, added tokens,
padding, truncation, decoding, saving) is the family's own class, so a fast tokenizer gives the ids of its slow
one. GPT-2 / BLOOM: byte-level BPE (vocab.json + merges.txt, or tokenizer.json); BERT: WordPiece (vocab.txt);
LLaMA: the sentencepiece BPE model's pieces and merges as a byte-fallback BPE; T5: the sentencepiece unigram
model."""
from mindformers.models.bert.bert_tokenizer import BertTokenizer
from mindformers.models.bloom.bloom_tokenizer import BloomTokenizer
from mindformers.models.gpt2.gpt2_tokenizer import GPT2Tokenizer
from mindformers.models.llama.llama_tokenizer import LlamaTokenizer
from mindformers.models.t5.t5_tokenizer import T5Tokenizer
from mindformers.tools.errors import NotAvailableError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['GPT2TokenizerFast', 'BloomTokenizerFast', 'BertTokenizerFast', 'LlamaTokenizerFast', 'T5TokenizerFast']


def _tokenizers():
    try:
        import tokenizers  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise NotAvailableError("fast tokenizers need Hugging Face's tokenizers package: pip install tokenizers "
                                "(or use the slow tokenizer of the same name without Fast)") from None
    return tokenizers


class _FastBPE:
    """Byte-level BPE families: the slow class reads the vocabulary, merges and pre-tokenizer settings (and already
    NFC-normalises and adds the prefix space in `tokenize`); the backend splits and merges."""

    def _build_backend(self):
        tokenizers = _tokenizers()
        model = tokenizers.models.BPE(vocab=dict(self.encoder), merges=sorted(self.bpe_ranks, key=self.bpe_ranks.get),
                                      ignore_merges=bool(self.ignore_merges))
        backend = tokenizers.Tokenizer(model)
        steps = []
        if self.split_digits:
            steps.append(tokenizers.pre_tokenizers.Digits(individual_digits=True))
        steps.append(tokenizers.pre_tokenizers.Split(tokenizers.Regex(self.pattern.pattern),
                                                     behavior='isolated'))
        steps.append(tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False))
        backend.pre_tokenizer = tokenizers.pre_tokenizers.Sequence(steps)
        return backend

    def _tokenize(self, text):
        return self.backend.encode(text, add_special_tokens=False).tokens


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class GPT2TokenizerFast(_FastBPE, GPT2Tokenizer):
    """GPT2Tokenizer (same arguments and ids) with the BPE run by `tokenizers`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.backend = self._build_backend()


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class BloomTokenizerFast(_FastBPE, BloomTokenizer):
    """BloomTokenizer (BLOOM's tokenizer.json; same ids) with the BPE run by `tokenizers`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.backend = self._build_backend()


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class BertTokenizerFast(BertTokenizer):
    """BertTokenizer (same arguments and ids) with the normalisation, splitting and WordPiece run by
    `tokenizers` (per-character tokenization, `is_tokenize_char`, stays the slow path)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tokenizers = _tokenizers()
        wordpiece = tokenizers.models.WordPiece(vocab=dict(self.vocab), unk_token=str(self.unk_token),
                                                max_input_chars_per_word=100)
        backend = tokenizers.Tokenizer(wordpiece)
        backend.normalizer = tokenizers.normalizers.BertNormalizer(
            clean_text=True, handle_chinese_chars=self.tokenize_chinese_chars, strip_accents=self.strip_accents,
            lowercase=self.do_lower_case)
        backend.pre_tokenizer = (tokenizers.pre_tokenizers.BertPreTokenizer() if self.do_basic_tokenize
                                 else tokenizers.pre_tokenizers.WhitespaceSplit())
        never_split = [t for t in self.never_split if t not in self.all_special_tokens]
        if never_split:
            backend.add_special_tokens(never_split)
        self.backend = backend

    def _tokenize(self, text):
        if self.is_tokenize_char:
            return super()._tokenize(text)
        return self.backend.encode(text, add_special_tokens=False).tokens


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class LlamaTokenizerFast(LlamaTokenizer):
    """LlamaTokenizer (the sentencepiece model; same arguments and ids) with the BPE run by `tokenizers`: the
    model's pieces and their merges (each piece split where both halves are pieces, ranked by the piece's score)
    as a byte-fallback BPE, spaces as '▁' and one '▁' in front, as sentencepiece does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tokenizers = _tokenizers()
        sp = self.sp_model
        vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
        merges = []
        for piece, piece_id in vocab.items():
            for cut in range(1, len(piece)):
                left, right = piece[:cut], piece[cut:]
                if left in vocab and right in vocab:
                    merges.append((vocab[left], vocab[right], piece_id, (left, right)))
        merges.sort(key=lambda m: (m[2], m[0], m[1]))
        model = tokenizers.models.BPE(vocab=vocab, merges=[m[3] for m in merges], unk_token=sp.id_to_piece(sp.unk_id()),
                                      fuse_unk=True, byte_fallback=True)
        backend = tokenizers.Tokenizer(model)
        normalizers = tokenizers.normalizers
        backend.normalizer = normalizers.Sequence([normalizers.Prepend('▁'), normalizers.Replace(' ', '▁')])
        self.backend = backend

    def _tokenize(self, text):
        if not self.legacy:
            return super()._tokenize(text)
        return self.backend.encode(text, add_special_tokens=False).tokens


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class T5TokenizerFast(T5Tokenizer):
    """T5Tokenizer (spiece.model, sentinels; same arguments and ids) with the unigram segmentation run by
    `tokenizers`: the model's pieces and scores, its precompiled normalisation rules, whitespace runs collapsed and
    trimmed and '▁' in front of each word, as sentencepiece does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tokenizers = _tokenizers()
        from sentencepiece import sentencepiece_model_pb2  # pylint: disable=import-outside-toplevel
        proto = sentencepiece_model_pb2.ModelProto()
        with open(self.vocab_file, 'rb') as stream:
            proto.ParseFromString(stream.read())
        model = tokenizers.models.Unigram([(piece.piece, piece.score) for piece in proto.pieces],
                                          unk_id=proto.trainer_spec.unk_id,
                                          byte_fallback=proto.trainer_spec.byte_fallback)
        backend = tokenizers.Tokenizer(model)
        normalizers = tokenizers.normalizers
        steps = []
        if proto.normalizer_spec.precompiled_charsmap:
            steps.append(normalizers.Precompiled(proto.normalizer_spec.precompiled_charsmap))
        if proto.normalizer_spec.remove_extra_whitespaces:
            steps += [normalizers.Strip(), normalizers.Replace(tokenizers.Regex(' {2,}'), ' ')]
        if steps:
            backend.normalizer = normalizers.Sequence(steps)
        scheme = 'always' if proto.normalizer_spec.add_dummy_prefix else 'never'
        backend.pre_tokenizer = tokenizers.pre_tokenizers.Metaspace(replacement='▁', prepend_scheme=scheme)
        self.backend = backend

    def _tokenize(self, text):
        if not self.legacy:
            return super()._tokenize(text)
        return self.backend.encode(text, add_special_tokens=False).tokens
