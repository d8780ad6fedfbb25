"""PreTrainedTokenizer: the text <-> token ids contract that every tokenizer family implements.

The behaviour follows the slow tokenizers of Hugging Face `transformers` 4.x, which upstream
MindFormers' `BaseTokenizer` / `PreTrainedTokenizer` also follow: special tokens are split out of the
text before the model's own tokenizer runs, `__call__` pads and truncates with special tokens counted,
`decode` turns ids back into text through `convert_tokens_to_string`.

A family subclasses it and implements `_tokenize`, `_convert_token_to_id`, `_convert_id_to_token`,
`convert_tokens_to_string`, `build_inputs_with_special_tokens`, `get_vocab`, `save_vocabulary` and
the `vocab_size` property. It loads its vocabulary before calling `super().__init__(**kwargs)`, so
the special tokens can be looked up there.
"""
import copy
import json
import os
import re

import numpy as np

from mindformers.models.base_config import SupportListMixin
from mindformers.tools.download import checkpoint_download_root
from mindformers.tools.errors import ConfigError
from mindformers.tools.register.config import ordered_yaml_dump, ordered_yaml_load

__all__ = ['PreTrainedTokenizer', 'BaseTokenizer', 'Tokenizer', 'SpecialTokensMixin', 'BatchEncoding']

# model_max_length when nobody set one: "no limit", as in transformers
VERY_LARGE_INTEGER = int(1e30)
TOKENIZER_CONFIG_FILE = 'tokenizer_config.json'
SPECIAL_TOKENS_MAP_FILE = 'special_tokens_map.json'
SPECIAL_TOKENS_ATTRIBUTES = ('bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token',
                             'mask_token')
# keys that transformers writes into tokenizer_config.json and that are bookkeeping, not constructor arguments
_CONFIG_BOOKKEEPING_KEYS = ('added_tokens_decoder', 'tokenizer_class', 'auto_map', 'name_or_path', 'type',
                            'tokenizer_file', 'processor_class')
_RETURN_TENSORS = (None, 'ms', 'np')


