"""ChatGLM2Tokenizer and GLMProcessor on a ChatGLM2-style sentencepiece model trained on ADGEN-like text."""
import pickle

import numpy as np
import pytest
import sentencepiece as spm

from adgen_data import adgen_rows, train_glm_tokenizer
from mindformers import AutoTokenizer, ChatGLM2Tokenizer, GLMProcessor
from mindformers.models.glm.glm_processor import process_response
from mindformers.tools.errors import ConfigError


@pytest.fixture(name='model_file', scope='module')
def fixture_model_file(tmp_path_factory):
    return train_glm_tokenizer(tmp_path_factory.mktemp('glm2_tok') / 'tokenizer.model', adgen_rows(200, 0))


@pytest.fixture(name='tokenizer')
def fixture_tokenizer(model_file):
    return ChatGLM2Tokenizer(model_file)


def test_commands_follow_the_sentencepiece_vocabulary_and_eos_pad_are_its_own(tokenizer, model_file):
    sp = spm.SentencePieceProcessor(model_file=model_file)
    pieces = sp.get_piece_size()
    assert tokenizer.vocab_size == len(tokenizer) == pieces + 5
    assert [tokenizer.get_command(c) for c in ('[MASK]', '[gMASK]', '[sMASK]', 'sop', 'eop')] == \
        list(range(pieces, pieces + 5))
    assert tokenizer.eos_token_id == sp.eos_id() == 2 and tokenizer.pad_token_id == sp.unk_id() == 0
    assert tokenizer.get_prefix_tokens() == [pieces + 1, pieces + 3]
    assert tokenizer.convert_tokens_to_ids(['[gMASK]', 'sop', '<sop>', '<eop>']) == \
        [pieces + 1, pieces + 3, pieces + 3, pieces + 4]
    assert tokenizer.convert_ids_to_tokens([pieces, pieces + 2]) == ['[MASK]', '[sMASK]']


def test_encode_puts_gmask_sop_first_and_a_pair_ends_with_eos(tokenizer, model_file):
    sp = spm.SentencePieceProcessor(model_file=model_file)
    text, answer = '类型#裙*颜色#红色', '这款红色裙，简约的设计。'
    prefix = tokenizer.get_prefix_tokens()
    assert tokenizer(text)['input_ids'] == prefix + sp.encode(text)
    assert tokenizer.encode(text, add_special_tokens=False) == sp.encode(text)
    assert tokenizer.encode(text, answer) == prefix + sp.encode(text) + sp.encode(answer) + [2]
    # special-token strings inside the text are cut by sentencepiece, as upstream
    assert tokenizer.tokenize('[gMASK]问') == sp.encode('[gMASK]问', out_type=str)


def test_decode_drops_commands_and_eos_pad_and_gives_the_text_back(tokenizer):
    prompt = tokenizer.build_prompt('类型#裤*风格#复古', [('类型#裙', '这款裙，简约的设计。')])
    assert prompt == '[Round 1]\n\n问：类型#裙\n\n答：这款裙，简约的设计。\n\n[Round 2]\n\n问：类型#裤*风格#复古\n\n答：'
    ids = tokenizer.encode(prompt) + [tokenizer.eos_token_id, 0, 0]
    assert tokenizer.decode(ids) == prompt
    assert tokenizer.decode([ids, ids[:2] + ids[5:]])[0] == prompt
    with pytest.raises(ConfigError, match='outside the vocabulary'):
        tokenizer.decode([tokenizer.vocab_size])


def test_padding_to_max_length_uses_pad_id_0_and_a_mask(tokenizer):
    batch = tokenizer(['类型#裙', '类型#裙*颜色#红色*风格#简约'], padding='max_length', max_length=24)
    assert [len(row) for row in batch['input_ids']] == [24, 24]
    first = batch['input_ids'][0]
    valid = sum(batch['attention_mask'][0])
    assert first[valid:] == [0] * (24 - valid) and first[:2] == tokenizer.get_prefix_tokens()


def test_save_and_load_back_through_auto_tokenizer_and_pickle(tokenizer, tmp_path):
    text = tokenizer.build_prompt('类型#外套*图案#印花')
    tokenizer.save_pretrained(str(tmp_path))
    loaded = AutoTokenizer.from_pretrained(str(tmp_path))
    assert type(loaded).__name__ == 'ChatGLM2Tokenizer' and loaded.encode(text) == tokenizer.encode(text)
    copied = pickle.loads(pickle.dumps(tokenizer))
    assert copied.encode(text) == tokenizer.encode(text)


def test_bad_files_and_names_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match='vocab_file not found'):
        ChatGLM2Tokenizer(str(tmp_path / 'missing.model'))
    broken = tmp_path / 'broken.model'
    broken.write_bytes(b'not a model')
    with pytest.raises(ConfigError, match='cannot read sentencepiece model'):
        ChatGLM2Tokenizer(str(broken))


def test_unknown_command_is_refused(tokenizer):
    with pytest.raises(ConfigError, match="'<mask>' is not a ChatGLM2Tokenizer command"):
        tokenizer.get_command('<mask>')


def test_glm_processor_pads_a_batch_of_one_to_max_length(tokenizer):
    processor = GLMProcessor(tokenizer, max_length=32)
    out = processor('类型#裙')['text'].asnumpy()
    ids = tokenizer.encode('类型#裙')
    assert out.shape == (1, 32)
    np.testing.assert_array_equal(out[0], ids + [0] * (32 - len(ids)))


def test_process_response_uses_full_width_punctuation_next_to_chinese():
    assert process_response('  你好,世界!ok, fine?[[训练时间]]  ') == '你好，世界！ok, fine?2023年'
