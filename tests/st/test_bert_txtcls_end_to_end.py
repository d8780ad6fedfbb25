"""BERT text classification end to end on real text: is a paragraph by Jane Austen (0) or from Moby Dick (1)?
The BERT txtcls data tool, then run_mindformer.py train / eval / predict with configs/txtcls/
run_txtcls_bert_tiny_uncased.yaml (a 2-layer BERT trained from scratch); held-out paragraphs must reach
>= 90 % accuracy, and the logged numbers must be those computed here from the written checkpoint."""
import ast
import os
import random
import re
import shutil

import numpy as np
import pytest

from conftest import ROOT, SHARED, losses, model_from_yaml, read_records, run_cli, run_script

TOOL = os.path.join(ROOT, 'mindformers', 'tools', 'dataset_preprocess', 'bert', 'txtcls_dataset_to_mindrecord.py')
YAML = os.path.join(ROOT, 'configs', 'txtcls', 'run_txtcls_bert_tiny_uncased.yaml')
VOCAB = os.path.join(SHARED, 'data', 'tokenizers', 'bert_uncased', 'vocab.txt')
EMMA = os.path.join(SHARED, 'data', 'text', 'austen', 'emma.txt')
MOBY = os.path.join(SHARED, 'data', 'text', 'mobydick.txt')
PROBE = ["Call me Ishmael. The whale rose from the sea beside the ship, and the harpooneers stood ready.",
         "Mr. Knightley and Miss Woodhouse talked of Harriet, of Mr. Elton and of the dinner at Hartfield."]
EPOCHS = 2


def paragraphs(path, skip):
    """Blank-line separated paragraphs of at least 25 words, after the first `skip` (front matter)."""
    with open(path, encoding='utf-8') as stream:
        blocks = re.split(r'\n\s*\n', stream.read())
    return [' '.join(b.split()) for b in blocks if len(b.split()) >= 25][skip:]


@pytest.fixture(name='work', scope='module')
def fixture_work(tmp_path_factory):
    for path in (VOCAB, EMMA, MOBY):
        if not os.path.exists(path):
            pytest.skip(f"needs ../shared/data ({path} is missing)")
    work = tmp_path_factory.mktemp('bert_txtcls')
    rng = random.Random(0)
    austen, moby = paragraphs(EMMA, 20), paragraphs(MOBY, 40)
    rng.shuffle(austen)
    rng.shuffle(moby)
    train = [(p, 0) for p in austen[:400]] + [(p, 1) for p in moby[:400]]
    rng.shuffle(train)
    dev = [(p, 0) for p in austen[400:500]] + [(p, 1) for p in moby[400:500]]   # paragraphs never trained on
    for name, part in (('train', train), ('dev', dev)):
        lines = ['sentence\tlabel'] + [f"{text.replace(chr(9), ' ')}\t{label}" for text, label in part]
        (work / f'{name}.tsv').write_text('\n'.join(lines) + '\n', encoding='utf-8')
        result = run_script(TOOL, ['--dataset_name', 'sst_2', '--input_file', work / f'{name}.tsv', '--output_file',
                                   work / f'{name}.mindrecord', '--max_seq_length', 128, '--num_labels', 2,
                                   '--vocab_file', VOCAB], work)
        assert result.returncode == 0, result.stderr[-2000:]
    return work


@pytest.fixture(name='trained', scope='module')
def fixture_trained(work):
    result = run_cli(['--config', YAML, '--run_mode', 'train', '--train_dataset_dir', work / 'train.mindrecord',
                      '--runner_config.epochs', str(EPOCHS)], work)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = work / 'output' / 'checkpoint' / 'rank_0'
    return result.stdout + result.stderr, folder / f'txtcls_bert_tiny_uncased_rank_0-{EPOCHS}_50.ckpt'


