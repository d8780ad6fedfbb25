"""PanguAlphaTokenizer: jieba words joined by spaces, then sentencepiece; spaces and newlines as '▂' / '▃'."""
import os
import pickle

import jieba
import pytest
import sentencepiece as spm

from adgen_data import adgen_rows, train_pangu_tokenizer
from mindformers import AutoTokenizer, PanguAlphaTokenizer
from mindformers.tools.errors import ConfigError

SHARED_TEXT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'shared', 'data', 'text',
                           'mobydick.txt')
LINES = [r['summary'] for r in adgen_rows(200, 0)] + ['今天天气不错，我们去公园散步吧。', 'Call me Ishmael.\nSome years ago']


@pytest.fixture(name='model_file', scope='module')
def fixture_model_file(tmp_path_factory):
    return train_pangu_tokenizer(tmp_path_factory.mktemp('pangu') / 'vocab.model', LINES)


@pytest.fixture(name='tokenizer')
def fixture_tokenizer(model_file):
    return PanguAlphaTokenizer(model_file)


def test_ids_are_sentencepiece_over_the_jieba_words(tokenizer, model_file):
    sp = spm.SentencePieceProcessor(model_file=model_file)
    text = '今天天气不错，我们去公园散步吧。'
    words = list(jieba.cut(text, cut_all=False))
    assert len(words) > 3 and PanguAlphaTokenizer.segment(text) == ' '.join(words)
    assert tokenizer(text)['input_ids'] == sp.encode(' '.join(words))
    assert tokenizer.encode(text) == tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text))
    assert tokenizer.eos_token == '<eod>' and tokenizer.eos_token_id == 4 and tokenizer.pad_token_id == 3


def test_spaces_and_newlines_travel_as_their_pieces_and_decode_back(tokenizer):
    text = 'Call me Ishmael.\nSome  years ago'
    assert '\u2583' in tokenizer.tokenize(text) and '\u2582' in ''.join(tokenizer.tokenize(text))
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_round_trip_on_real_chinese_and_english_lines(tokenizer):
    lines = [r['summary'] for r in adgen_rows(30, 9)] + [r['content'] for r in adgen_rows(10, 8)]
    if os.path.isfile(SHARED_TEXT):
        with open(SHARED_TEXT, encoding='utf-8') as stream:
            lines += [line.rstrip('\n') for line in stream.readlines()[3000:3100] if line.strip()]
    for line in lines:
        assert tokenizer.decode(tokenizer.encode(line)) == line, line


def test_decode_can_drop_eod_and_padding(tokenizer):
    ids = tokenizer.encode('这款裙很好看。') + [tokenizer.eos_token_id, tokenizer.pad_token_id]
    assert tokenizer.decode(ids, skip_special_tokens=True) == '这款裙很好看。'
    assert tokenizer.decode(ids).startswith('这款裙很好看。<eod>')


def test_save_and_load_back_through_auto_tokenizer_and_pickle(tokenizer, tmp_path):
    text = '今天天气不错\n好'
    tokenizer.save_pretrained(str(tmp_path))
    assert os.path.isfile(tmp_path / 'vocab.model')
    loaded = AutoTokenizer.from_pretrained(str(tmp_path))
    assert type(loaded).__name__ == 'PanguAlphaTokenizer' and loaded.encode(text) == tokenizer.encode(text)
    assert pickle.loads(pickle.dumps(tokenizer)).encode(text) == tokenizer.encode(text)


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match='vocab_file not found'):
        PanguAlphaTokenizer(str(tmp_path / 'missing.model'))
