"""Text transforms: token classification (characters -> BERT inputs, labels aligned), CLIP (captions -> ids) and
captioning (CaptionTransform)."""
import re

import numpy as np

from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister
from mindformers.tools.register.register import build_from_registry

__all__ = ['TokenizeWithLabel', 'LabelPadding', 'RandomChoiceTokenizerForward', 'TokenizerForward', 'CaptionTransform',
           'build_transforms', 'char_token_ids']


def _as_str(value):
    if isinstance(value, np.ndarray):
        value = value.item()
    return value.decode('utf-8') if isinstance(value, bytes) else str(value)


def char_token_ids(tokenizer, text, fix):
    """The ids of `text`'s tokens, which must be one per character (labels and offsets name characters); any
    other split is a DatasetError ending in `fix`, never a silent misalignment."""
    tokens = tokenizer.tokenize(text)
    if len(tokens) != len(text):
        raise DatasetError(f"token classification labels characters, but the tokenizer does not give one token per "
                           f"character of {text[:40]!r}; {fix}")
    return tokenizer.convert_tokens_to_ids(tokens)


def build_transforms(config=None, default_args=None, module_type=MindFormerModuleType.TRANSFORMS, class_name=None,
                     **kwargs):
    """A transform from its config section ({type: ...}), a list of them (a list back; default_args only apply to
    a single section), or `class_name` with `kwargs`. Every mindspore.dataset.vision / transforms op is known by
    its name, upstream's own transforms override theirs (e.g. Resize takes a string interpolation)."""
    if isinstance(config, (list, tuple)):
        built = [build_from_registry(section, default_args if len(config) == 1 else None, module_type)
                 for section in config]
        return built if len(built) > 1 else built[0]
    return build_from_registry(config, default_args, module_type, class_name, **kwargs)


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class TokenizeWithLabel:
    """(text, label ids) -> (input_ids, token_type_ids, attention_mask, label ids unchanged), int32.

    The text becomes `[CLS] c1 c2 ... [SEP]` cut to `max_length` and padded to it (padding='max_length'). The labels
    name characters, so the tokenizer must give one token per character (BertTokenizer with is_tokenize_char: True);
    any other split is a DatasetError, never a silent misalignment.
    """

    def __init__(self, tokenizer, max_length=128, padding='max_length'):
        if tokenizer is None:
            raise DatasetError("TokenizeWithLabel needs the dataset section's tokenizer")
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 3:
            raise DatasetError(f"TokenizeWithLabel: max_length must be an integer >= 3, got {max_length!r}")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.padding = padding

    def __call__(self, text, label_id):
        ids = char_token_ids(self.tokenizer, _as_str(text), 'set is_tokenize_char: True in the tokenizer section')
        encoded = self.tokenizer(ids, max_length=self.max_length, padding=self.padding, truncation=True)
        return (np.array(encoded['input_ids'], np.int32), np.array(encoded['token_type_ids'], np.int32),
                np.array(encoded['attention_mask'], np.int32), np.asarray(label_id, np.int32))


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class LabelPadding:
    """Character labels -> one label per position of TokenizeWithLabel's row: `padding_value` for [CLS], the labels
    of the characters that fit (max_length - 2), then `padding_value` for [SEP] and the padding (int32)."""

    def __init__(self, max_length=128, padding_value=0):
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 3:
            raise DatasetError(f"LabelPadding: max_length must be an integer >= 3, got {max_length!r}")
        self.max_length = max_length
        self.padding_value = int(padding_value)

    def __call__(self, label_id):
        labels = np.asarray(label_id, np.int64).reshape(-1)[:self.max_length - 2]
        row = np.full(self.max_length, self.padding_value, np.int32)
        row[1:1 + len(labels)] = labels
        return row


def _texts(value):
    """A string column value (a str, bytes, or a numpy array of them) -> a list of str."""
    array = np.asarray(value)
    return [_as_str(item) for item in array.reshape(-1)]


class _TokenizerTransform:
    def __init__(self, tokenizer, max_length=77, padding='max_length'):
        if tokenizer is None:
            raise DatasetError(f"{type(self).__name__} needs the dataset section's tokenizer (e.g. type: "
                               f"CLIPTokenizer)")
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 2:
            raise DatasetError(f"{type(self).__name__}: max_length must be an integer >= 2, got {max_length!r}")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.padding = padding

    def ids(self, texts):
        encoded = self.tokenizer(texts, max_length=self.max_length, padding=self.padding, truncation=True)
        return np.array(encoded['input_ids'], np.int32)


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class RandomChoiceTokenizerForward(_TokenizerTransform):
    """An image's captions -> the ids (max_length,) int32 of one caption drawn at random (contrastive
    pre-training: Flickr8k has five per image). The draws come from one generator seeded with `random_seed`
    (upstream reseeds on every call, which picks the same position every time)."""

    def __init__(self, tokenizer, max_length=77, padding='max_length', random_seed=2022):
        super().__init__(tokenizer, max_length, padding)
        self.rng = np.random.default_rng(random_seed)

    def __call__(self, captions):
        texts = _texts(captions)
        return self.ids([texts[int(self.rng.integers(len(texts)))]])[0]


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class TokenizerForward(_TokenizerTransform):
    """Texts (e.g. one prompt per class) -> their ids (n, max_length) int32 (zero-shot classification)."""

    def __call__(self, texts):
        return self.ids(_texts(texts))


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class CaptionTransform:
    """Caption(s) -> ids (max_length,) int32 each: `prompt` + the caption lower-cased, the punctuation
    . ! " ( ) * # : ; ~ replaced by spaces, whitespace collapsed, cut to `max_words` words, then tokenized
    (image-to-text pre-training). A 1-D array of captions gives a list, one array per caption."""

    def __init__(self, tokenizer, prompt="", max_words=50, max_length=32, padding="max_length", random_seed=2022,
                 truncation=True, add_special_tokens=True):
        del random_seed                                      # upstream takes it and does not use it
        if tokenizer is None:
            raise DatasetError("CaptionTransform needs the dataset section's tokenizer")
        self.tokenizer = tokenizer
        self.prompt = prompt
        self.max_words = max_words
        self.max_length = max_length
        self.padding = padding
        self.truncation = truncation
        self.add_special_tokens = add_special_tokens

    def pre_caption(self, caption):
        text = (self.prompt + _as_str(caption)).lower()
        text = re.sub(r'[.!"()*#:;~]', ' ', text)
        text = re.sub(r'\s{2,}', ' ', text).rstrip('\n').strip(' ')
        words = text.split(' ')
        if len(words) > self.max_words:
            text = ' '.join(words[:self.max_words])
        encoded = self.tokenizer(text, max_length=self.max_length, padding=self.padding, truncation=self.truncation,
                                 add_special_tokens=self.add_special_tokens)
        return np.array(encoded['input_ids'], np.int32)

    def __call__(self, caption):
        caption = np.asarray(caption)
        if caption.ndim == 1:
            return [self.pre_caption(item) for item in caption]
        return self.pre_caption(caption)
