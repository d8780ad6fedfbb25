"""ADGenDataLoader + KeyWordGenDataset (version 2, ChatGLM2; version 1, GLM-6B): the exact rows upstream's layouts
give, and errors."""
import json

import numpy as np
import pytest

from adgen_data import adgen_rows, train_chatglm_tokenizer, train_glm_tokenizer, write_adgen
from mindformers import ChatGLM2Tokenizer, ChatGLMTokenizer, KeyWordGenDataset
from mindformers.dataset.keyword_gen_dataset import (glm2_eval_row, glm2_train_row, glm_eval_row,
                                                     glm_position_ids_and_mask, glm_train_row)
from mindformers.tools.errors import DatasetError


@pytest.fixture(name='files', scope='module')
def fixture_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp('adgen')
    rows = adgen_rows(12, 0)
    return {'rows': rows, 'train': write_adgen(folder / 'train.json', rows), 'folder': folder,
            'vocab': train_glm_tokenizer(folder / 'tokenizer.model', adgen_rows(200, 0))}


def _config(files, phase='train', source=40, target=23, **changes):
    config = {'data_loader': {'type': 'ADGenDataLoader', 'dataset_dir': files['train'], 'shuffle': False,
                              'phase': phase, 'version': 2, 'origin_columns': ['content', 'summary']},
              'tokenizer': {'type': 'ChatGLM2Tokenizer', 'vocab_file': files['vocab']},
              'input_columns': ['input_ids', 'labels'], 'max_source_length': source, 'max_target_length': target,
              'ignore_pad_token_for_loss': True, 'batch_size': 4, 'drop_remainder': True}
    config.update(changes)
    return config


def test_train_row_is_prompt_answer_eos_with_labels_shifted_over_the_answer(files):
    tokenizer = ChatGLM2Tokenizer(files['vocab'])
    row = files['rows'][0]
    prompt = tokenizer.encode(tokenizer.build_prompt(row['content']))
    answer = tokenizer.encode(row['summary'], add_special_tokens=False)
    input_ids, labels = glm2_train_row(row['content'], row['summary'], tokenizer, 40, 23)
    length = len(prompt) + len(answer) + 1
    assert len(input_ids) == len(labels) == 64 and len(prompt) <= 40
    np.testing.assert_array_equal(input_ids[:length], prompt + answer + [2])
    assert (input_ids[length:] == 0).all()
    # labels[i] is input i + 1 from the last prompt token to eos; the rest of the prompt and padding are -100
    np.testing.assert_array_equal(labels[len(prompt) - 1:length - 1], input_ids[len(prompt):length])
    assert (labels[:len(prompt) - 1] == -100).all() and (labels[length - 1:] == -100).all()
    _, kept = glm2_train_row(row['content'], row['summary'], tokenizer, 40, 23, ignore_pad_token_for_loss=False)
    assert (kept[:len(prompt) - 1] == 0).all() and (kept[length - 1:] == 0).all()
    # upstream's rows: the target of the answer's first token ('▁') is pad as well
    _, upstream = glm2_train_row(row['content'], row['summary'], tokenizer, 40, 23, drop_first_answer_token=True)
    np.testing.assert_array_equal(upstream, [-100] * len(prompt) + list(labels[len(prompt):]))
    assert answer[0] == tokenizer.convert_tokens_to_ids('\u2581')


def test_long_prompt_and_answer_are_cut_to_their_lengths(files):
    tokenizer = ChatGLM2Tokenizer(files['vocab'])
    content, summary = '*'.join([files['rows'][0]['content']] * 4), files['rows'][0]['summary'] * 5
    input_ids, labels = glm2_train_row(content, summary, tokenizer, 20, 10)
    assert len(input_ids) == 31
    prompt = tokenizer.encode(tokenizer.build_prompt(content))[:20]
    answer = tokenizer.encode(summary, add_special_tokens=False)[:10]
    np.testing.assert_array_equal(input_ids, prompt + answer + [2])
    np.testing.assert_array_equal(labels, [-100] * 19 + answer + [2] + [-100])


