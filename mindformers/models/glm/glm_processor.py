"""GLMProcessor (the text processor of the GLM families' YAMLs), `process_response` (ChatGLM's answer clean-up) and
`glm_chat`, the chat turn of ChatGLM-6B and ChatGLM2."""
import re

from mindformers.models.base_processor import TextProcessor
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['GLMProcessor', 'process_response', 'glm_chat']


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class GLMProcessor(TextProcessor):
    """`processor(text)` -> {'text': input ids padded to max_length} with a GLM tokenizer (ChatGLM2Tokenizer, ...)."""
    _support_list = ['glm_6b', 'glm_6b_chat', 'glm_6b_lora', 'glm_6b_lora_chat', 'glm2_6b', 'glm2_6b_lora',
                     'glm2_6b_ptuning2']


_CJK = '\u4e00-\u9fff'
# ASCII punctuation next to a Chinese character becomes its full-width form
_FULL_WIDTH = ((',', '，'), ('!', '！'), (':', '：'), (';', '；'), (r'\?', '？'))


def process_response(response):
    """Strip the answer, fill the `[[训练时间]]` placeholder and use full-width punctuation beside Chinese text."""
    response = response.strip().replace('[[训练时间]]', '2023年')
    for ascii_mark, full_width in _FULL_WIDTH:
        response = re.sub(f'([{_CJK}]){ascii_mark}', rf'\g<1>{full_width}', response)
        response = re.sub(f'{ascii_mark}([{_CJK}])', rf'{full_width}\g<1>', response)
    return response


def glm_chat(model, tokenizer, query, history, max_length, **generate_kwargs):
    """One chat turn: `tokenizer.build_prompt(query, history)` (the family's prompt format), generated up to
    `max_length` tokens (default the model's seq_length), the new tokens decoded and cleaned by `process_response`.
    Returns (response, history + [(query, response)])."""
    history = list(history or [])
    prompt_ids = tokenizer.encode(tokenizer.build_prompt(query, history))
    outputs = model.generate([prompt_ids], max_length=max_length or int(model.config.seq_length),
                             eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                             **generate_kwargs)
    response = process_response(tokenizer.decode(outputs[0][len(prompt_ids):].tolist()))
    return response, history + [(query, response)]
