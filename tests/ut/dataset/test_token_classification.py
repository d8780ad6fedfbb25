"""Token classification pieces: CLUENER records -> BIOS label ids (and their errors), one token per character,
labels aligned after [CLS], the dataset's column order, the MindRecord tool (same rows as the loader), EntityScore
span counting, and the pipeline's entity groups and character offsets."""
import json

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn, ops

from mindformers import BertTokenizer, pipeline
from mindformers.core.metric import EntityScore
from mindformers.core.metric.token_classification_metrics import bios_entities
from mindformers.dataset import CLUENERDataLoader, LabelPadding, TokenClassificationDataset, TokenizeWithLabel
from mindformers.dataset.dataloader.cluener_dataloader import cluener_label_ids, read_cluener
from mindformers.dataset.labels import cluener_labels
from mindformers.dataset.token_classification_dataset import model_column_order
from mindformers.tools.dataset_preprocess.bert import tokcls_dataset_to_mindrecord as tool
from mindformers.tools.dataset_preprocess.cli import run_cli
from mindformers.tools.errors import ConfigError, DatasetError

SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
B, I, S = (cluener_labels.index(f'{tag}-name') for tag in 'BIS')
RECORDS = [{'text': '叶老桂认为，Emma在', 'label': {'name': {'叶老桂': [[0, 2]], 'Emma': [[6, 9]]}}},
           {'text': 'A wet day', 'label': {'name': {'A': [[0, 0]]}, 'scene': {'day': [[6, 8]]}}},
           {'text': 'no entity here'}]


@pytest.fixture(name='vocab')
def fixture_vocab(tmp_path):
    chars = sorted({c for r in RECORDS for c in r['text'] if not c.isspace()} | set('Harietmsoab'))
    path = tmp_path / 'vocab.txt'
    path.write_text('\n'.join(SPECIAL + chars) + '\n', encoding='utf-8')
    return str(path)


@pytest.fixture(name='folder')
def fixture_folder(tmp_path):
    folder = tmp_path / 'cluener'
    folder.mkdir()
    for stage in ('train', 'dev'):
        (folder / f'{stage}.json').write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in RECORDS),
                                              encoding='utf-8')
    return folder


def test_records_become_bios_ids_per_character():
    ids = cluener_label_ids(RECORDS[0])
    assert [cluener_labels[i] for i in ids] == ['B-name', 'I-name', 'I-name', 'O', 'O', 'O',
                                                'B-name', 'I-name', 'I-name', 'I-name', 'O']
    assert [cluener_labels[i] for i in cluener_label_ids(RECORDS[1])] == \
        ['S-name', 'O', 'O', 'O', 'O', 'O', 'B-scene', 'I-scene', 'I-scene']
    assert cluener_label_ids(RECORDS[2]) == [0] * len(RECORDS[2]['text'])
    assert len(cluener_labels) == 31 and cluener_labels[:2] == ['O', 'B-address'] and cluener_labels[-1] == 'S-scene'


@pytest.mark.parametrize('label, message', [
    ({'person': {'Emma': [[0, 3]]}}, "unknown entity tag 'person'"),
    ({'name': {'Emma': [[0, 9]]}}, "span [0, 9] of 'Emma' is outside the text (4 characters)"),
    ({'name': {'Emma': [[1, 3]]}}, "span [1, 3] is 'mma' in the text, not the entity 'Emma'"),
    ({'name': {'Emma': [0, 3]}}, "span 0 of 'Emma' must be [start, end]"),
])
def test_bad_entities_name_the_line(tmp_path, label, message):
    path = tmp_path / 'train.json'
    path.write_text('{"text": "ok"}\n' + json.dumps({'text': 'Emma', 'label': label}) + '\n', encoding='utf-8')
    with pytest.raises(DatasetError) as caught:
        read_cluener(str(path))
    assert 'train.json line 2: ' + message in str(caught.value)


def test_loader_errors_are_one_line(tmp_path):
    with pytest.raises(DatasetError, match='dataset file not found'):
        CLUENERDataLoader(str(tmp_path), stage='dev')
    with pytest.raises(DatasetError, match="stage must be one of"):
        CLUENERDataLoader(str(tmp_path), stage='eval')
    (tmp_path / 'train.json').write_text('{"text": "a"}\nnot json\n', encoding='utf-8')
    with pytest.raises(DatasetError, match='train.json line 2 is not JSON'):
        CLUENERDataLoader(str(tmp_path))


