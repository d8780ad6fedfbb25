"""ChatGLMTokenizer: ChatGLM-6B's sentencepiece tokenizer (`ice_text.model`), whose GLM specials are pieces of the
model itself."""
import re

from mindformers.models.base_tokenizer import PreTrainedTokenizer
from mindformers.models.sentencepiece_model import SentencePieceFileMixin, load_sentencepiece
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['ChatGLMTokenizer']

# pieces of ice_text.model that are never text (decoding drops them)
GLM_SPECIAL_PIECES = ('[MASK]', '[gMASK]', '[sMASK]', '<unused_0>', '<sop>', '<eop>', '<ENC>', '<dBLOCK>')
MAX_BLANK_LENGTH = 80
_IMAGE_TOKEN = re.compile(r'^<image_(\d+)>$')


def encode_whitespace(text, linebreak=True, whitespaces=True, max_blank_length=MAX_BLANK_LENGTH):
    """ChatGLM-6B's text preprocessing: newline -> `<n>`, tab -> `<|tab|>`, a run of 2..80 spaces ->
    `<|blank_N|>` (longest runs first)."""
    if linebreak:
        text = text.replace('\n', '<n>')
    if whitespaces:
        text = text.replace('\t', '<|tab|>')
        for length in range(max_blank_length, 1, -1):
            text = text.replace(' ' * length, f'<|blank_{length}|>')
    return text


