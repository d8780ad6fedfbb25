"""Question answering pieces: BertTokenizer offsets (against transformers' fast tokenizer on real lines), SQuAD
reading and windowing, answer decoding, SQuADMetric's EM/F1, the question_answering pipeline on a random tiny
BERT and QuestionAnsweringDataset's rows; bad SQuAD data stops with one line naming the question."""
import glob
import json
import os

import numpy as np
import pytest

from mindformers import BertTokenizer
from mindformers.core.metric.question_answering_metrics import SQuADMetric, normalize_answer, squad_f1
from mindformers.dataset.dataloader.squad_dataloader import (best_answers, convert_examples_to_features, read_squad,
                                                             read_squad_temp, write_squad_temp)
from mindformers.tools.errors import DatasetError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SHARED = os.path.join(os.path.dirname(ROOT), 'shared')
BERT_VOCAB = os.path.join(SHARED, 'data', 'tokenizers', 'bert_uncased', 'vocab.txt')
WORDS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'anna', 'bob', 'lives', 'in', 'paris', 'rome', 'where', 'does',
         'live', 'owns', 'a', 'red', 'cat', 'what', 'own', '.', '?', 'the', 'cafe', 'is', 'near', 'river', '##s']
CONTEXT = 'Anna lives in Paris. Bob owns a red cat. The café is near the rivers.'


@pytest.fixture(name='tokenizer')
def fixture_tokenizer(tmp_path):
    (tmp_path / 'vocab.txt').write_text('\n'.join(WORDS) + '\n', encoding='utf-8')
    return BertTokenizer(vocab_file=str(tmp_path / 'vocab.txt'))


def squad_file(path, qas, context=CONTEXT):
    path.write_text(json.dumps({'data': [{'title': 't', 'paragraphs': [{'context': context, 'qas': qas}]}]}),
                    encoding='utf-8')
    return str(path)


def qa(qid, question, text, start):
    return {'id': qid, 'question': question, 'answers': [{'text': text, 'answer_start': start}]}


def test_offsets_cover_the_characters_of_each_token(tokenizer):
    tokens, offsets = tokenizer.tokenize_with_offsets(CONTEXT)
    assert tokens == tokenizer.tokenize(CONTEXT)
    assert [CONTEXT[a:b] for a, b in offsets][:5] == ['Anna', 'lives', 'in', 'Paris', '.']
    assert ('café', 'cafe') in [(CONTEXT[a:b], t) for t, (a, b) in zip(tokens, offsets)]   # accent stripped
    assert [CONTEXT[a:b] for t, (a, b) in zip(tokens, offsets) if t in ('river', '##s')] == ['river', 's']


def test_offsets_equal_transformers_fast_tokenizer_on_real_lines():
    transformers = pytest.importorskip('transformers', reason='offset parity needs transformers')
    files = sorted(glob.glob(os.path.join(SHARED, 'data', 'text', '**', '*.txt'), recursive=True))
    if not files or not os.path.isfile(BERT_VOCAB):
        pytest.skip('needs ../shared/data (real text and the bert_uncased vocab)')
    lines = ['Crème brûlée, café au lait & jalapeño… naïve façade.', '机器学习（Machine Learning）是人工智能。',
             "Don't stop-believing!!! (really?)", 'zero\u200bwidth and\u00a0nbsp', 'a' * 120 + ' long word']
    for path in files:
        with open(path, encoding='utf-8') as stream:
            lines.extend([line.strip() for line in stream if len(line.strip()) > 30][200:240])
    ours = BertTokenizer(vocab_file=BERT_VOCAB)
    fast = transformers.BertTokenizerFast(vocab_file=BERT_VOCAB)
    assert len(lines) >= 200
    for line in lines:
        encoded = fast(line, add_special_tokens=False, return_offsets_mapping=True)
        tokens, offsets = ours.tokenize_with_offsets(line)
        assert tokens == fast.convert_ids_to_tokens(encoded['input_ids']), line
        assert offsets == [tuple(o) for o in encoded['offset_mapping']], line


