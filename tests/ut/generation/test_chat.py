"""Chat templates and model.chat()."""
import os
import sys

import pytest
import mindspore as ms

from mindformers import LlamaConfig, LlamaForCausalLM, LlamaTokenizer
from mindformers.tools.errors import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, 'scripts', 'quickstart'))
from train_tokenizer import train_tokenizer  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope='module')
def tokenizer(tmp_path_factory):
    folder = tmp_path_factory.mktemp('chat_tok')
    words = "hello there how are you today fine thanks what is the weather sunny rain cold warm".split()
    (folder / 'c.txt').write_text('\n'.join(' '.join(words[(i + j) % len(words)] for j in range(8))
                                            for i in range(300)) + '\n')
    return LlamaTokenizer(train_tokenizer(str(folder / 'c.txt'), str(folder / 'tok'), vocab_size=300))


def test_llama2_chat_template_text(tokenizer):
    messages = [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'hello'},
                {'role': 'assistant', 'content': 'hello there'}, {'role': 'user', 'content': 'how are you'}]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    assert text == ("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nhello [/INST] hello there </s>"
                    "<s>[INST] how are you [/INST]")
    ids = tokenizer.apply_chat_template(messages)
    assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 2
    assert tokenizer.eos_token_id in ids
    with pytest.raises(ConfigError, match='roles must be'):
        tokenizer.apply_chat_template([{'role': 'robot', 'content': 'x'}])


def test_chat_returns_response_and_extends_history(tokenizer):
    ms.set_context(mode=ms.GRAPH_MODE, device_target='CPU')
    ms.set_seed(0)
    model = LlamaForCausalLM(LlamaConfig(seq_length=64, hidden_size=32, num_layers=1, num_heads=2, vocab_size=300,
                                         multiple_of=16, compute_dtype='float32', param_init_type='float32'))
    response, history = model.chat(tokenizer, 'hello', max_new_tokens=5, do_sample=False)
    assert isinstance(response, str) and history == [('hello', response)]
    prompt = tokenizer.apply_chat_template([{'role': 'user', 'content': 'hello'}])
    greedy = model.generate([prompt], max_new_tokens=5, do_sample=False)[0]
    assert response == tokenizer.decode(greedy[len(prompt):].tolist(), skip_special_tokens=True).strip()
    _, history = model.chat(tokenizer, 'how are you', history=history, max_new_tokens=3, do_sample=False)
    assert [turn[0] for turn in history] == ['hello', 'how are you']
