"""ChatGLM2ForConditionalGeneration.chat: the ChatGLM2 round prompt, greedy ids equal to generate() on it, the
answer cleaned by process_response, and the history extended by the turn."""
import numpy as np
import pytest

from adgen_data import adgen_rows, train_glm_tokenizer
from mindformers import ChatGLM2Config, ChatGLM2ForConditionalGeneration, ChatGLM2Tokenizer
from mindformers.models.glm.glm_processor import process_response

pytestmark = pytest.mark.usefixtures('pynative')


@pytest.fixture(name='tokenizer', scope='module')
def fixture_tokenizer(tmp_path_factory):
    return ChatGLM2Tokenizer(train_glm_tokenizer(tmp_path_factory.mktemp('chat') / 'tokenizer.model',
                                                 adgen_rows(200, 0)))


def test_chat_is_greedy_generate_on_the_round_prompt_and_extends_the_history(tokenizer):
    config = ChatGLM2Config(num_layers=1, padded_vocab_size=tokenizer.vocab_size, hidden_size=32, ffn_hidden_size=48,
                            kv_channels=8, num_attention_heads=4, multi_query_group_num=2, seq_length=64,
                            param_init_type='float32', compute_dtype='float32', layernorm_compute_type='float32')
    model = ChatGLM2ForConditionalGeneration(config)
    history = [('类型#裙', '这款裙，简约的设计。')]
    response, new_history = model.chat(tokenizer, '类型#裤*颜色#白色', history=history, do_sample=False, max_length=60)
    prompt = tokenizer.encode('[Round 1]\n\n问：类型#裙\n\n答：这款裙，简约的设计。\n\n[Round 2]\n\n问：类型#裤*颜色#白色\n\n答：')
    output = model.generate([prompt], max_length=60, do_sample=False, eos_token_id=2, pad_token_id=0)[0]
    assert len(output) > len(prompt)
    np.testing.assert_array_equal(output[:len(prompt)], prompt)
    assert response == process_response(tokenizer.decode(output[len(prompt):].tolist()))
    assert new_history == history + [('类型#裤*颜色#白色', response)] and len(history) == 1


@pytest.mark.parametrize('overrides, message', [
    ({'multi_query_group_num': 3}, 'multi_query_group_num 3 must divide num_attention_heads 4'),
    ({'kv_channels': 6, 'hidden_size': 24}, 'kv_channels 6 must be a multiple of 4'),
    ({'pre_seq_len': -1}, 'pre_seq_len must be null or a positive integer'),
])
def test_config_refuses_layouts_it_cannot_build_in_one_line(overrides, message):
    from mindformers.tools.errors import ConfigError  # pylint: disable=import-outside-toplevel
    sizes = dict(num_layers=1, padded_vocab_size=64, hidden_size=32, ffn_hidden_size=48, kv_channels=8,
                 num_attention_heads=4, multi_query_group_num=2, seq_length=16)
    sizes.update(overrides)
    with pytest.raises(ConfigError, match=message):
        ChatGLM2Config(**sizes)