def test_one_token_per_character_and_labels_after_cls(vocab):
    tokenizer = BertTokenizer(vocab_file=vocab, do_lower_case=False, is_tokenize_char=True)
    text = RECORDS[0]['text']
    assert tokenizer.tokenize('A wet') == ['A', '[UNK]', 'w', 'e', 't']   # whitespace keeps its position
    transform = TokenizeWithLabel(tokenizer, max_length=16)
    ids, types, mask, labels = transform(np.array(text), cluener_label_ids(RECORDS[0]))
    assert ids.tolist() == tokenizer.convert_tokens_to_ids(['[CLS]'] + list(text) + ['[SEP]']) + [0] * 3
    assert mask.tolist() == [1] * 13 + [0] * 3 and not types.any() and ids.dtype == np.int32
    padded = LabelPadding(max_length=16)(labels)
    assert padded.tolist() == [0] + cluener_label_ids(RECORDS[0]) + [0] * 4
    cut = LabelPadding(max_length=6)(labels)   # [CLS] + 4 characters + [SEP]
    assert cut.tolist() == [0, B, I, I, 0, 0]
    wordpiece = BertTokenizer(vocab_file=vocab, do_lower_case=False)
    with pytest.raises(DatasetError, match='is_tokenize_char: True'):
        TokenizeWithLabel(wordpiece, max_length=16)('A wet day', cluener_label_ids(RECORDS[1]))


def test_columns_reach_the_model_in_its_argument_order():
    assert model_column_order(['input_ids', 'token_type_ids', 'attention_mask', 'label_id']) == \
        ['input_ids', 'attention_mask', 'token_type_ids', 'label_id']
    assert model_column_order(['label_ids', 'segment_ids', 'input_mask', 'input_ids']) == \
        ['input_ids', 'input_mask', 'segment_ids', 'label_ids']
    with pytest.raises(DatasetError, match="column 'text' is none of the model's inputs"):
        model_column_order(['input_ids', 'text'])
    with pytest.raises(DatasetError, match='name one model input twice'):
        model_column_order(['input_ids', 'input_mask', 'attention_mask'])


def dataset_config(folder, vocab, loader):
    tokenizer = {'type': 'BertTokenizer', 'vocab_file': vocab, 'do_lower_case': False, 'is_tokenize_char': True}
    return {'data_loader': loader, 'tokenizer': tokenizer, 'batch_size': 3, 'drop_remainder': False,
            'text_transforms': {'type': 'TokenizeWithLabel', 'max_length': 16},
            'label_transforms': {'type': 'LabelPadding', 'max_length': 16},
            'input_columns': ['text', 'label_id'],
            'output_columns': ['input_ids', 'token_type_ids', 'attention_mask', 'label_id']}


def test_tool_rows_equal_the_json_loader_batches(tmp_path, folder, vocab):
    dataset = TokenClassificationDataset(dataset_config(folder, vocab, {'type': 'CLUENERDataLoader',
                                                                        'dataset_dir': str(folder), 'stage': 'dev'}))
    assert dataset.get_col_names() == ['input_ids', 'attention_mask', 'token_type_ids', 'label_id']
    assert dataset.label_count == 31 and dataset.record_length == 16
    batch = next(dataset.create_tuple_iterator(output_numpy=True))
    output = str(tmp_path / 'dev.mindrecord')
    code = run_cli('tokcls', tool.main, ['--input_file', str(folder / 'dev.json'), '--output_file', output,
                                         '--vocab_file', vocab, '--max_seq_length', '16'])
    assert code == 0
    records = TokenClassificationDataset({
        'data_loader': {'type': 'MindDataset', 'dataset_dir': output, 'shuffle': False}, 'batch_size': 3,
        'input_columns': ['input_ids', 'segment_ids', 'input_mask', 'label_ids']})
    assert records.get_col_names() == ['input_ids', 'input_mask', 'segment_ids', 'label_ids']
    rows = next(records.create_tuple_iterator(output_numpy=True))
    for got, want in zip(rows, batch):
        assert got.dtype == np.int32 and got.tolist() == want.tolist()


def test_tool_stops_on_an_unknown_tag_and_writes_nothing(tmp_path, vocab, capsys):
    source = tmp_path / 'bad.json'
    source.write_text(json.dumps({'text': 'Emma', 'label': {'person': {'Emma': [[0, 3]]}}}) + '\n', encoding='utf-8')
    output = tmp_path / 'bad.mindrecord'
    code = run_cli('tokcls_dataset_to_mindrecord.py', tool.main,
                   ['--input_file', str(source), '--output_file', str(output), '--vocab_file', vocab])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "bad.json line 1: unknown entity tag 'person'" in err[0]
    assert not output.exists()
    with pytest.raises(ConfigError, match='--max_seq_length 2 leaves no room'):
        tool.encode_records(BertTokenizer(vocab_file=vocab, is_tokenize_char=True), [('a', [0])], 2)