def test_windows_hold_the_answer_where_it_lies(tokenizer, tmp_path):
    examples = read_squad(squad_file(tmp_path / 'train.json', [qa('1', 'What does Bob own?', 'red cat', 32)]), True)
    features = convert_examples_to_features(examples, tokenizer, max_seq_len=16, max_question_len=8, doc_stride=3)
    assert len(features) > 2 and [f['unique_id'] for f in features] == list(range(10 ** 9, 10 ** 9 + len(features)))
    holding = [f for f in features if f['start_position']]
    assert holding   # the others put the answer on [CLS] (0, 0)
    for feature in holding:
        spans = feature['token_to_orig_map']
        assert CONTEXT[spans[feature['start_position']][0]:spans[feature['end_position']][1]] == 'red cat'
        assert feature['tokens'][feature['start_position']:feature['end_position'] + 1] == ['red', 'cat']
    for feature in features:
        ids = feature['input_ids']
        assert len(ids) == 16 == len(feature['input_mask']) == len(feature['token_type_id'])
        real = sum(feature['input_mask'])
        assert tokenizer.convert_ids_to_tokens(ids[:real])[:7] == ['[CLS]', 'what', 'does', 'bob', 'own', '?', '[SEP]']
        assert feature['token_type_id'][:real] == [0] * 7 + [1] * (real - 7)
    # every context token is "max context" in exactly one window
    tokens, _ = tokenizer.tokenize_with_offsets(CONTEXT)
    owners = {}
    for feature in features:
        for index, is_max in feature['token_is_max_context'].items():
            owners.setdefault(tuple(feature['token_to_orig_map'][index]), []).append(is_max)
    assert len(owners) == len(tokens) and all(sum(flags) == 1 for flags in owners.values())


@pytest.mark.parametrize('qas, message', [
    ([qa('7', 'Where?', 'Paris', 66)], "question '7': answer 'Paris' at offset 66 (to 71) is outside the context"),
    ([qa('8', 'Where?', 'Paris', 3)], "question '8': the context at offset 3 is 'a liv', not the answer 'Paris'"),
    ([{'id': '9', 'question': 'Where?', 'answers': []}], "question '9': has no answer"),
    ([{'id': '10', 'question': ' ', 'answers': []}], "question '10': a question needs an 'id' and a non-empty"),
])
def test_bad_squad_data_names_the_question(tmp_path, qas, message):
    with pytest.raises(DatasetError, match=message.replace('(', r'\(').replace(')', r'\)')):
        read_squad(squad_file(tmp_path / 'train.json', qas), True)


def test_a_question_longer_than_the_window_is_one_error(tokenizer, tmp_path):
    examples = read_squad(squad_file(tmp_path / 'train.json', [qa('5', 'where does anna live ?', 'Paris', 14)]), True)
    with pytest.raises(DatasetError, match="question '5': max_seq_len 8 leaves no room for the context"):
        convert_examples_to_features(examples, tokenizer, max_seq_len=8, max_question_len=64)


def metric_inputs(features, picks):
    """(unique_id, start_logits, end_logits) putting logit 5 on the (start, end) token picked per feature."""
    ids = np.array([f['unique_id'] for f in features])
    starts, ends = np.zeros((len(features), 24)), np.zeros((len(features), 24))
    for row, (start, end) in enumerate(picks):
        starts[row, start], ends[row, end] = 5.0, 5.0
    return ids, starts, ends


def test_squad_metric_scores_the_decoded_answers(tokenizer, tmp_path):
    qas = [qa('a', 'Where does Anna live?', 'Paris', 14), qa('b', 'What does Bob own?', 'a red cat', 30)]
    examples = read_squad(squad_file(tmp_path / 'dev.json', qas), False)
    features = convert_examples_to_features(examples, tokenizer, max_seq_len=24, max_question_len=8, doc_stride=8)
    temp = tmp_path / 'squad_temp'
    write_squad_temp(str(temp), examples, features)
    assert read_squad_temp(str(temp))[1][0]['token_to_orig_map'] == features[0]['token_to_orig_map']

    def token_of(feature, text):
        return next(i for i, span in feature['token_to_orig_map'].items() if CONTEXT[span[0]:span[1]] == text)
    picks = []
    for feature in features:   # question a: 'Paris' exactly; question b: 'red' only (F1 of 'red' vs 'red cat')
        word = 'paris' if feature['example_index'] == 0 else 'red'
        index = next((i for i, t in enumerate(feature['tokens']) if t == word and
                      feature['token_is_max_context'].get(i)), None)
        picks.append((index, index) if index is not None else (0, 0))
    assert token_of(features[0], 'Paris')
    metric = SQuADMetric('unused', temp_file_dir=str(temp))
    metric.update(*metric_inputs(features, picks))
    result = metric.eval()
    assert metric.predictions == {'a': 'Paris', 'b': 'red'}
    assert result['exact_match'] == pytest.approx(50.0)
    assert result['f1'] == pytest.approx(100 * (1 + 2 * (1 / 1) * (1 / 2) / (1 + 1 / 2)) / 2)   # 'a' is an article
    assert normalize_answer('The  Red, cat!') == 'red cat' and squad_f1('red', 'a red cat') == pytest.approx(2 / 3)