def test_eval_row_is_the_padded_prompt_and_the_padded_answer(files):
    tokenizer = ChatGLM2Tokenizer(files['vocab'])
    row = files['rows'][1]
    input_ids, label = glm2_eval_row(row['content'], row['summary'], tokenizer, 48, 24)
    prompt = tokenizer.encode(tokenizer.build_prompt(row['content']))
    answer = tokenizer.encode(row['summary'])
    np.testing.assert_array_equal(input_ids, prompt + [0] * (48 - len(prompt)))
    np.testing.assert_array_equal(label, answer + [0] * (24 - len(answer)))
    assert tokenizer.decode(label.tolist()) == row['summary']
    # upstream cuts the prompt text to max_source_length - 1 characters before encoding it
    cut, _ = glm2_eval_row(row['content'], row['summary'], tokenizer, 40, 24)
    shorter = tokenizer.encode(tokenizer.build_prompt(row['content'])[:39])
    np.testing.assert_array_equal(cut, shorter + [0] * (40 - len(shorter)))


def test_dataset_from_config_batches_train_and_eval_rows(files):
    train = KeyWordGenDataset(_config(files))
    assert train.get_dataset_size() == 3 and train.record_length == 64
    input_ids, labels = next(train.create_tuple_iterator(output_numpy=True))
    assert input_ids.shape == labels.shape == (4, 64) and input_ids.dtype == np.int32
    tokenizer = ChatGLM2Tokenizer(files['vocab'])
    expected = glm2_train_row(files['rows'][2]['content'], files['rows'][2]['summary'], tokenizer, 40, 23)
    np.testing.assert_array_equal(input_ids[2], expected[0])
    np.testing.assert_array_equal(labels[2], expected[1])
    evaluation = KeyWordGenDataset(_config(files, phase='eval', target=24, drop_remainder=False))
    prompts, answers = next(evaluation.create_tuple_iterator(output_numpy=True))
    assert prompts.shape == (4, 40) and answers.shape == (4, 24)


def test_a_folder_gives_train_json_for_train(files):
    config = _config(files)
    config['data_loader']['dataset_dir'] = str(files['folder'])
    assert KeyWordGenDataset(config).get_dataset_size() == 3


@pytest.mark.parametrize('change, message', [
    ({'tokenizer': None}, "has no `tokenizer`"),
    ({'max_source_length': '40'}, "max_source_length must be an integer > 2, got '40'"),
    ({'input_columns': ['input_ids']}, "makes the columns \\['input_ids', 'labels'\\]; input_columns"),
    ({'input_columns': ['input_ids', 'labels', 'position_ids']}, "must include input_ids and labels and name no"),
])
def test_bad_dataset_settings_are_one_line(files, change, message):
    with pytest.raises(DatasetError, match=message):
        KeyWordGenDataset(_config(files, **change))


def test_unknown_version_and_bad_phase_are_refused(files):
    config = _config(files)
    config['data_loader']['version'] = 3
    with pytest.raises(DatasetError, match=r"version must be 1 \(GLM-6B\) or 2 \(ChatGLM2\), got 3"):
        KeyWordGenDataset(config)
    config['data_loader'].update(version=2, phase='test')
    with pytest.raises(DatasetError, match="phase must be 'train' or 'eval', got 'test'"):
        KeyWordGenDataset(config)


def test_bad_files_name_the_file_and_line(files, tmp_path):
    config = _config(files)
    config['data_loader']['dataset_dir'] = str(tmp_path / 'nope.json')
    with pytest.raises(DatasetError, match='dataset file not found: .*nope.json'):
        KeyWordGenDataset(config)
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({'content': 'a', 'summary': 'b'}) + '\n{broken\n', encoding='utf-8')
    config['data_loader']['dataset_dir'] = str(bad)
    with pytest.raises(DatasetError, match='bad.json line 2 is not JSON'):
        KeyWordGenDataset(config)
    bad.write_text(json.dumps({'content': 'a', 'title': 'b'}) + '\n', encoding='utf-8')
    with pytest.raises(DatasetError, match="line 1 has no 'content' and 'summary' keys"):
        KeyWordGenDataset(config)


