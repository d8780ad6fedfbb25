"""ChatGLM3Tokenizer on a ChatGLM-style sentencepiece model trained on ADGEN-like text: the nine commands after the
pieces, the [gMASK] sop prefix, the chat layout of build_chat_input (history, system tools, roles), batch inputs
padded with position ids, and decoding that writes role tokens as text and drops bos/eos/pad."""
import json

import numpy as np
import pytest

from adgen_data import adgen_rows, train_glm_tokenizer
from mindformers import ChatGLM3Tokenizer
from mindformers.tools.errors import ConfigError


@pytest.fixture(name='tokenizer', scope='module')
def fixture_tokenizer(tmp_path_factory):
    return ChatGLM3Tokenizer(train_glm_tokenizer(tmp_path_factory.mktemp('glm3_tok') / 'tokenizer.model',
                                                 adgen_rows(200, 0)))


def test_commands_prefix_and_chat_layout(tokenizer):
    pieces = tokenizer.sp_model.get_piece_size()
    names = ['[MASK]', '[gMASK]', '[sMASK]', 'sop', 'eop', '<|system|>', '<|user|>', '<|assistant|>',
             '<|observation|>']
    assert [tokenizer.get_command(n) for n in names] == list(range(pieces, pieces + 9))
    assert tokenizer.vocab_size == pieces + 9
    sp = tokenizer.sp_model
    assert tokenizer('裙子 颜色')['input_ids'] == [pieces + 1, pieces + 3] + sp.encode('裙子 颜色')
    history = [{'role': 'system', 'content': '你是助手', 'tools': [{'name': 'search'}]},
               {'role': 'user', 'content': '你好'}, {'role': 'assistant', 'metadata': 'm', 'content': '好的'}]
    ids = tokenizer.build_chat_input('裙子', history=history)['input_ids'][0].tolist()
    system = '你是助手' + '\n' + json.dumps([{'name': 'search'}], indent=4, ensure_ascii=False)
    expected = ([pieces + 1, pieces + 3] + [pieces + 5] + sp.encode('\n') + sp.encode(system) +
                [pieces + 6] + sp.encode('\n') + sp.encode('你好') + [pieces + 7] + sp.encode('m\n') +
                sp.encode('好的') + [pieces + 6] + sp.encode('\n') + sp.encode('裙子') + [pieces + 7])
    assert ids == expected


def test_batch_input_pads_and_decode_writes_roles(tokenizer):
    batch = tokenizer.build_batch_input(['裙子', '上衣 颜色 蓝色'])
    lengths = batch['attention_mask'].sum(1)
    assert batch['input_ids'].shape[1] == lengths.max() and lengths[0] < lengths[1]
    short = int(lengths[0])
    assert (batch['input_ids'][0, short:] == tokenizer.pad_token_id).all()
    padding = [0] * (len(batch['input_ids'][0]) - short)
    np.testing.assert_array_equal(batch['position_ids'][0], list(range(short)) + padding)
    ids = tokenizer.build_chat_input('裙子')['input_ids'][0].tolist()
    assert tokenizer.decode(ids) == '[gMASK]sop<|user|>\n 裙子<|assistant|>'   # the query's own dummy-prefix space
    assert tokenizer.decode(ids + [tokenizer.eos_token_id]) == tokenizer.decode(ids)
    with pytest.raises(ConfigError, match=r"^ChatGLM3Tokenizer: role must be one of"):
        tokenizer.build_chat_input('x', role='robot')