@pytest.mark.parametrize('tags, spans', [
    (['B-name', 'I-name', 'O', 'S-game', 'B-book', 'I-book', 'I-book'], [('name', 0, 1), ('game', 3, 3),
                                                                        ('book', 4, 6)]),
    (['B-name', 'O', 'I-name', 'B-name', 'I-scene'], []),               # B alone, I without B, I of another type
    (['B-name', 'I-name', 'B-name', 'I-name', 'S-name'], [('name', 0, 1), ('name', 2, 3), ('name', 4, 4)]),
])
def test_bios_spans(tags, spans):
    assert bios_entities(tags) == spans


def one_hot_logits(tag_rows):
    ids = [[cluener_labels.index(t) for t in row] for row in tag_rows]
    return np.eye(31, dtype=np.float32)[np.array(ids)] * 5.0, np.array(ids)


def test_entity_score_counts_exact_spans_and_skips_ignored_positions():
    gold_tags = [['O', 'B-name', 'I-name', 'O', 'S-game', 'O'], ['O', 'B-book', 'I-book', 'I-book', 'O', 'O']]
    pred_tags = [['O', 'B-name', 'I-name', 'O', 'O', 'O'], ['O', 'B-book', 'I-book', 'O', 'S-name', 'S-name']]
    logits, _ = one_hot_logits(pred_tags)
    _, labels = one_hot_logits(gold_tags)
    labels[1, 5] = -100              # ignored: its predicted S-name is not counted
    metric = EntityScore()
    metric.clear()
    metric.update(ms.Tensor(logits), ms.Tensor(labels.astype(np.int32)))
    overall, per_type = metric.eval()
    # gold: name(1,2), game(4,4), book(1,3); predicted: name(1,2), book(1,2), name(4,4) -> 1 right of 3 and 3
    assert overall == {'precision': round(1 / 3, 4), 'recall': round(1 / 3, 4), 'f1': round(1 / 3, 4)}
    assert per_type == {'book': {'precision': 0.0, 'recall': 0.0, 'f1': 0.0},
                        'game': {'precision': 0.0, 'recall': 0.0, 'f1': 0.0},
                        'name': {'precision': 0.5, 'recall': 1.0, 'f1': round(2 / 3, 4)}}


class CharTagger(nn.Cell):
    """A stand-in token classifier whose logits are a fixed table row per token id."""

    def __init__(self, table, seq_length):
        super().__init__()
        self.table = ms.Tensor(table)
        self.config = type('Config', (), {'num_labels': table.shape[1], 'seq_length': seq_length,
                                          'id2label': None})()

    def construct(self, input_ids, input_mask=None, token_type_ids=None):
        return ops.gather(self.table, input_ids, 0)


def test_pipeline_groups_entities_with_character_offsets(vocab):
    tokenizer = BertTokenizer(vocab_file=vocab, do_lower_case=False, is_tokenize_char=True)
    table = np.zeros((tokenizer.vocab_size, 31), np.float32)
    for token, index in tokenizer.vocab.items():   # capitals begin a name, lower-case letters continue one
        if len(token) == 1 and token.isupper():
            table[index, B] = 4.0
        elif len(token) == 1 and token.islower():
            table[index, I] = 3.0
    tagger = pipeline('token_classification', model=CharTagger(table, 24), tokenizer=tokenizer)
    out = tagger(['so Emma met Harriet', 'A wet'], batch_size=2)
    probs = np.exp(table) / np.exp(table).sum(-1, keepdims=True)
    p_b, p_i = probs[tokenizer.vocab['E'], B], probs[tokenizer.vocab['m'], I]
    assert out[0] == [{'entity_group': 'name', 'start': 3, 'end': 6, 'score': round(float((p_b + 3 * p_i) / 4), 5),
                       'word': 'Emma'},
                      {'entity_group': 'name', 'start': 12, 'end': 18,
                       'score': round(float((p_b + 6 * p_i) / 7), 5), 'word': 'Harriet'}]
    assert out[1] == []                       # 'A' is a B with no I after it; 'wet' continues nothing
    assert tagger('so Emma') == [[out[0][0]]]
    assert tagger('so Emma met Harriet', max_length=9) == [[out[0][0]]]   # cut to 7 characters
    with pytest.raises(ConfigError, match='id2label has 3 names but the model predicts 31'):
        pipeline('token_classification', model=CharTagger(table, 24), tokenizer=tokenizer, id2label=['O', 'a', 'b'])
    with pytest.raises(ConfigError, match='one token per character'):
        pipeline('token_classification', model=CharTagger(table, 24),
                 tokenizer=BertTokenizer(vocab_file=vocab, do_lower_case=False))('so Emma')
