"""ChatGLM3Tokenizer: ChatGLM2's tokenizer with ChatGLM3's role tokens and chat layout."""
import json

import numpy as np

from mindformers.models.base_tokenizer import BatchEncoding
from mindformers.models.glm2.glm2_tokenizer import ChatGLM2Tokenizer
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['ChatGLM3Tokenizer']

ROLES = ('system', 'user', 'assistant', 'observation')


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class ChatGLM3Tokenizer(ChatGLM2Tokenizer):
    """ChatGLM3 tokenizer over its sentencepiece model (`tokenizer.model`), as upstream's.

    - Nine commands follow the sentencepiece pieces: `[MASK] [gMASK] [sMASK] sop eop <|system|> <|user|>
      <|assistant|> <|observation|>` (64789 .. 64797 for ChatGLM3-6B).
    - Encoding puts `[gMASK] sop` first (a pair: `[gMASK] sop A B <eos>`), as ChatGLM2.
    - Decoding drops the bos/eos/pad ids and writes the commands and role tokens as their text.
    - `build_chat_input(query, history, role)`: `[gMASK] sop` then, per history message,
      `<|role|> metadata\\n content`, then `<|user|> \\n query <|assistant|>`; a system message's `tools` are
      appended to it as JSON. Returns numpy `input_ids`, `attention_mask`, `position_ids` of one row.
    """
    commands = ('[MASK]', '[gMASK]', '[sMASK]', 'sop', 'eop') + tuple(f'<|{role}|>' for role in ROLES)
    model_input_names = ['input_ids', 'attention_mask', 'position_ids']
    _support_list = ['glm3_6b']

    def _decode(self, token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=None,
                spaces_between_special_tokens=None):
        """Ids -> text: runs of ordinary ids through sentencepiece, commands as their text, bos/eos/pad left out."""
        dropped = {self.sp_model.bos_id(), self.sp_model.eos_id(), self.sp_model.unk_id()}
        pieces, run = [], []
        for index in token_ids:
            if not 0 <= index < self.vocab_size:
                raise ConfigError(f"token id {index} is outside the vocabulary of ChatGLM3Tokenizer "
                                  f"(0..{self.vocab_size - 1}); does the model's vocab_size match the tokenizer?")
            if index in self._command_names:
                if run:
                    pieces.append(self.sp_model.decode(run))
                    run = []
                pieces.append(self._command_names[index])
            elif index not in dropped:
                run.append(index)
        if run:
            pieces.append(self.sp_model.decode(run))
        text = ''.join(pieces)
        return self.clean_up_tokenization(text) if clean_up_tokenization_spaces else text

    def build_single_message(self, role, metadata, message):
        """`<|role|>` + the ids of `metadata\\n` + the ids of the message."""
        if role not in ROLES:
            raise ConfigError(f"ChatGLM3Tokenizer: role must be one of {list(ROLES)}, got {role!r}")
        return ([self.get_command(f'<|{role}|>')] + self.sp_model.encode(f"{metadata}\n") +
                self.sp_model.encode(message))

    def _chat_ids(self, query, history, role):
        ids = []
        for item in history or []:
            content = item['content']
            if item['role'] == 'system' and 'tools' in item:
                content = content + '\n' + json.dumps(item['tools'], indent=4, ensure_ascii=False)
            ids += self.build_single_message(item['role'], item.get('metadata', ''), content)
        ids += self.build_single_message(role, '', query)
        ids.append(self.get_command('<|assistant|>'))
        return self.get_prefix_tokens() + ids

    def build_chat_input(self, query, history=None, role='user'):
        return self.build_batch_input([query], [history or []], role)

    def build_batch_input(self, queries, histories=None, roles='user'):
        """One chat input per query (right-padded with pad id 0 to the longest): numpy input_ids, attention_mask
        and position_ids (0 .. n-1, 0 on padding)."""
        if isinstance(queries, str):
            queries = [queries]
        if isinstance(roles, str):
            roles = [roles] * len(queries)
        if histories is None:
            histories = [[] for _ in queries]
        elif histories and isinstance(histories[0], dict):
            histories = [histories]
        if not len(queries) == len(histories) == len(roles):
            raise ConfigError(f"ChatGLM3Tokenizer: {len(queries)} queries, {len(histories)} histories and "
                              f"{len(roles)} roles; give one of each per query")
        rows = [self._chat_ids(q, h, r) for q, h, r in zip(queries, histories, roles)]
        length = max(len(row) for row in rows)
        pad = self.pad_token_id
        return BatchEncoding({
            'input_ids': np.array([row + [pad] * (length - len(row)) for row in rows], np.int64),
            'attention_mask': np.array([[1] * len(row) + [0] * (length - len(row)) for row in rows], np.int64),
            'position_ids': np.array([list(range(len(row))) + [0] * (length - len(row)) for row in rows], np.int64)})