def test_best_answers_keep_the_context_text_and_softmax_scores(tokenizer, tmp_path):
    examples = read_squad(squad_file(tmp_path / 'dev.json', [qa('c', 'Where is the cafe?', 'near the rivers', 53)]),
                          False)
    features = convert_examples_to_features(examples, tokenizer, max_seq_len=40, max_question_len=8)
    feature = features[0]
    near = feature['tokens'].index('near')
    starts, ends = np.zeros(40), np.zeros(40)
    starts[near], ends[near + 3], ends[near] = 4.0, 4.0, 3.0
    answers = best_answers(examples[0], features, {feature['unique_id']: (starts, ends)}, n_best_size=3,
                           max_answer_len=4)
    assert answers[0]['text'] == 'near the rivers' == CONTEXT[answers[0]['start']:answers[0]['end']]
    assert answers[1]['text'] == 'near'
    assert sum(a['score'] for a in answers) == pytest.approx(1.0)
    assert answers[0]['score'] / answers[1]['score'] == pytest.approx(np.e)   # logits 8 vs 7
    # a span longer than max_answer_len is never proposed
    assert all(a['text'] != 'near the rivers' for a in best_answers(
        examples[0], features, {feature['unique_id']: (starts, ends)}, n_best_size=3, max_answer_len=3))


@pytest.mark.usefixtures('pynative')
def test_pipeline_answers_are_the_best_span_of_the_model(tokenizer):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers import BertConfig, BertForQuestionAnswering, pipeline  # pylint: disable=C0415
    ms.set_seed(0)
    config = BertConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, seq_length=32, max_position_embeddings=32, compute_dtype='float32',
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = BertForQuestionAnswering(config)
    model.set_train(False)
    reader = pipeline('question_answering', model=model, tokenizer=tokenizer, top_k=2, max_answer_len=3)
    answers = reader(f'{CONTEXT} - Where does Anna live?')
    assert len(answers) == 2 and sorted(answers[0]) == ['end', 'score', 'start', 'text']
    assert all(CONTEXT[a['start']:a['end']] == a['text'] for a in answers)
    # the best span computed here from the model's own logits (one window: 32 positions hold it all)
    encoded = tokenizer('Where does Anna live?', CONTEXT, max_length=32, padding='max_length')
    start, end = model(*(ms.Tensor(np.array([encoded[k]], np.int32))
                         for k in ('input_ids', 'attention_mask', 'token_type_ids')))
    start, end = start.asnumpy()[0], end.asnumpy()[0]
    _, offsets = tokenizer.tokenize_with_offsets(CONTEXT)
    first = encoded['token_type_ids'].index(1)
    best = max(((start[i] + end[j], i, j) for i in range(first, first + len(offsets))
                for j in range(i, min(i + 3, first + len(offsets)))))
    assert (answers[0]['start'], answers[0]['end']) == (offsets[best[1] - first][0], offsets[best[2] - first][1])
    both = reader([{'context': CONTEXT, 'question': 'Where does Anna live?'}, f'{CONTEXT} - What does Bob own?'])
    assert both[0] == answers and len(both[1]) == 2


def test_dataset_rows_are_the_features_and_the_metric_files_are_written(tokenizer, tmp_path, monkeypatch):
    from mindformers import QuestionAnsweringDataset  # pylint: disable=import-outside-toplevel
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / 'squad'
    folder.mkdir()
    squad_file(folder / 'dev-v1.1.json', [qa('a', 'Where does Anna live?', 'Paris', 14),
                                          qa('b', 'What does Bob own?', 'a red cat', 30)])
    dataset = QuestionAnsweringDataset(
        data_loader={'type': 'SQuADDataLoader', 'dataset_dir': str(folder), 'stage': 'dev', 'max_seq_len': 24,
                     'max_question_len': 8, 'doc_stride': 8},
        tokenizer=tokenizer, batch_size=64, drop_remainder=False)
    rows = next(dataset.create_dict_iterator(num_epochs=1, output_numpy=True))
    examples = read_squad(str(folder / 'dev-v1.1.json'), False)
    features = convert_examples_to_features(examples, tokenizer, 24, 8, 8, is_training=False)
    assert sorted(rows) == sorted(['input_ids', 'input_mask', 'token_type_id', 'start_position', 'end_position',
                                   'unique_id'])
    for key in ('input_ids', 'input_mask', 'token_type_id', 'unique_id'):
        assert rows[key].tolist() == [f[key] for f in features]
    assert dataset.record_length == 24
    assert [e['qas_id'] for e in read_squad_temp('./squad_temp')[0]] == ['a', 'b']


