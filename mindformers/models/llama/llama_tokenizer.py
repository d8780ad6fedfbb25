"""LlamaTokenizer: LLaMA's sentencepiece BPE tokenizer, encoding and decoding like transformers' slow one."""
from mindformers.models.base_tokenizer import PreTrainedTokenizer
from mindformers.models.sentencepiece_model import SentencePieceFileMixin, load_sentencepiece
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['LlamaTokenizer']

SPIECE_UNDERLINE = '\u2581'  # '▁': sentencepiece's visible space


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class LlamaTokenizer(SentencePieceFileMixin, PreTrainedTokenizer):
    """LLaMA tokenizer over a sentencepiece model (`tokenizer.model`).

    With `legacy=True` (the default, as upstream) every stretch of text between special tokens is
    encoded by sentencepiece on its own, so each stretch gets sentencepiece's dummy-prefix space.
    With `legacy=False` one prefix space is added to the whole text only (transformers' newer mode).
    """
    vocab_files_names = {'vocab_file': 'tokenizer.model'}
    model_input_names = ['input_ids', 'attention_mask']
    _support_list = ['llama_7b', 'llama_13b', 'llama_65b', 'llama2_7b', 'llama2_13b', 'llama2_70b',
                     'llama_7b_lora', 'codellama_34b']

    # LLaMA-2 chat format: <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {answer} </s><s>[INST] ...
    default_chat_template = (
        "{% if messages and messages[0]['role'] == 'system' %}"
        "{% set system = messages[0]['content'] %}{% set turns = messages[1:] %}"
        "{% else %}{% set system = '' %}{% set turns = messages %}{% endif %}"
        "{% for message in turns %}"
        "{% if message['role'] == 'user' %}"
        "{{ bos_token }}[INST] {% if loop.first and system %}<<SYS>>\n{{ system }}\n<</SYS>>\n\n{% endif %}"
        "{{ message['content'] | trim }} [/INST]"
        "{% elif message['role'] == 'assistant' %} {{ message['content'] | trim }} {{ eos_token }}"
        "{% else %}{{ raise_exception('roles must be system (first), user or assistant') }}{% endif %}"
        "{% endfor %}")

    def __init__(self, vocab_file, unk_token='<unk>', bos_token='<s>', eos_token='</s>', pad_token='<unk>',
                 sp_model_kwargs=None, add_bos_token=True, add_eos_token=False, clean_up_tokenization_spaces=False,
                 legacy=True, **kwargs):
        self.vocab_file = vocab_file
        self.sp_model_kwargs = dict(sp_model_kwargs or {})
        self.add_bos_token = add_bos_token
        self.add_eos_token = add_eos_token
        self.legacy = legacy
        # transformers' add_prefix_space: decoding drops the space sentencepiece put before the first word
        self.add_prefix_space = kwargs.pop('add_prefix_space', True)
        self.sp_model = load_sentencepiece(vocab_file, self.sp_model_kwargs, type(self).__name__)
        kwargs.setdefault('spaces_between_special_tokens', False)
        super().__init__(vocab_file=vocab_file, unk_token=unk_token, bos_token=bos_token, eos_token=eos_token,
                         pad_token=pad_token, sp_model_kwargs=self.sp_model_kwargs, add_bos_token=add_bos_token,
                         add_eos_token=add_eos_token, clean_up_tokenization_spaces=clean_up_tokenization_spaces,
                         legacy=legacy, add_prefix_space=self.add_prefix_space, **kwargs)

    def tokenize(self, text, **kwargs):
        if self.legacy or not text:
            return super().tokenize(text, **kwargs)
        text = text.replace(SPIECE_UNDERLINE, ' ')
        if self.add_prefix_space:
            text = SPIECE_UNDERLINE + text
        tokens = super().tokenize(text, **kwargs)
        # "▁" followed by a special token: the prefix space belonged to nothing
        if len(tokens) > 1 and tokens[0] == SPIECE_UNDERLINE and tokens[1] in self.all_special_tokens:
            tokens = tokens[1:]
        return tokens

    def _tokenize(self, text):
        if self.legacy:
            return self.sp_model.encode(text, out_type=str)
        # Non-legacy: no dummy prefix per stretch. Encoding "<unk>" + text and dropping the pieces of
        # "<unk>" gives the pieces of `text` as if it were not at the start of the input.
        prefix = self.sp_model.encode(str(self.unk_token), out_type=str)
        tokens = self.sp_model.encode(str(self.unk_token) + text.replace(SPIECE_UNDERLINE, ' '), out_type=str)
        return tokens[len(prefix):]

    def _sp_decode(self, pieces):
        """sentencepiece decode; without legacy, a leading space is kept (no dummy prefix to undo)."""
        if self.legacy or not pieces:
            return self.sp_model.decode(pieces)
        prefix = self.sp_model.encode(str(self.unk_token), out_type=str)
        return self.sp_model.decode(prefix + list(pieces))[len(self.sp_model.decode(prefix)):]

    def _convert_token_to_id(self, token):
        return self.sp_model.piece_to_id(token)

    def _convert_id_to_token(self, index):
        return self.sp_model.id_to_piece(index)

    def convert_tokens_to_string(self, tokens):
        """Decode pieces with sentencepiece; special tokens are written as they are, as transformers does."""
        tokens = list(tokens)
        if tokens and tokens[0].startswith(SPIECE_UNDERLINE) and self.add_prefix_space:
            tokens[0] = tokens[0][1:]
        special_tokens = set(self.all_special_tokens)
        out_string = ''
        stretch = []
        prev_is_special = False
        for index, token in enumerate(tokens):
            if token in special_tokens:
                # legacy decoding puts a space before a special token that follows text
                if not prev_is_special and index != 0 and self.legacy:
                    out_string += ' '
                out_string += self._sp_decode(stretch) + token
                prev_is_special = True
                stretch = []
            else:
                if prev_is_special and index == 1 and self.add_prefix_space and not token.startswith(SPIECE_UNDERLINE):
                    out_string += ' '
                stretch.append(token)
                prev_is_special = False
        return out_string + self._sp_decode(stretch)
