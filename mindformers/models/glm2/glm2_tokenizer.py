"""ChatGLM2Tokenizer: ChatGLM2-6B's sentencepiece tokenizer with the GLM commands appended after its vocabulary."""
from mindformers.models.base_tokenizer import PreTrainedTokenizer
from mindformers.models.sentencepiece_model import SentencePieceFileMixin, load_sentencepiece
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['ChatGLM2Tokenizer']

# appended after the sentencepiece pieces, in this order (ChatGLM2-6B: ids 64789 .. 64793)
GLM_COMMANDS = ('[MASK]', '[gMASK]', '[sMASK]', 'sop', 'eop')


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class ChatGLM2Tokenizer(SentencePieceFileMixin, PreTrainedTokenizer):
    """ChatGLM2 tokenizer over a sentencepiece model (`tokenizer.model`), as upstream's.

    - The five GLM commands `[MASK] [gMASK] [sMASK] sop eop` get the ids right after the sentencepiece vocabulary
      (`vocab_size` = pieces + 5). `get_command(name)` gives their ids and those of `<bos>`, `<eos>`, `<pad>`
      (sentencepiece's bos, eos and unk ids).
    - Encoding puts `[gMASK] sop` before the text (`get_prefix_tokens`); a pair is `[gMASK] sop A B <eos>`.
    - `eos_token_id` is sentencepiece's `</s>` (2 for ChatGLM2-6B) and `pad_token_id` its unk id (0), whatever the
      `eos_token` / `pad_token` strings say (upstream keeps `'<eop>'` and `'<pad>'` there).
    - Text is cut by sentencepiece alone: special-token strings inside the text are not matched (upstream).
    - Decoding drops the commands and the bos/eos/pad ids.
    - `build_prompt(query, history)` writes the ChatGLM2 chat prompt (`[Round n]\\n\\n问：...\\n\\n答：`).
    """
    vocab_files_names = {'vocab_file': 'tokenizer.model'}
    model_input_names = ['input_ids', 'attention_mask']
    _support_list = ['glm2_6b', 'glm2_6b_lora', 'glm2_6b_ptuning2']
    commands = GLM_COMMANDS         # appended after the sentencepiece pieces, in this order

    def __init__(self, vocab_file, bos_token='<sop>', eos_token='<eop>', end_token='</s>', mask_token='[MASK]',
                 gmask_token='[gMASK]', pad_token='<pad>', unk_token='<unk>', sp_model_kwargs=None, **kwargs):
        self.vocab_file = vocab_file
        self.sp_model_kwargs = dict(sp_model_kwargs or {})
        self.sp_model = load_sentencepiece(vocab_file, self.sp_model_kwargs, type(self).__name__)
        pieces = self.sp_model.get_piece_size()
        self._command_ids = {name: pieces + index for index, name in enumerate(self.commands)}
        self._command_ids.update({'<bos>': self.sp_model.bos_id(), '<eos>': self.sp_model.eos_id(),
                                  '<pad>': self.sp_model.unk_id(), '<sop>': self._command_ids['sop'],
                                  '<eop>': self._command_ids['eop']})
        for name in ('<eos>', '<pad>'):
            if self._command_ids[name] < 0:
                raise ConfigError(f"{type(self).__name__}: the sentencepiece model {vocab_file} has no "
                                  f"{'eos' if name == '<eos>' else 'unk'} piece, which ChatGLM2 uses as {name}")
        self._command_names = {index: name for name, index in self._command_ids.items() if name in self.commands}
        self.end_token = end_token
        self.gmask_token = gmask_token
        kwargs.setdefault('clean_up_tokenization_spaces', False)
        super().__init__(vocab_file=vocab_file, bos_token=bos_token, eos_token=eos_token, end_token=end_token,
                         mask_token=mask_token, gmask_token=gmask_token, pad_token=pad_token, unk_token=unk_token,
                         sp_model_kwargs=self.sp_model_kwargs, **kwargs)

    # ---- the GLM commands ------------------------------------------------------------------------
    def get_command(self, token):
        """Id of a GLM command (`[gMASK]`, `sop`, ...) or of `<bos>` / `<eos>` / `<pad>`."""
        if token not in self._command_ids:
            raise ConfigError(f"'{token}' is not a {type(self).__name__} command; use one of "
                              f"{', '.join(self._command_ids)}")
        return self._command_ids[token]

    def get_prefix_tokens(self):
        return [self.get_command('[gMASK]'), self.get_command('sop')]

    @property
    def eos_token_id(self):
        return self.get_command('<eos>')

    @property
    def pad_token_id(self):
        return self.get_command('<pad>')

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        output = self.get_prefix_tokens() + list(token_ids_0)
        if token_ids_1 is not None:
            output = output + list(token_ids_1) + [self.get_command('<eos>')]
        return output

    @staticmethod
    def build_prompt(query, history=None):
        """The ChatGLM2 chat prompt: past (query, response) rounds, then the new query after `答：`."""
        prompt = ''
        for index, (old_query, response) in enumerate(history or []):
            prompt += f"[Round {index + 1}]\n\n问：{old_query}\n\n答：{response}\n\n"
        return prompt + f"[Round {len(history or []) + 1}]\n\n问：{query}\n\n答："

    # ---- vocabulary ------------------------------------------------------------------------------
    @property
    def vocab_size(self):
        return self.sp_model.get_piece_size() + len(self.commands)

    def _in_base_vocab(self, token):
        # '<sop>', '<pad>', ... name ids of the vocabulary without being its pieces
        return token in self._command_ids or super()._in_base_vocab(token)

    def tokenize(self, text, **kwargs):
        if not isinstance(text, str):
            raise TypeError(f"tokenize expects a string, got {type(text).__name__}")
        return self._tokenize(text)

    def _tokenize(self, text):
        return self.sp_model.encode(text, out_type=str)

    def _convert_token_to_id(self, token):
        if token in self._command_ids:
            return self._command_ids[token]
        return self.sp_model.piece_to_id(token)

    def _convert_id_to_token(self, index):
        if index in self._command_names:
            return self._command_names[index]
        return self.sp_model.id_to_piece(index)

    def convert_tokens_to_string(self, tokens):
        return self.sp_model.decode_pieces(list(tokens))

    def _decode(self, token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=None,
                spaces_between_special_tokens=None):
        """Ids -> text with sentencepiece; the GLM commands and the bos/eos/pad ids are left out."""
        dropped = set(self._command_names) | {self.sp_model.bos_id(), self.sp_model.eos_id(), self.sp_model.unk_id()}
        for index in token_ids:
            if not 0 <= index < self.vocab_size:
                raise ConfigError(f"token id {index} is outside the vocabulary of ChatGLM2Tokenizer "
                                  f"(0..{self.vocab_size - 1}); does the model's vocab_size match the tokenizer?")
        text = self.sp_model.decode([index for index in token_ids if index not in dropped])
        if clean_up_tokenization_spaces:
            text = self.clean_up_tokenization(text)
        return text
