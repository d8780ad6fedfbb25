"""ChatGLMTokenizer (GLM-6B) on an ice_text-style sentencepiece model trained on ADGEN-like and English text."""
import os
import pickle

import pytest
import sentencepiece as spm

from adgen_data import adgen_rows, train_chatglm_tokenizer, train_glm_tokenizer
from mindformers import AutoTokenizer, ChatGLMTokenizer
from mindformers.tools.errors import ConfigError

SHARED_TEXT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'shared', 'data', 'text',
                           'mobydick.txt')
ENGLISH = ['Call me Ishmael. Some years ago -- never mind how long precisely -- having little or no money,',
           'and nothing particular to interest me on shore, I thought I would sail about a little.']


@pytest.fixture(name='model_file', scope='module')
def fixture_model_file(tmp_path_factory):
    return train_chatglm_tokenizer(tmp_path_factory.mktemp('ice') / 'ice_text.model', adgen_rows(200, 0),
                                   extra_lines=ENGLISH)


@pytest.fixture(name='tokenizer')
def fixture_tokenizer(model_file):
    return ChatGLMTokenizer(model_file)


def test_specials_are_pieces_of_the_model_and_follow_upstream_names(tokenizer, model_file):
    sp = spm.SentencePieceProcessor(model_file=model_file)
    assert tokenizer.vocab_size == len(tokenizer) == sp.get_piece_size()
    assert tokenizer.bos_token == '<sop>' and tokenizer.bos_token_id == sp.piece_to_id('<sop>')
    assert tokenizer.eos_token == '<eop>' and tokenizer.eos_token_id == sp.piece_to_id('<eop>')
    assert tokenizer.gmask_token_id == sp.piece_to_id('[gMASK]')
    assert tokenizer.mask_token_id == sp.piece_to_id('[MASK]')
    assert tokenizer.pad_token_id == 3 and tokenizer.padding_side == 'left'


def test_encode_appends_gmask_sop_and_a_pair_ends_with_eop(tokenizer, model_file):
    sp = spm.SentencePieceProcessor(model_file=model_file)
    gmask, sop, eop = tokenizer.gmask_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id
    # upstream's docstring with the real ice_text.model: [5, 74874, 130001, 130004]
    assert tokenizer('你好')['input_ids'] == sp.encode('你好') + [gmask, sop]
    assert tokenizer.encode('类型#裙', '这款裙') == sp.encode('类型#裙') + [gmask, sop] + sp.encode('这款裙') + [eop]
    assert tokenizer.encode('类型#裙', add_special_tokens=False) == sp.encode('类型#裙')


def test_whitespace_becomes_glm_pieces_and_decodes_back(tokenizer):
    text = '类型#裙\n颜色#红色\t风格    简约  end'
    pieces = tokenizer.tokenize(text)
    assert '<n>' in pieces and '<|tab|>' in pieces and '<|blank_4|>' in pieces and '<|blank_2|>' in pieces
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_round_trip_on_real_chinese_and_english_lines(tokenizer):
    lines = [r['summary'] for r in adgen_rows(30, 7)] + [r['content'] for r in adgen_rows(10, 8)] + ENGLISH
    if os.path.isfile(SHARED_TEXT):
        with open(SHARED_TEXT, encoding='utf-8') as stream:
            lines += [line.rstrip('\n') for line in stream.readlines()[2000:2100] if line.strip()]
    for line in lines:
        assert tokenizer.decode(tokenizer.encode(line)) == line, line


def test_decode_drops_specials_and_padding(tokenizer):
    ids = [tokenizer.pad_token_id] * 2 + tokenizer.encode('类型#裙', '这款裙') + [tokenizer.mask_token_id]
    assert tokenizer.decode(ids) == '类型#裙 这款裙'    # the answer's dummy-prefix '▁' is a space
    with pytest.raises(ConfigError, match='outside the vocabulary'):
        tokenizer.decode([tokenizer.vocab_size])


def test_image_tokens_come_before_the_text_ids(model_file, tokenizer):
    shifted = ChatGLMTokenizer(model_file, num_image_tokens=100)
    assert shifted.vocab_size == tokenizer.vocab_size + 100
    assert shifted.encode('类型#裙') == [i + 100 for i in tokenizer.encode('类型#裙')]
    assert shifted.convert_tokens_to_ids('<image_7>') == 7 and shifted.convert_ids_to_tokens(7) == '<image_7>'
    assert shifted.decode([7] + shifted.encode('这款裙')) == '这款裙'


def test_chat_prompt_is_the_query_alone_or_numbered_rounds(tokenizer):
    assert tokenizer.build_prompt('你好') == '你好'
    assert tokenizer.build_prompt('类型#裤', [('类型#裙', '这款裙。')]) == \
        '[Round 0]\n问：类型#裙\n答：这款裙。\n[Round 1]\n问：类型#裤\n答：'


def test_save_and_load_back_through_auto_tokenizer_and_pickle(tokenizer, tmp_path):
    text = '类型#外套*图案#印花\n  好看'
    tokenizer.save_pretrained(str(tmp_path))
    assert os.path.isfile(tmp_path / 'ice_text.model')
    loaded = AutoTokenizer.from_pretrained(str(tmp_path))
    assert type(loaded).__name__ == 'ChatGLMTokenizer' and loaded.encode(text) == tokenizer.encode(text)
    assert pickle.loads(pickle.dumps(tokenizer)).encode(text) == tokenizer.encode(text)


def test_a_model_without_the_glm_pieces_is_refused(tmp_path):
    plain = train_glm_tokenizer(tmp_path / 'plain.model', adgen_rows(50, 0))
    with pytest.raises(ConfigError, match=r"has no piece for <sop>, <eop>, \[MASK\], \[gMASK\], <pad>"):
        ChatGLMTokenizer(plain)
    with pytest.raises(ConfigError, match='vocab_file not found'):
        ChatGLMTokenizer(str(tmp_path / 'missing.model'))