def test_tool_rows_are_bert_inputs_with_one_label(work):
    from mindformers import BertTokenizer  # pylint: disable=import-outside-toplevel
    tokenizer = BertTokenizer(vocab_file=VOCAB)
    rows = read_records(work / 'train.mindrecord')
    assert len(rows) == 800 and sorted(rows[0]) == ['input_ids', 'input_mask', 'label_ids', 'segment_ids']
    first = (work / 'train.tsv').read_text(encoding='utf-8').splitlines()[1].split('\t')[0]
    expected = tokenizer(first, max_length=128, padding='max_length', truncation=True)
    assert rows[0]['input_ids'].tolist() == expected['input_ids']
    assert rows[0]['input_mask'].tolist() == expected['attention_mask']
    assert all(r['input_ids'].dtype == np.int64 and not r['segment_ids'].any() for r in rows)
    assert sorted({int(r['label_ids'][0]) for r in rows}) == [0, 1]


def test_training_learns_the_author(trained):
    log, checkpoint = trained
    values = losses(log)
    assert len(values) == 50 * EPOCHS and checkpoint.is_file()   # 800 rows / batch 16
    assert np.mean(values[:5]) > 0.6 and np.mean(values[-20:]) < 0.2   # from ln 2 = 0.69


def test_eval_accuracy_on_held_out_paragraphs_is_that_of_the_checkpoint(work, trained):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    _, checkpoint = trained
    result = run_cli(['--config', YAML, '--run_mode', 'eval', '--eval_dataset_dir', work / 'dev.mindrecord',
                      '--load_checkpoint', checkpoint], work)
    assert result.returncode == 0, result.stderr[-3000:]
    logged = float(re.findall(r"Top1 Accuracy = ([0-9.]+)", result.stdout + result.stderr)[-1])
    previous = ms.get_context('mode')
    try:
        model = model_from_yaml(YAML, checkpoint)
        rows = read_records(work / 'dev.mindrecord')
        columns = [ms.Tensor(np.stack([r[c] for r in rows]).astype(np.int32))
                   for c in ('input_ids', 'input_mask', 'segment_ids')]
        logits = model(*columns).asnumpy()
    finally:
        ms.set_context(mode=previous)
    expected = float((logits.argmax(-1) == np.array([r['label_ids'][0] for r in rows])).mean())
    assert logged == pytest.approx(expected, abs=1e-9)
    assert expected >= 0.9   # 200 held-out paragraphs; chance is 0.5 (measured 0.985 after 3 epochs)


def test_predict_writes_the_pipeline_scores_of_the_checkpoint(work, trained):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers import BertTokenizer, pipeline  # pylint: disable=import-outside-toplevel
    _, checkpoint = trained
    (work / 'probe.txt').write_text('\n'.join(PROBE) + '\n', encoding='utf-8')
    cached = work / 'checkpoint_download' / 'txtcls'   # the model name's cached vocabulary
    cached.mkdir(parents=True, exist_ok=True)
    shutil.copy(VOCAB, cached / 'vocab.txt')
    result = run_cli(['--config', YAML, '--run_mode', 'predict', '--predict_data', work / 'probe.txt',
                      '--load_checkpoint', checkpoint], work)
    assert result.returncode == 0, result.stderr[-3000:]
    written = ast.literal_eval((work / 'text_classification_result.txt').read_text(encoding='utf-8'))
    previous = ms.get_context('mode')
    try:
        classifier = pipeline('text_classification', model=model_from_yaml(YAML, checkpoint),
                              tokenizer=BertTokenizer(vocab_file=VOCAB))
        expected = classifier(PROBE)
    finally:
        ms.set_context(mode=previous)
    assert [scores[0]['label'] for scores in written] == ['LABEL_1', 'LABEL_0']
    for got, want in zip(written, expected):
        assert [item['label'] for item in got] == [item['label'] for item in want]
        assert np.allclose([item['score'] for item in got], [item['score'] for item in want], atol=1e-5)


def test_labels_outside_num_labels_stop_the_run_with_one_line(work):
    result = run_cli(['--config', YAML, '--run_mode', 'eval', '--eval_dataset_dir', work / 'dev.mindrecord',
                      '--model.model_config.num_labels', '1'], work)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert "eval data has label 1 in column 'label_ids' but the model has num_labels 1" in lines[-1]
    assert 'Traceback' not in result.stderr