class BatchEncoding(dict):
    """The dict `__call__` returns; keys are also readable as attributes (`enc.input_ids`)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def _special_token_property(name):
    def getter(self):
        return self._special_tokens.get(name)

    def setter(self, value):
        self._set_special_token(name, value)

    return property(getter, setter, doc=f"The {name.replace('_', ' ')} as a string, or None.")


def _special_token_id_property(name):
    def getter(self):
        token = self._special_tokens.get(name)
        return None if token is None else self.convert_tokens_to_ids(token)

    def setter(self, value):
        self._set_special_token(name, None if value is None else self.convert_ids_to_tokens(int(value)))

    return property(getter, setter, doc=f"The id of the {name.replace('_', ' ')}, or None.")


def _to_id_list(token_ids):
    """Tensor / ndarray / list / int -> plain Python ints (nested lists stay nested)."""
    if hasattr(token_ids, 'asnumpy'):
        token_ids = token_ids.asnumpy()
    if isinstance(token_ids, np.ndarray):
        return token_ids.tolist()
    if isinstance(token_ids, (int, np.integer)):
        return int(token_ids)
    if isinstance(token_ids, (list, tuple)):
        return [_to_id_list(item) for item in token_ids]
    raise TypeError(f"token ids must be an int, a list, a numpy array or a Tensor, got {type(token_ids).__name__}")


def _normalize_padding(padding):
    if padding is False or padding is None or padding == 'do_not_pad':
        return None
    if padding is True or padding == 'longest':
        return 'longest'
    if padding == 'max_length':
        return 'max_length'
    raise ConfigError(f"padding must be False, True, 'longest' or 'max_length', got {padding!r}")


def _normalize_truncation(truncation):
    if truncation is False or truncation is None or truncation == 'do_not_truncate':
        return False
    if truncation is True or truncation in ('longest_first', 'only_first', 'only_second'):
        return True
    raise ConfigError(f"truncation must be True, False or 'longest_first', got {truncation!r}")


class SpecialTokensMixin:
    """The special tokens of a tokenizer (bos/eos/unk/sep/pad/cls/mask and additional ones): string and id
    properties, `special_tokens_map`, `all_special_tokens` / `all_special_ids`, `add_special_tokens`. A tokenizer
    registers each one as an added token (`_register_added_token`) and resolves ids with `convert_tokens_to_ids`."""
    SPECIAL_TOKENS_ATTRIBUTES = list(SPECIAL_TOKENS_ATTRIBUTES) + ['additional_special_tokens']

    def __init__(self, **kwargs):
        self._init_special_tokens(kwargs)

    def _init_special_tokens(self, kwargs):
        """Take the special tokens out of `kwargs` (popped)."""
        self._special_tokens = {}
        self._additional_special_tokens = []
        for name in SPECIAL_TOKENS_ATTRIBUTES:
            value = kwargs.pop(name, None)
            if value is not None:
                self._set_special_token(name, value)
        for token in kwargs.pop('additional_special_tokens', None) or []:
            self._additional_special_tokens.append(self._as_token_string(token))
            self._register_added_token(self._additional_special_tokens[-1])

    def _register_added_token(self, token):
        """A tokenizer records the token so it is matched whole in text; nothing to record without a vocabulary."""

    def add_tokens(self, new_tokens, special_tokens=False):
        """Add tokens that are matched whole in the text (`special_tokens`: also as additional special tokens);
        returns how many were new to the vocabulary."""
        if isinstance(new_tokens, str):
            new_tokens = [new_tokens]
        added = 0
        for token in new_tokens:
            token = self._as_token_string(token)
            added += self._add_token(token)
            if special_tokens and token not in self.all_special_tokens:
                self._additional_special_tokens.append(token)
        return added

    def _add_token(self, token):
        """Record `token` in the vocabulary; 1 if it was new to it. Without a vocabulary there is nothing to record."""
        return 0

    def __len__(self):
        return len(self.all_special_tokens)

    bos_token = _special_token_property('bos_token')
    eos_token = _special_token_property('eos_token')
    unk_token = _special_token_property('unk_token')
    sep_token = _special_token_property('sep_token')
    pad_token = _special_token_property('pad_token')
    cls_token = _special_token_property('cls_token')
    mask_token = _special_token_property('mask_token')
    bos_token_id = _special_token_id_property('bos_token')
    eos_token_id = _special_token_id_property('eos_token')
    unk_token_id = _special_token_id_property('unk_token')
    sep_token_id = _special_token_id_property('sep_token')
    pad_token_id = _special_token_id_property('pad_token')
    cls_token_id = _special_token_id_property('cls_token')
    mask_token_id = _special_token_id_property('mask_token')

    @staticmethod
    def _as_token_string(token):
        """Special tokens are strings; HF configs may write them as {'content': ...} dicts."""
        if isinstance(token, dict) and 'content' in token:
            token = token['content']
        if not isinstance(token, str):
            token = str(token)
        if not token:
            raise ConfigError("a special token cannot be the empty string")
        return token

    def _set_special_token(self, name, value):
        if value is None:
            self._special_tokens.pop(name, None)
            return
        token = self._as_token_string(value)
        self._special_tokens[name] = token
        self._register_added_token(token)

    @property
    def additional_special_tokens(self):
        return list(self._additional_special_tokens)

    @property
    def special_tokens_map(self):
        """{'bos_token': '<s>', ...} for the special tokens that are set."""
        tokens = {name: self._special_tokens[name] for name in SPECIAL_TOKENS_ATTRIBUTES
                  if name in self._special_tokens}
        if self._additional_special_tokens:
            tokens['additional_special_tokens'] = list(self._additional_special_tokens)
        return tokens

    @property
    def all_special_tokens(self):
        """Every special token once, in declaration order."""
        tokens = []
        for name in SPECIAL_TOKENS_ATTRIBUTES:
            token = self._special_tokens.get(name)
            if token is not None and token not in tokens:
                tokens.append(token)
        tokens.extend(t for t in self._additional_special_tokens if t not in tokens)
        return tokens

    @property
    def all_special_ids(self):
        return self.convert_tokens_to_ids(self.all_special_tokens)

    def add_special_tokens(self, special_tokens_dict):
        """Set special tokens from {'pad_token': '<pad>', 'additional_special_tokens': [...]}."""
        before = len(self)
        for name, value in special_tokens_dict.items():
            if name == 'additional_special_tokens':
                self.add_tokens(value, special_tokens=True)
            elif name in SPECIAL_TOKENS_ATTRIBUTES:
                self._set_special_token(name, value)
            else:
                raise ConfigError(f"unknown special token name '{name}'; use one of "
                                  f"{', '.join(SPECIAL_TOKENS_ATTRIBUTES)} or additional_special_tokens")
        return len(self) - before


class PreTrainedTokenizer(SpecialTokensMixin, SupportListMixin):
    """Base of every tokenizer: special tokens, `__call__` with padding/truncation, decode, save/load."""
    vocab_files_names = {}
    model_input_names = ['input_ids', 'attention_mask']
    padding_side = 'right'
    truncation_side = 'right'
    _support_list = []

    def __init__(self, **kwargs):
        self.init_kwargs = copy.deepcopy(kwargs)
        self.model_max_length = kwargs.pop('model_max_length', None) or VERY_LARGE_INTEGER
        self.padding_side = kwargs.pop('padding_side', type(self).padding_side)
        self.truncation_side = kwargs.pop('truncation_side', type(self).truncation_side)
        for side_name, side in (('padding_side', self.padding_side), ('truncation_side', self.truncation_side)):
            if side not in ('right', 'left'):
                raise ConfigError(f"{type(self).__name__}: {side_name} must be 'right' or 'left', got {side!r}")
        self.chat_template = kwargs.pop('chat_template', None)
        self.clean_up_tokenization_spaces = kwargs.pop('clean_up_tokenization_spaces', True)
        self.spaces_between_special_tokens = kwargs.pop('spaces_between_special_tokens', True)
        # token -> id of every token that is matched in the text before the model's own tokenizer
        # runs (special tokens, and tokens added with add_tokens); ids of tokens already in the
        # vocabulary are their vocabulary ids, new tokens get ids from vocab_size upwards.
        self.added_tokens_encoder = {}
        self.added_tokens_decoder = {}
        self._added_tokens_pattern = None
        self._init_special_tokens(kwargs)

    # ---- chat ------------------------------------------------------------------------------------
    default_chat_template = None

    def apply_chat_template(self, conversation, chat_template=None, add_generation_prompt=True, tokenize=True,
                            **kwargs):
        """Render `conversation` ([{'role', 'content'}, ...]) with a Jinja chat template (the tokenizer's
        `chat_template`, else its family default); returns token ids, or the text with tokenize=False."""
        template = chat_template or self.chat_template or self.default_chat_template
        if not template:
            raise ConfigError(f"{type(self).__name__} has no chat template; pass chat_template= (a Jinja "
                              f"template over `messages`)")
        try:
            import jinja2  # pylint: disable=import-outside-toplevel
        except ImportError as err:
            raise ConfigError("chat templates need the jinja2 package: pip install jinja2") from err

        def raise_exception(message):
            raise ConfigError(f"chat template: {message}")

        env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
        env.globals['raise_exception'] = raise_exception
        text = env.from_string(template).render(messages=list(conversation),
                                                add_generation_prompt=add_generation_prompt,
                                                bos_token=self.bos_token or '', eos_token=self.eos_token or '',
                                                **kwargs)
        return self.encode(text, add_special_tokens=False) if tokenize else text

    def _in_base_vocab(self, token):
        token_id = self._convert_token_to_id(token)
        return token_id is not None and 0 <= token_id < self.vocab_size and self._convert_id_to_token(token_id) == token

    def _register_added_token(self, token):
        if token in self.added_tokens_encoder:
            return
        if self._in_base_vocab(token):
            token_id = self._convert_token_to_id(token)
        else:
            token_id = self.vocab_size + sum(1 for i in self.added_tokens_decoder if i >= self.vocab_size)
        self.added_tokens_encoder[token] = token_id
        self.added_tokens_decoder[token_id] = token
        self._added_tokens_pattern = None

    def _add_token(self, token):
        if token in self.added_tokens_encoder:
            return 0
        new = int(not self._in_base_vocab(token))
        self._register_added_token(token)
        return new

    # ---- vocabulary ------------------------------------------------------------------------------
    @property
    def vocab_size(self):
        """Size of the base vocabulary (without added tokens)."""
        raise NotImplementedError(f"{type(self).__name__} must define vocab_size")

    def __len__(self):
        return self.vocab_size + sum(1 for token_id in self.added_tokens_decoder if token_id >= self.vocab_size)

    def get_vocab(self):
        raise NotImplementedError(f"{type(self).__name__} must implement get_vocab")

    # ---- text -> tokens -> ids -------------------------------------------------------------------
    def _split_on_added_tokens(self, text):
        """Cut `text` around every added/special token (longest match first); empty pieces are dropped."""
        if not self.added_tokens_encoder:
            return [text]
        if self._added_tokens_pattern is None:
            tokens = sorted(self.added_tokens_encoder, key=len, reverse=True)
            self._added_tokens_pattern = re.compile('(' + '|'.join(re.escape(t) for t in tokens) + ')')
        return [piece for piece in self._added_tokens_pattern.split(text) if piece]

    def tokenize(self, text, **kwargs):
        """Text -> tokens: special and added tokens stay whole, the rest goes through `_tokenize`."""
        if not isinstance(text, str):
            raise TypeError(f"tokenize expects a string, got {type(text).__name__}")
        tokens = []
        for piece in self._split_on_added_tokens(text):
            if piece in self.added_tokens_encoder:
                tokens.append(piece)
            else:
                tokens.extend(self._tokenize(piece))
        return tokens

    def _tokenize(self, text):
        raise NotImplementedError(f"{type(self).__name__} must implement _tokenize")

    def _convert_token_to_id(self, token):
        raise NotImplementedError(f"{type(self).__name__} must implement _convert_token_to_id")

    def _convert_id_to_token(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement _convert_id_to_token")

    def convert_tokens_to_ids(self, tokens):
        """A token -> its id; a list of tokens -> a list of ids."""
        if tokens is None:
            return None
        if isinstance(tokens, str):
            if tokens in self.added_tokens_encoder:
                return self.added_tokens_encoder[tokens]
            return self._convert_token_to_id(tokens)
        return [self.convert_tokens_to_ids(token) for token in tokens]

    def convert_ids_to_tokens(self, ids, skip_special_tokens=False):
        """An id -> its token; a list of ids -> a list of tokens (special ones dropped if asked)."""
        ids = _to_id_list(ids)
        if isinstance(ids, int):
            return self._id_to_token(ids)
        special_ids = set(self.all_special_ids) if skip_special_tokens else set()
        return [self._id_to_token(index) for index in ids if index not in special_ids]

    def _id_to_token(self, index):
        if index in self.added_tokens_decoder:
            return self.added_tokens_decoder[index]
        if not 0 <= index < self.vocab_size:
            raise ConfigError(f"token id {index} is outside the vocabulary of {type(self).__name__} "
                              f"(0..{len(self) - 1}); does the model's vocab_size match the tokenizer?")
        return self._convert_id_to_token(index)

    def convert_tokens_to_string(self, tokens):
        return ' '.join(tokens)

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        """<s> A (</s>) and, for a pair, <s> A (</s>) <s> B (</s>), as the tokenizer's `add_bos_token` /
        `add_eos_token` say (both off unless a family sets them)."""
        bos = [self.bos_token_id] if getattr(self, 'add_bos_token', False) else []
        eos = [self.eos_token_id] if getattr(self, 'add_eos_token', False) else []
        output = bos + list(token_ids_0) + eos
        if token_ids_1 is not None:
            output = output + bos + list(token_ids_1) + eos
        return output

    def num_special_tokens_to_add(self, pair=False):
        return len(self.build_inputs_with_special_tokens([], [] if pair else None))

    def _text_to_ids(self, text):
        if isinstance(text, str):
            return self.convert_tokens_to_ids(self.tokenize(text))
        if isinstance(text, (list, tuple)) and all(isinstance(t, (int, np.integer)) for t in text):
            return [int(t) for t in text]
        raise TypeError(f"text must be a string (or a list of token ids), got {type(text).__name__}")

    # ---- __call__ / encode -----------------------------------------------------------------------
    def __call__(self, text, text_pair=None, add_special_tokens=True, max_length=None, padding=False,
                 truncation=False, return_tensors=None, return_attention_mask=True, **kwargs):
        """Tokenize one string or a list of strings into {'input_ids', 'attention_mask'}.

        padding: False (none), True/'longest' (to the longest in the batch), 'max_length'.
        truncation: cut to `max_length`, special tokens included (the end of the text goes, or its
        start with truncation_side='left'). return_tensors: None (lists), 'np' (numpy), 'ms'
        (int32 mindspore.Tensor); with tensors a single string gets a batch axis of 1.
        """
        if kwargs:
            raise ConfigError(f"{type(self).__name__}() got unexpected arguments: {', '.join(sorted(kwargs))}")
        if return_tensors not in _RETURN_TENSORS:
            raise ConfigError(f"return_tensors must be None, 'np' or 'ms', got {return_tensors!r}")
        padding = _normalize_padding(padding)
        truncation = _normalize_truncation(truncation)
        wants_length = padding == 'max_length' or truncation
        if max_length is None and wants_length and self.model_max_length < VERY_LARGE_INTEGER:
            max_length = self.model_max_length
        if padding == 'max_length' and max_length is None:
            raise ConfigError("padding='max_length' needs max_length (or the tokenizer's model_max_length)")
        if max_length is not None and (not isinstance(max_length, (int, np.integer)) or max_length <= 0):
            raise ConfigError(f"max_length must be a positive integer, got {max_length!r}")

        is_batch = isinstance(text, (list, tuple)) and not (text and isinstance(text[0], (int, np.integer)))
        texts = list(text) if is_batch else [text]
        if text_pair is None:
            pairs = [None] * len(texts)
        else:
            pairs = list(text_pair) if is_batch else [text_pair]
            if len(pairs) != len(texts):
                raise ConfigError(f"text has {len(texts)} items but text_pair has {len(pairs)}")

        all_ids, all_first_lengths = [], []
        for one_text, one_pair in zip(texts, pairs):
            ids = self._text_to_ids(one_text)
            pair_ids = None if one_pair is None else self._text_to_ids(one_pair)
            if truncation and max_length is not None:
                ids, pair_ids = self._truncate(ids, pair_ids, max_length, add_special_tokens)
            first = len(self.build_inputs_with_special_tokens(ids) if add_special_tokens else ids)
            if add_special_tokens:
                ids = self.build_inputs_with_special_tokens(ids, pair_ids)
            elif pair_ids is not None:
                ids = ids + pair_ids
            all_ids.append(ids)
            all_first_lengths.append(first)

        if padding == 'longest':
            target_length = max((len(ids) for ids in all_ids), default=0)
        elif padding == 'max_length':
            target_length = max_length
        else:
            target_length = None
        with_types = 'token_type_ids' in self.model_input_names
        encoded = {'input_ids': [], 'token_type_ids': [], 'attention_mask': []} if with_types else \
            {'input_ids': [], 'attention_mask': []}
        for ids, first in zip(all_ids, all_first_lengths):
            padded, mask = self._pad(ids, target_length)
            encoded['input_ids'].append(padded)
            encoded['attention_mask'].append(mask)
            if with_types:  # 0 for the first segment (with its special tokens), 1 for the pair, 0 for padding
                types = [0] * first + [1] * (len(ids) - first)
                encoded['token_type_ids'].append(self._pad_types(types, len(padded)))
        if not return_attention_mask:
            del encoded['attention_mask']
        if return_tensors is not None:
            encoded = {key: self._as_tensor(value, return_tensors) for key, value in encoded.items()}
        elif not is_batch:
            encoded = {key: value[0] for key, value in encoded.items()}
        return BatchEncoding(encoded)

    def prepare_for_model(self, ids, pair_ids=None, add_special_tokens=True, padding=False, truncation=False,
                          max_length=None, truncate_direction='RIGHT', return_attention_mask=True, return_tensors=None):
        """Token ids (and a pair) -> {'input_ids', 'attention_mask'} with special tokens, truncation (of the end, or
        of the start with truncate_direction='LEFT') and padding, as __call__ does for text."""
        side = self.truncation_side
        self.truncation_side = 'left' if str(truncate_direction).upper() == 'LEFT' else 'right'
        try:
            return self([int(t) for t in ids], text_pair=None if pair_ids is None else [int(t) for t in pair_ids],
                        add_special_tokens=add_special_tokens, max_length=max_length, padding=padding,
                        truncation=truncation, return_tensors=return_tensors,
                        return_attention_mask=return_attention_mask)
        finally:
            self.truncation_side = side

    def _truncate(self, ids, pair_ids, max_length, add_special_tokens):
        """Drop tokens (longest sequence first) until the result, special tokens included, fits max_length."""
        budget = max_length - (self.num_special_tokens_to_add(pair_ids is not None) if add_special_tokens else 0)
        if budget < 0:
            raise ConfigError(f"max_length={max_length} leaves no room for the {max_length - budget} special tokens")
        ids = list(ids)
        pair_ids = None if pair_ids is None else list(pair_ids)
        while len(ids) + (len(pair_ids) if pair_ids else 0) > budget:
            longest = pair_ids if pair_ids and len(pair_ids) > len(ids) else ids
            if self.truncation_side == 'right':
                longest.pop()
            else:
                longest.pop(0)
        return ids, pair_ids

    def _pad_types(self, types, length):
        fill = [0] * (length - len(types))
        return types + fill if self.padding_side == 'right' else fill + types

    def _pad(self, ids, target_length):
        mask = [1] * len(ids)
        if target_length is None or len(ids) >= target_length:
            return ids, mask
        if self.pad_token_id is None:
            raise ConfigError(f"{type(self).__name__} has no pad_token, so it cannot pad; set one "
                              f"(e.g. pad_token='<unk>' or tokenizer.pad_token = tokenizer.eos_token)")
        fill = target_length - len(ids)
        if self.padding_side == 'right':
            return ids + [self.pad_token_id] * fill, mask + [0] * fill
        return [self.pad_token_id] * fill + ids, [0] * fill + mask

    @staticmethod
    def _as_tensor(rows, return_tensors):
        lengths = sorted({len(row) for row in rows})
        if len(lengths) > 1:
            raise ConfigError(f"cannot make one tensor from sequences of lengths {lengths[0]}..{lengths[-1]}; "
                              f"pass padding=True or padding='max_length' (with truncation=True for a hard limit)")
        if return_tensors == 'np':
            return np.array(rows, dtype=np.int64).reshape(len(rows), lengths[0] if lengths else 0)
        import mindspore  # pylint: disable=import-outside-toplevel
        array = np.array(rows, dtype=np.int32).reshape(len(rows), lengths[0] if lengths else 0)
        return mindspore.Tensor(array, dtype=mindspore.int32)

    def encode(self, text, text_pair=None, add_special_tokens=True, max_length=None, padding=False,
               truncation=False, return_tensors=None):
        """One string -> its ids (a list, or a [1, L] array/Tensor with return_tensors)."""
        if isinstance(text, (list, tuple)) and text and not isinstance(text[0], (int, np.integer)):
            raise TypeError("encode takes one string; call the tokenizer itself for a batch")
        return self(text, text_pair=text_pair, add_special_tokens=add_special_tokens, max_length=max_length,
                    padding=padding, truncation=truncation, return_tensors=return_tensors,
                    return_attention_mask=False)['input_ids']

    # ---- ids -> text -----------------------------------------------------------------------------
    def decode(self, token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=None, **kwargs):
        """Ids -> text. A batch (list of lists, 2-D array or Tensor) gives a list of strings."""
        token_ids = _to_id_list(token_ids)
        if isinstance(token_ids, int):
            token_ids = [token_ids]
        if token_ids and isinstance(token_ids[0], list):
            return [self._decode(ids, skip_special_tokens, clean_up_tokenization_spaces, **kwargs) for ids in token_ids]
        return self._decode(token_ids, skip_special_tokens, clean_up_tokenization_spaces, **kwargs)

    def batch_decode(self, sequences, skip_special_tokens=False, clean_up_tokenization_spaces=None, **kwargs):
        sequences = _to_id_list(sequences)
        return [self._decode(ids if isinstance(ids, list) else [ids], skip_special_tokens,
                             clean_up_tokenization_spaces, **kwargs) for ids in sequences]

    def _decode(self, token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=None,
                spaces_between_special_tokens=None):
        tokens = self.convert_ids_to_tokens(token_ids, skip_special_tokens=skip_special_tokens)
        special_tokens = set(self.all_special_tokens)
        # added tokens that are not special, and special ones beyond the base vocabulary (T5's sentinels), are written
        # out verbatim between decoded stretches (transformers' rule)
        plain_added = set(self.added_tokens_encoder) - special_tokens | {
            token for token in self._additional_special_tokens
            if self.added_tokens_encoder.get(token, -1) >= self.vocab_size}
        pieces, stretch = [], []
        for token in tokens:
            if token in plain_added:
                if stretch:
                    text = self.convert_tokens_to_string(stretch)
                    if text:
                        pieces.append(text)
                    stretch = []
                pieces.append(token)
            else:
                stretch.append(token)
        if stretch:
            pieces.append(self.convert_tokens_to_string(stretch))
        if spaces_between_special_tokens is None:
            spaces_between_special_tokens = self.spaces_between_special_tokens
        text = (' ' if spaces_between_special_tokens else '').join(pieces)
        if clean_up_tokenization_spaces is None:
            clean_up_tokenization_spaces = self.clean_up_tokenization_spaces
        return self.clean_up_tokenization(text) if clean_up_tokenization_spaces else text

    @staticmethod
    def clean_up_tokenization(out_string):
        """Undo the spaces word-level tokenizers leave before punctuation and English contractions."""
        for spaced, joined in ((' .', '.'), (' ?', '?'), (' !', '!'), (' ,', ','), (" ' ", "'"), (" n't", "n't"),
                               (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
            out_string = out_string.replace(spaced, joined)
        return out_string

    # ---- save / load -----------------------------------------------------------------------------
    def save_vocabulary(self, save_directory, filename_prefix=None):
        raise NotImplementedError(f"{type(self).__name__} must implement save_vocabulary")

    def _config_to_save(self):
        config = {key: value for key, value in self.init_kwargs.items() if key not in self.vocab_files_names}
        config.update(self.special_tokens_map)
        config['padding_side'] = self.padding_side
        config['truncation_side'] = self.truncation_side
        if self.model_max_length < VERY_LARGE_INTEGER:
            config['model_max_length'] = self.model_max_length
        return copy.deepcopy(config)

    def save_pretrained(self, save_directory, save_name='mindspore_model'):
        """Write the vocabulary files, tokenizer_config.json, special_tokens_map.json and the upstream
        `<save_name>.yaml` (its `processor.tokenizer` section, merged into an existing file).

        Returns the paths written. `from_pretrained(save_directory)` reads them back.
        """
        if os.path.isfile(save_directory):
            raise ConfigError(f"save_pretrained: {save_directory} is a file; give a directory")
        os.makedirs(save_directory, exist_ok=True)
        vocab_files = tuple(self.save_vocabulary(save_directory))
        config = self._config_to_save()
        config_file = os.path.join(save_directory, TOKENIZER_CONFIG_FILE)
        with open(config_file, 'w', encoding='utf-8') as stream:
            json.dump(dict(config, tokenizer_class=type(self).__name__), stream, indent=2, ensure_ascii=False)
            stream.write('\n')
        special_file = os.path.join(save_directory, SPECIAL_TOKENS_MAP_FILE)
        with open(special_file, 'w', encoding='utf-8') as stream:
            json.dump(self.special_tokens_map, stream, indent=2, ensure_ascii=False)
            stream.write('\n')
        yaml_file = os.path.join(save_directory, f'{save_name}.yaml')
        yaml_config = {}
        if os.path.isfile(yaml_file):
            with open(yaml_file, encoding='utf-8') as stream:
                yaml_config = ordered_yaml_load(stream) or {}
        tokenizer_section = {'type': type(self).__name__}
        for key, path in zip(self.vocab_files_names, vocab_files):
            tokenizer_section[key] = os.path.abspath(path)
        tokenizer_section.update(config)
        yaml_config.setdefault('processor', {})
        yaml_config['processor'] = dict(yaml_config['processor'] or {}, tokenizer=tokenizer_section)
        with open(yaml_file, 'w', encoding='utf-8') as stream:
            ordered_yaml_dump(yaml_config, stream)
        return vocab_files + (config_file, special_file, yaml_file)

    @classmethod
    def from_pretrained(cls, name_or_path, **kwargs):
        """Load from a directory (vocabulary files named as in `vocab_files_names`, plus the
        tokenizer_config.json it may hold) or, for single-file vocabularies, from the vocabulary file.
        Keyword arguments override the saved configuration.
        """
        name_or_path = os.path.expanduser(str(name_or_path))
        file_names = dict(cls.vocab_files_names)
        if os.path.isdir(name_or_path):
            vocab_files = {}
            for key, file_name in file_names.items():
                path = os.path.join(name_or_path, file_name)
                if not os.path.isfile(path):
                    raise ConfigError(f"{cls.__name__}.from_pretrained: {file_name} not found in {name_or_path}; "
                                      f"put the {key} there or pass the file itself")
                vocab_files[key] = path
            config = cls._load_saved_config(name_or_path)
        elif os.path.isfile(name_or_path):
            if len(file_names) != 1:
                raise ConfigError(f"{cls.__name__}.from_pretrained needs a directory holding "
                                  f"{', '.join(file_names.values())}, got the file {name_or_path}")
            vocab_files = {next(iter(file_names)): name_or_path}
            config = {}
        elif name_or_path.split('/')[-1] in cls._support_list:
            return cls.from_pretrained(cls._cached_vocab_dir(name_or_path), **kwargs)
        else:
            wanted = ', '.join(file_names.values()) or 'its files'
            raise ConfigError(f"{cls.__name__}.from_pretrained: '{name_or_path}' is neither a directory nor a file; "
                              f"pass the directory that holds {wanted} (hub downloads are not available)")
        config.update(vocab_files)
        config.update(kwargs)
        return cls(**config)

    @classmethod
    def _cached_vocab_dir(cls, name):
        """checkpoint_download/<family>/ for a supported model name, if its vocabulary files are there."""
        folder = os.path.join(checkpoint_download_root(), name.split('/')[-1].split('_')[0])
        missing = [file_name for file_name in cls.vocab_files_names.values()
                   if not os.path.isfile(os.path.join(folder, file_name))]
        if missing:
            raise ConfigError(f"{cls.__name__}.from_pretrained('{name}'): {', '.join(missing)} not cached in {folder} "
                              f"and hub downloads are not available; place the file(s) there or pass a directory")
        return folder

    @staticmethod
    def _load_saved_config(directory):
        """Constructor arguments saved in tokenizer_config.json (or, failing that, the upstream YAML)."""
        config_file = os.path.join(directory, TOKENIZER_CONFIG_FILE)
        config = {}
        if os.path.isfile(config_file):
            try:
                with open(config_file, encoding='utf-8') as stream:
                    config = json.load(stream)
            except ValueError as err:
                raise ConfigError(f"cannot parse {config_file}: {err}") from None
        else:
            yaml_files = sorted(name for name in os.listdir(directory) if name.endswith(('.yaml', '.yml')))
            for name in yaml_files:
                with open(os.path.join(directory, name), encoding='utf-8') as stream:
                    loaded = ordered_yaml_load(stream) or {}
                section = (loaded.get('processor') or {}).get('tokenizer') if isinstance(loaded, dict) else None
                if section:
                    config = dict(section)
                    break
        if not isinstance(config, dict):
            raise ConfigError(f"tokenizer config in {directory} must be a mapping")
        for key in _CONFIG_BOOKKEEPING_KEYS:
            config.pop(key, None)
        return config

    def __repr__(self):
        return (f"{type(self).__name__}(vocab_size={self.vocab_size}, special_tokens={self.special_tokens_map}, "
                f"padding_side='{self.padding_side}')")


BaseTokenizer = PreTrainedTokenizer
Tokenizer = PreTrainedTokenizer     # upstream's older name of the base class
