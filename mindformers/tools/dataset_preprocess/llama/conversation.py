"""Chat templates that render a conversation's rounds into one prompt string (FastChat's vicuna_v1.1)."""
import copy
import dataclasses
from enum import Enum, auto
from typing import List, Optional, Tuple

from mindformers.tools.errors import ConfigError

__all__ = ['SeparatorStyle', 'Conversation', 'conv_templates', 'get_conv_template', 'get_default_conv_template']


class SeparatorStyle(Enum):
    """How messages are joined: ROLE + ': ' + message, followed by `sep` (SINGLE) or by `sep` and `sep2`
    in turn (TWO: `sep` after the user's message, `sep2` after the assistant's)."""
    ADD_COLON_SINGLE = auto()
    ADD_COLON_TWO = auto()


@dataclasses.dataclass
class Conversation:
    """A system prompt, two roles and the messages so far; `get_prompt()` renders them."""
    name: str
    system: str
    roles: Tuple[str, str]
    messages: List[list] = dataclasses.field(default_factory=list)
    offset: int = 0
    sep_style: SeparatorStyle = SeparatorStyle.ADD_COLON_TWO
    sep: str = ' '
    sep2: Optional[str] = None

    def get_prompt(self):
        """system, sep, then each 'ROLE: message' + separator; a None message renders as 'ROLE:' (to be answered)."""
        if self.sep_style == SeparatorStyle.ADD_COLON_SINGLE:
            separators = (self.sep, self.sep)
        elif self.sep_style == SeparatorStyle.ADD_COLON_TWO:
            separators = (self.sep, self.sep2)
        else:
            raise ConfigError(f"conversation template '{self.name}': unknown separator style {self.sep_style}")
        prompt = self.system + separators[0]
        for index, (role, message) in enumerate(self.messages):
            if message:
                prompt += f"{role}: {message}{separators[index % 2]}"
            else:
                prompt += f"{role}:"
        return prompt

    def append_message(self, role, message):
        self.messages.append([role, message])

    def copy(self):
        return copy.deepcopy(self)


conv_vicuna_v1_1 = Conversation(
    name='vicuna_v1.1',
    system=("A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
            "detailed, and polite answers to the user's questions."),
    roles=('USER', 'ASSISTANT'),
    messages=[],
    offset=0,
    sep_style=SeparatorStyle.ADD_COLON_TWO,
    sep=' ',
    sep2='</s>',
)

conv_templates = {'vicuna_v1.1': conv_vicuna_v1_1}


def get_conv_template(name):
    """A fresh copy of the named template."""
    if name not in conv_templates:
        raise ConfigError(f"unknown conversation template '{name}'; known: {', '.join(sorted(conv_templates))}")
    return conv_templates[name].copy()


def get_default_conv_template(model_name='vicuna'):
    """The template the LLaMA tools use for every model name: vicuna_v1.1."""
    del model_name  # one template serves every LLaMA-family model here
    return get_conv_template('vicuna_v1.1')