def decode_whitespace(text, max_blank_length=MAX_BLANK_LENGTH):
    text = text.replace('<n>', '\n').replace('<|tab|>', '\t')
    for length in range(2, max_blank_length + 1):
        text = text.replace(f'<|blank_{length}|>', ' ' * length)
    return text


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class ChatGLMTokenizer(SentencePieceFileMixin, PreTrainedTokenizer):
    """ChatGLM-6B tokenizer over a sentencepiece model, as upstream's.

    - `[MASK] [gMASK] [sMASK] <sop> <eop>` and `<pad>` are pieces of the model (ChatGLM-6B: 130000, 130001, 130002,
      130004, 130005 and 3); a model without one of them is refused. Ids are the piece ids plus
      `num_image_tokens` (0 for upstream's ice_text.model, 20000 for the original release, whose first ids are
      `<image_N>` tokens).
    - Text is preprocessed as ChatGLM-6B does: newlines become `<n>`, tabs `<|tab|>`, runs of 2..80 spaces
      `<|blank_N|>` (pieces of ice_text.model), and back when decoding.
    - Encoding appends `[gMASK] <sop>` to the text; a pair is `A [gMASK] <sop> B <eop>`.
    - `bos_token` is `<sop>` (the start of the answer), `eos_token` `<eop>`; decoding drops the GLM specials and
      padding.
    - `build_prompt(query, history)` writes the ChatGLM-6B chat prompt (`[Round n]\\n问：...\\n答：...`).
    """
    vocab_files_names = {'vocab_file': 'ice_text.model'}
    model_input_names = ['input_ids']
    _support_list = ['glm_6b', 'glm_6b_chat', 'glm_6b_lora', 'glm_6b_lora_chat']

    def __init__(self, vocab_file, do_lower_case=False, remove_space=False, bos_token='<sop>', eos_token='<eop>',
                 end_token='</s>', mask_token='[MASK]', gmask_token='[gMASK]', padding_side='left', pad_token='<pad>',
                 unk_token='<unk>', num_image_tokens=0, sp_model_kwargs=None, **kwargs):
        self.vocab_file = vocab_file
        self.sp_model_kwargs = dict(sp_model_kwargs or {})
        self.sp_model = load_sentencepiece(vocab_file, self.sp_model_kwargs, type(self).__name__)
        if not isinstance(num_image_tokens, int) or isinstance(num_image_tokens, bool) or num_image_tokens < 0:
            raise ConfigError(f"ChatGLMTokenizer: num_image_tokens must be an integer >= 0, got {num_image_tokens!r}")
        self.num_image_tokens = num_image_tokens
        self.do_lower_case = do_lower_case
        self.remove_space = remove_space
        self.end_token = end_token
        self.gmask_token = gmask_token
        unknown = self.sp_model.unk_id()
        missing = [piece for piece in (bos_token, eos_token, mask_token, gmask_token, pad_token)
                   if self.sp_model.piece_to_id(piece) == unknown]
        if missing:
            raise ConfigError(f"ChatGLMTokenizer: the sentencepiece model {vocab_file} has no piece for "
                              f"{', '.join(missing)}; ChatGLM-6B's ice_text.model has them (train a model with "
                              f"them as user_defined_symbols)")
        self._dropped = {self.sp_model.piece_to_id(piece) + num_image_tokens for piece in GLM_SPECIAL_PIECES
                         if self.sp_model.piece_to_id(piece) != unknown}
        self._dropped.add(self.sp_model.piece_to_id(pad_token) + num_image_tokens)
        kwargs.setdefault('clean_up_tokenization_spaces', False)
        super().__init__(vocab_file=vocab_file, do_lower_case=do_lower_case, remove_space=remove_space,
                         bos_token=bos_token, eos_token=eos_token, end_token=end_token, mask_token=mask_token,
                         gmask_token=gmask_token, padding_side=padding_side, pad_token=pad_token,
                         unk_token=unk_token, num_image_tokens=num_image_tokens, sp_model_kwargs=self.sp_model_kwargs,
                         **kwargs)

    @property
    def gmask_token_id(self):
        return self._convert_token_to_id(self.gmask_token)

    @property
    def end_token_id(self):
        return self._convert_token_to_id(self.end_token)

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        output = list(token_ids_0) + [self.gmask_token_id, self.bos_token_id]
        if token_ids_1 is not None:
            output = output + list(token_ids_1) + [self.eos_token_id]
        return output

    @staticmethod
    def build_prompt(query, history=None):
        """The ChatGLM-6B chat prompt: the query alone, or past rounds `[Round i]\\n问：q\\n答：r\\n` (from 0) and
        the new query after `答：`."""
        if not history:
            return query
        prompt = ''
        for index, (old_query, response) in enumerate(history):
            prompt += f"[Round {index}]\n问：{old_query}\n答：{response}\n"
        return prompt + f"[Round {len(history)}]\n问：{query}\n答："

    # ---- vocabulary ------------------------------------------------------------------------------
    @property
    def vocab_size(self):
        return self.num_image_tokens + self.sp_model.get_piece_size()

    def preprocess_text(self, text):
        if self.remove_space:
            text = ' '.join(text.strip().split())
        return text.lower() if self.do_lower_case else text

    def tokenize(self, text, **kwargs):
        if not isinstance(text, str):
            raise TypeError(f"tokenize expects a string, got {type(text).__name__}")
        return self._tokenize(text)

    def _tokenize(self, text):
        return self.sp_model.encode(encode_whitespace(self.preprocess_text(text)), out_type=str)

    def _convert_token_to_id(self, token):
        image = _IMAGE_TOKEN.match(token)
        if image and int(image.group(1)) < self.num_image_tokens:
            return int(image.group(1))
        return self.sp_model.piece_to_id(token) + self.num_image_tokens

    def _convert_id_to_token(self, index):
        if index < self.num_image_tokens:
            return f'<image_{index}>'
        return self.sp_model.id_to_piece(index - self.num_image_tokens)

    def convert_tokens_to_string(self, tokens):
        return decode_whitespace(self.sp_model.decode_pieces(list(tokens)))

    def _decode(self, token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=None,
                spaces_between_special_tokens=None):
        """Ids -> text: image ids, the GLM specials and padding are left out, `<n>` / blanks restored."""
        for index in token_ids:
            if not 0 <= index < self.vocab_size:
                raise ConfigError(f"token id {index} is outside the vocabulary of ChatGLMTokenizer "
                                  f"(0..{self.vocab_size - 1}); does the model's vocab_size match the tokenizer?")
        pieces = [index - self.num_image_tokens for index in token_ids
                  if index >= self.num_image_tokens and index not in self._dropped]
        text = decode_whitespace(self.sp_model.decode(pieces))
        if clean_up_tokenization_spaces:
            text = self.clean_up_tokenization(text)
        return text