# ---- version 1: GLM-6B -----------------------------------------------------------------------------------------
def test_glm_positions_and_mask_by_hand():
    gmask, mask, bos, eos, pad = 7, 6, 4, 5, 3
    position, hidden = glm_position_ids_and_mask([10, 11, gmask, bos, 20, eos, pad], bos, gmask, mask)
    np.testing.assert_array_equal(position, [[0, 1, 2, 2, 2, 2, 2], [0, 0, 0, 1, 2, 3, 4]])
    # every query sees the 3 context tokens; from <sop> on, keys up to itself
    expected = np.ones((7, 7), np.float32)
    for query in range(7):
        expected[query, :max(3, query + 1)] = 0
    np.testing.assert_array_equal(hidden, expected[None])
    # [MASK] instead of [gMASK]: the positions stay at the [MASK]
    position, _ = glm_position_ids_and_mask([10, mask, 11, bos, 20], bos, gmask, mask)
    np.testing.assert_array_equal(position, [[0, 1, 2, 1, 1], [0, 0, 0, 1, 2]])


@pytest.fixture(name='glm_vocab', scope='module')
def fixture_glm_vocab(files):
    return train_chatglm_tokenizer(files['folder'] / 'ice_text.model', adgen_rows(200, 0))


def test_glm_train_row_is_prompt_gmask_sop_answer_eop_with_shifted_labels(files, glm_vocab):
    tokenizer = ChatGLMTokenizer(glm_vocab)
    row = files['rows'][0]
    prompt = tokenizer.encode(row['content'], add_special_tokens=False)
    answer = tokenizer.encode(row['summary'], add_special_tokens=False)
    input_ids, labels, position_ids, attention_mask = glm_train_row(row['content'], row['summary'], tokenizer, 40, 23)
    gmask, sop, eop, pad = tokenizer.gmask_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id, 3
    ids = prompt + [gmask, sop] + answer + [eop]
    assert len(input_ids) == len(labels) == 64
    np.testing.assert_array_equal(input_ids, ids + [pad] * (64 - len(ids)))
    context = len(prompt) + 1
    np.testing.assert_array_equal(labels, [-100] * context + answer + [eop] + [-100] * (64 - len(ids) + 1))
    want_position, want_mask = glm_position_ids_and_mask(input_ids, sop, gmask, tokenizer.mask_token_id)
    assert position_ids.shape == (2, 64) and attention_mask.shape == (1, 64, 64)
    np.testing.assert_array_equal(position_ids, want_position)
    np.testing.assert_array_equal(attention_mask, want_mask)
    assert position_ids[0, context] == context - 1 and position_ids[1, context] == 1
    # cut: the prompt to max_source_length - 1 ids, the answer to max_target_length - 2
    long_ids, long_labels, _, _ = glm_train_row(row['content'] * 3, row['summary'] * 3, tokenizer, 10, 8)
    assert len(long_ids) == 19 and list(long_ids[9:11]) == [gmask, sop] and long_ids[17] == eop
    assert (long_labels[:10] == -100).all() and long_labels[16] == eop and long_labels[18] == -100


def test_glm_eval_row_and_the_dataset_from_config(files, glm_vocab):
    tokenizer = ChatGLMTokenizer(glm_vocab)
    row = files['rows'][1]
    prompt_ids, label = glm_eval_row(row['content'], row['summary'], tokenizer, 40, 30)
    want = tokenizer.encode(row['content'])
    np.testing.assert_array_equal(prompt_ids, want + [3] * (40 - len(want)))
    assert len(label) == 30 and tokenizer.decode(label.tolist()) == row['summary']
    config = _config(files, tokenizer={'type': 'ChatGLMTokenizer', 'vocab_file': glm_vocab},
                     input_columns=['input_ids', 'labels', 'position_ids', 'attention_mask'])
    config['data_loader']['version'] = 1
    train = KeyWordGenDataset(config)
    assert train.record_length == 64
    batch = next(train.create_tuple_iterator(output_numpy=True))
    assert [column.shape for column in batch] == [(4, 64), (4, 64), (4, 2, 64), (4, 1, 64, 64)]
    expected = glm_train_row(files['rows'][2]['content'], files['rows'][2]['summary'], tokenizer, 40, 23)
    for got, want in zip(batch, expected):
        np.testing.assert_array_equal(got[2], want)
    config['input_columns'] = ['input_ids', 'labels']     # the model then makes positions and masks itself
    assert [c.shape for c in next(KeyWordGenDataset(config).create_tuple_iterator(output_numpy=True))] == \
        [(4, 64), (4, 64)]
