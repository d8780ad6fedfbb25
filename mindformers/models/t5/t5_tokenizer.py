"""T5Tokenizer: T5's sentencepiece tokenizer (`spiece.model`) with `</s>` appended and 100 sentinel tokens."""
import re

from mindformers.models.llama.llama_tokenizer import LlamaTokenizer, SPIECE_UNDERLINE
from mindformers.models.t5.t5_config import T5_NAMES
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['T5Tokenizer']

_SENTINEL = re.compile(r'^<extra_id_(\d+)>$')


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class T5Tokenizer(LlamaTokenizer):
    """T5 tokenizer over a sentencepiece model, encoding and decoding like transformers' (slow) T5Tokenizer.

    - Every sequence ends with `</s>` (`A </s>`; a pair `A </s> B </s>`); there is no bos token.
    - `extra_ids` sentinels `<extra_id_0>` .. `<extra_id_{n-1}>` take the ids after the sentencepiece pieces in
      reverse (`<extra_id_0>` is the last id), as T5 was trained; whitespace around a sentinel is dropped.
    - `vocab_size` is the piece count, `len(tokenizer)` the pieces plus the sentinels.
    """
    vocab_files_names = {'vocab_file': 'spiece.model'}
    model_input_names = ['input_ids', 'attention_mask']
    _support_list = T5_NAMES
    default_chat_template = None

    def __init__(self, vocab_file, eos_token='</s>', unk_token='<unk>', pad_token='<pad>', extra_ids=100,
                 additional_special_tokens=None, sp_model_kwargs=None, legacy=True, **kwargs):
        self.extra_ids = int(extra_ids)
        sentinels = [f'<extra_id_{i}>' for i in range(self.extra_ids)]
        additional = list(additional_special_tokens or [])
        if not any(_SENTINEL.match(str(token)) for token in additional):
            additional += sentinels
        kwargs.pop('bos_token', None)
        kwargs.pop('add_bos_token', None)
        kwargs.pop('add_eos_token', None)
        kwargs.setdefault('clean_up_tokenization_spaces', False)
        kwargs.setdefault('spaces_between_special_tokens', True)   # sentinels are joined with spaces
        super().__init__(vocab_file, unk_token=unk_token, bos_token=None, eos_token=eos_token, pad_token=pad_token,
                         sp_model_kwargs=sp_model_kwargs, add_bos_token=False, add_eos_token=True, legacy=legacy,
                         additional_special_tokens=additional, extra_ids=self.extra_ids, **kwargs)

    def _register_added_token(self, token):
        match = _SENTINEL.match(token)
        if match and int(match.group(1)) < getattr(self, 'extra_ids', 0) and token not in self.added_tokens_encoder:
            token_id = self.vocab_size + self.extra_ids - 1 - int(match.group(1))
            self.added_tokens_encoder[token] = token_id
            self.added_tokens_decoder[token_id] = token
            self._added_tokens_pattern = None
            return
        super()._register_added_token(token)

    def _split_on_added_tokens(self, text):
        """Cut around added tokens; the spaces next to a sentinel belong to it (transformers' lstrip/rstrip)."""
        pieces = super()._split_on_added_tokens(text)
        out = []
        for index, piece in enumerate(pieces):
            if piece not in self.added_tokens_encoder:
                if index > 0 and _SENTINEL.match(pieces[index - 1]):
                    piece = piece.lstrip()
                if index + 1 < len(pieces) and _SENTINEL.match(pieces[index + 1]):
                    piece = piece.rstrip()
                if not piece:
                    continue
            out.append(piece)
        return out

    def get_sentinel_tokens(self):
        return [token for token in self.additional_special_tokens if _SENTINEL.match(token)]

    def get_sentinel_token_ids(self):
        return [self.convert_tokens_to_ids(token) for token in self.get_sentinel_tokens()]

    def convert_tokens_to_string(self, tokens):
        """Stretches between special tokens are decoded by sentencepiece; a special token is written as it is,
        after a space; the result is stripped."""
        tokens = list(tokens)
        if tokens and tokens[0].startswith(SPIECE_UNDERLINE) and self.add_prefix_space:
            tokens[0] = tokens[0][1:]
        special_tokens = set(self.all_special_tokens)
        out_string, stretch, prev_is_special = '', [], False
        for token in tokens:
            if token in special_tokens:
                if not prev_is_special:
                    out_string += ' '
                out_string += self.sp_model.decode(stretch) + token
                prev_is_special, stretch = True, []
            else:
                stretch.append(token)
                prev_is_special = False
        return (out_string + self.sp_model.decode(stretch)).strip()
