"""Upstream's generic data loaders: SFTDataLoader (alpaca json, multi-round chat jsonl, csv with the default map)
with the real GPT-2 tokenizer, TrainingDataLoader's aligned chunks and cyclic re-reading, MultiSourceDataLoader's
row counts and orders, MultiImgCapDataLoader's rows and eval indices; bad input in one line."""
import json
import os

import numpy as np
import pytest
from PIL import Image
from mindspore.dataset import GeneratorDataset

from mindformers.dataset.dataloader.multi_image_cap_dataloader import MultiImgCapDataLoader, MultiImgCapDataSet
from mindformers.dataset.dataloader.multi_source_dataloader import MultiSourceDataLoader
from mindformers.dataset.dataloader.sft_dataloader import SFTDataLoader
from mindformers.dataset.dataloader.training_dataloader import TrainingDataLoader
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

SHARED_GPT2 = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))), 'shared', 'data', 'tokenizers', 'gpt2')
EOS = 50256


@pytest.fixture(name='tokenizer', scope='module')
def fixture_tokenizer():
    if not os.path.isdir(SHARED_GPT2):
        pytest.skip(f"the real GPT-2 vocabulary (../shared/data/tokenizers/gpt2) is not at {SHARED_GPT2}")
    from mindformers import GPT2Tokenizer  # pylint: disable=import-outside-toplevel
    return GPT2Tokenizer(vocab_file=os.path.join(SHARED_GPT2, 'vocab.json'),
                         merges_file=os.path.join(SHARED_GPT2, 'merges.txt'))


def _rows(dataset, *columns):
    return [tuple(row[c].tolist() for c in columns) for row in dataset.create_dict_iterator(output_numpy=True)]


def test_sft_alpaca_rows_are_prompt_and_answer_with_the_prompts_start_cut(tmp_path, tokenizer):
    data = [{'instruction': 'Name a colour.', 'input': '', 'output': 'Blue.'},
            {'instruction': 'Add the numbers ' + ' '.join(str(i) for i in range(40)), 'input': 'quickly',
             'output': 'A lot.'}]
    (tmp_path / 'alpaca.json').write_text(json.dumps(data))
    loader = SFTDataLoader(str(tmp_path / 'alpaca.json'), ['input_ids', 'attention_mask'], tokenizer,
                           dataset_name='alpaca', max_length=64)
    rows = _rows(loader, 'input_ids', 'attention_mask')
    prompt = ("Below is an instruction that describes a task. Write a response that appropriately completes the "
              "request.\n\n### Instruction:\nName a colour.\n\n### Response:\n")
    first = [EOS] + tokenizer.encode(prompt, add_special_tokens=False) + [EOS, EOS] + \
        tokenizer.encode('Blue.', add_special_tokens=False) + [EOS]
    assert rows[0][0] == first + [EOS] * (64 - len(first)) and rows[0][1] == [1] * len(first) + [0] * (64 - len(first))
    answer = tokenizer.encode('A lot.', add_special_tokens=False)
    assert len(rows[1][0]) == 64 and rows[1][0][-len(answer) - 1:] == answer + [EOS]      # the start was cut
    assert rows[1][0][-len(answer) - 5:-len(answer) - 3] == tokenizer.encode(':\n', add_special_tokens=False)
    with pytest.raises(DatasetError, match=r"^SFTDataLoader: dataset_name 'alpacca' has no built-in map function"):
        SFTDataLoader(str(tmp_path / 'alpaca.json'), ['input_ids'], tokenizer, dataset_name='alpacca')


def test_sft_multi_round_chat_masks_the_users_turns(tmp_path, tokenizer):
    row = {'conversations': [{'from': 'human', 'value': 'Hi there'}, {'from': 'gpt', 'value': 'Hello!'},
                             {'from': 'human', 'value': 'Bye'}, {'from': 'gpt', 'value': 'See you.'}]}
    (tmp_path / 'chat.jsonl').write_text(json.dumps(row) + '\n' + json.dumps(row) + '\n')
    loader = SFTDataLoader(str(tmp_path / 'chat.jsonl'), ['input_ids', 'labels'], tokenizer,
                           dataset_name='multi-round-chat', max_length=24)
    input_ids, labels = _rows(loader, 'input_ids', 'labels')[0]
    encode = [tokenizer.encode(m['value'], add_special_tokens=False) for m in row['conversations']]
    ids = encode[0] + encode[1] + encode[2] + encode[3] + [EOS]
    expected_labels = [-100] * len(encode[0]) + encode[1] + [-100] * len(encode[2]) + encode[3] + [EOS]
    assert input_ids == ids + [EOS] * (24 - len(ids))
    assert labels == expected_labels + [-100] * (24 - len(ids))


def test_sft_csv_default_map_and_bad_files(tmp_path, tokenizer):
    (tmp_path / 'pairs.csv').write_text('question,answer\nWhat is 2+2?,4\n')
    (input_ids,), = _rows(SFTDataLoader(str(tmp_path / 'pairs.csv'), ['input_ids'], tokenizer, max_length=16),
                          'input_ids')
    body = [EOS] + tokenizer.encode('What is 2+2?', add_special_tokens=False) + [EOS, EOS] + \
        tokenizer.encode('4', add_special_tokens=False) + [EOS]
    assert input_ids == body + [EOS] * (16 - len(body))
    (tmp_path / 'data.xml').write_text('<a/>')
    with pytest.raises(DatasetError, match=r"the format can only be json, jsonl, csv, tsv or parquet, got 'xml'"):
        SFTDataLoader(str(tmp_path / 'data.xml'), ['input_ids'], tokenizer)
    with pytest.raises(DatasetError, match=r"^dataset file .*missing.json does not exist"):
        SFTDataLoader(str(tmp_path / 'missing.json'), ['input_ids'], tokenizer)