def test_mindrecord_tool_writes_the_loader_rows_and_the_metric_files(tokenizer, tmp_path, capsys):
    """bert/qa_dataset_to_mindrecord.py: the rows QuestionAnsweringDataset reads from it equal those of
    SQuADDataLoader on the same file (train: answer positions; dev: the metric's temp files); bad offsets stop
    with one line naming the question and write nothing."""
    from mindformers import QuestionAnsweringDataset  # pylint: disable=import-outside-toplevel
    from mindformers.tools.dataset_preprocess.bert.qa_dataset_to_mindrecord import main  # pylint: disable=C0415
    from mindformers.tools.dataset_preprocess.cli import run_cli  # pylint: disable=import-outside-toplevel
    (tmp_path / 'vocab.txt').write_text('\n'.join(WORDS) + '\n', encoding='utf-8')
    path = squad_file(tmp_path / 'train-v1.1.json', [qa('a', 'Where does Anna live?', 'Paris', 14),
                                                     qa('b', 'What does Bob own?', 'a red cat', 30)])
    sizes = ['--max_seq_length', '24', '--max_query_length', '8', '--doc_stride', '8']
    common = ['--input_file', path, '--vocab_file', str(tmp_path / 'vocab.txt')] + sizes
    for training in ('True', 'False'):
        out = tmp_path / f'{training}.mindrecord'
        temp = tmp_path / f'temp_{training}'
        assert run_cli('qa_dataset_to_mindrecord.py', main, common + ['--output_file', str(out), '--is_training',
                                                                      training, '--temp_file_dir', str(temp)]) == 0
        read = QuestionAnsweringDataset(data_loader={'type': 'MindDataset', 'dataset_dir': str(out), 'shuffle': False},
                                        batch_size=64, drop_remainder=False)
        rows = next(read.create_dict_iterator(num_epochs=1, output_numpy=True))
        features = convert_examples_to_features(read_squad(path, training == 'True'), tokenizer, 24, 8, 8,
                                                is_training=training == 'True')
        for key in ('input_ids', 'input_mask', 'token_type_id', 'start_position', 'end_position', 'unique_id'):
            assert rows[key].reshape(len(features), -1).tolist() == [np.ravel(f[key]).tolist() for f in features]
        assert rows['input_ids'].dtype == np.int32 and read.record_length == 24
        assert temp.is_dir() == (training == 'False')
        # the SQuAD YAML's loader given the MindRecord file (`--train_dataset_dir rows.mindrecord`) reads the rows
        squad_yaml = QuestionAnsweringDataset(
            data_loader={'type': 'SQuADDataLoader', 'dataset_dir': str(out), 'max_seq_len': 24,
                         'stage': 'train' if training == 'True' else 'dev'}, batch_size=64, drop_remainder=False)
        again = next(squad_yaml.create_dict_iterator(num_epochs=1, output_numpy=True))
        assert all((again[key] == rows[key]).all() for key in rows) or training == 'True'   # train rows shuffle
        assert sorted(again['unique_id'].ravel()) == sorted(rows['unique_id'].ravel())
        if training == 'True':
            assert rows['start_position'].max() > 0   # the answers' token spans are in the rows
    assert [e['qas_id'] for e in read_squad_temp(str(tmp_path / 'temp_False'))[0]] == ['a', 'b']
    capsys.readouterr()
    bad = squad_file(tmp_path / 'bad.json', [qa('q7', 'Where does Anna live?', 'Paris', 500)])
    out = tmp_path / 'bad.mindrecord'
    code = run_cli('qa_dataset_to_mindrecord.py', main, ['--input_file', bad, '--output_file', str(out),
                                                         '--vocab_file', str(tmp_path / 'vocab.txt')] + sizes)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and 'q7' in err[0] and not out.exists(), err