def test_training_loader_cuts_the_concatenated_ids_and_rereads_the_files(tmp_path, tokenizer):
    lines = ['The quick brown fox jumps over the lazy dog.', 'A second line of text here.', 'And a third one.']
    (tmp_path / 'text.jsonl').write_text('\n'.join(json.dumps({'text': line}) for line in lines) + '\n')
    loader = TrainingDataLoader(str(tmp_path / 'text.jsonl'), ['input_ids', 'attention_mask'], tokenizer,
                                max_length=8, text_col='text', file_format='jsonl', samples_num=5)
    ids = sum((tokenizer.encode(line, add_special_tokens=False) for line in lines), [])
    chunks = [ids[i:i + 8] for i in range(0, len(ids) - 8, 8)]          # only chunks with more ids after them
    rows = _rows(loader, 'input_ids', 'attention_mask')
    assert len(rows) == 5
    for index, (input_ids, mask) in enumerate(rows):
        chunk = chunks[index % len(chunks)]
        assert input_ids == [EOS] + chunk[2:] + [EOS] and mask == [1] * 8       # the chunk's start makes room


class _Numbers:
    """A test loader: rows `start`, `start + 1`, ... (`count` of them)."""

    def __new__(cls, start=0, count=10, column_names=None, shuffle=False, **kwargs):
        del kwargs
        return GeneratorDataset([(np.array(start + i, np.int32),) for i in range(count)], column_names or ['x'],
                                shuffle=shuffle)


def test_multi_source_loader_takes_its_counts_in_the_asked_order():
    MindFormerRegister.register_cls(_Numbers, MindFormerModuleType.DATASET_LOADER, alias='TestNumbers')
    sources = [{'type': 'TestNumbers', 'start': 0, 'count': 10}, {'type': 'TestNumbers', 'start': 100, 'count': 5}]
    sequential = MultiSourceDataLoader(sources, {'column_names': ['x']}, nums_per_dataset=[3, 2], shuffle=False)
    assert [row[0] for row in _rows(sequential, 'x')] == [0, 1, 2, 100, 101]
    mixed = MultiSourceDataLoader(sources, {'column_names': ['x']}, dataset_ratios=[0.6, 0.4], samples_count=10,
                                  shuffle='files', shuffle_buffer_size=4)
    values = [row[0] for row in _rows(mixed, 'x')]
    assert sorted(values) == [0, 1, 2, 3, 4, 5, 100, 101, 102, 103]
    assert [v for v in values if v < 100] == [0, 1, 2, 3, 4, 5]                 # each source in its own order
    assert {v >= 100 for v in values[:4]} == {True, False}      # every buffer of 4 draws from both sources
    capped = MultiSourceDataLoader(sources, {'column_names': ['x']}, nums_per_dataset=[3, 50], shuffle=False)
    assert len(_rows(capped, 'x')) == 8
    with pytest.raises(DatasetError, match=r"^MultiSourceDataLoader: dataset_ratios must sum to 1, got 0.9"):
        MultiSourceDataLoader(sources, {'column_names': ['x']}, dataset_ratios=[0.5, 0.4], samples_count=10)
    with pytest.raises(DatasetError, match=r"^MultiSourceDataLoader: shuffle must be True, False, 'global'"):
        MultiSourceDataLoader(sources, {'column_names': ['x']}, shuffle='random')


def test_multi_image_caption_loader_reads_every_annotation_file(tmp_path):
    for folder, colour in (('a', 40), ('b', 200)):
        (tmp_path / folder).mkdir()
        Image.fromarray(np.full((6, 8, 3), colour, np.uint8)).save(tmp_path / folder / 'x.png')
    (tmp_path / 'a.json').write_text(json.dumps([{'image': 'x.png', 'caption': 'dark'}]))
    (tmp_path / 'b.json').write_text(json.dumps([{'image': 'x.png', 'caption': ['light', 'bright']}]))
    loader = MultiImgCapDataLoader(str(tmp_path), ['a.json', 'b.json'], ['a', 'b'], shuffle=False)
    rows = list(loader.create_tuple_iterator(output_numpy=True))
    assert [int(image[0, 0, 0]) for image, _ in rows] == [40, 200] and rows[0][0].shape == (6, 8, 3)
    assert str(rows[0][1]) == 'dark'
    dataset = MultiImgCapDataSet([str(tmp_path / 'a'), str(tmp_path / 'b')],
                                 [str(tmp_path / 'a.json'), str(tmp_path / 'b.json')], 'eval', repeat_images=True)
    assert dataset.img2txt == {0: [0], 1: [1, 2]} and dataset.txt2img == {0: 0, 1: 1, 2: 1} and len(dataset) == 3
    with pytest.raises(DatasetError, match=r"^MultiImgCapDataLoader: 1 image_dirs for 2 annotation_files"):
        MultiImgCapDataLoader(str(tmp_path), ['a.json', 'b.json'], ['a'])
