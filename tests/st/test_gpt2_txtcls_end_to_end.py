"""The text_classification task end to end on real text: which author wrote a 24-word snippet, Jane Austen (0)
or Herman Melville (1)? The gpt2 txtcls data tool, then run_mindformer.py train / eval / predict / finetune with
configs/gpt2/run_gpt2_txtcls_tiny.yaml, each checked against numbers computed here from the written checkpoint."""
import ast
import os
import random
import re

import numpy as np
import pytest

from conftest import ROOT, SHARED, losses, model_from_yaml, read_records, run_cli, run_script

TOOL = os.path.join(ROOT, 'mindformers', 'tools', 'dataset_preprocess', 'gpt2', 'txtcls_dataset_to_mindrecord.py')
YAML = os.path.join(ROOT, 'configs', 'gpt2', 'run_gpt2_txtcls_tiny.yaml')
LM_YAML = os.path.join(ROOT, 'configs', 'gpt2', 'run_gpt2_tiny.yaml')
GPT2_VOCAB = os.path.join(SHARED, 'data', 'tokenizers', 'gpt2')
EMMA = os.path.join(SHARED, 'data', 'text', 'austen', 'emma.txt')
MOBY = os.path.join(SHARED, 'data', 'text', 'mobydick.txt')
PROBE = ["Call me Ishmael. The whale rose from the sea beside the ship, and the harpooneers stood ready.",
         "Mr. Knightley and Miss Woodhouse talked of Harriet, of Mr. Elton and of the dinner at Hartfield."]


def snippets(path, skip_lines, count, words=24):
    with open(path, encoding='utf-8') as stream:
        tokens = ' '.join(line.strip() for line in stream.read().split('\n')[skip_lines:]).split()
    return [' '.join(tokens[i:i + words]) for i in range(0, words * count, words)]


@pytest.fixture(name='work', scope='module')
def fixture_work(tmp_path_factory):
    for path in (GPT2_VOCAB, EMMA, MOBY):
        if not os.path.exists(path):
            pytest.skip(f"needs ../shared/data ({path} is missing)")
    work = tmp_path_factory.mktemp('txtcls')
    rows = [(s, 0) for s in snippets(EMMA, 200, 700)] + [(s, 1) for s in snippets(MOBY, 800, 700)]
    random.Random(0).shuffle(rows)
    for name, part in (('train', rows[:1200]), ('dev', rows[1200:])):
        lines = ['sentence\tlabel'] + [f'{text}\t{label}' for text, label in part]
        (work / f'{name}.tsv').write_text('\n'.join(lines) + '\n', encoding='utf-8')
        result = run_script(TOOL, ['--dataset_name', 'sst_2', '--input_file', work / f'{name}.tsv', '--output_file',
                                   work / f'{name}.mindrecord', '--max_length', 128,
                                   '--vocab_file', os.path.join(GPT2_VOCAB, 'vocab.json'),
                                   '--merges_file', os.path.join(GPT2_VOCAB, 'merges.txt')], work)
        assert result.returncode == 0, result.stderr[-2000:]
    return work


@pytest.fixture(name='trained', scope='module')
def fixture_trained(work):
    result = run_cli(['--config', YAML, '--run_mode', 'train', '--train_dataset_dir', work / 'train.mindrecord'],
                     work)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = work / 'output' / 'checkpoint' / 'rank_0'
    return result.stdout + result.stderr, folder / 'gpt2_txtcls_tiny_rank_0-1_150.ckpt'


def test_tool_writes_padded_int64_rows_with_one_label(work):
    rows = read_records(work / 'train.mindrecord')
    assert len(rows) == 1200 and sorted(rows[0]) == ['attention_mask', 'input_ids', 'labels']
    for row in rows:
        ids, mask = row['input_ids'], row['attention_mask']
        assert ids.dtype == np.int64 and ids.shape == (128,) and row['labels'].shape == (1,)
        real = int(mask.sum())
        assert ids[0] == 50256 and ids[real - 1] == 50256 and (mask[:real] == 1).all() and (mask[real:] == 0).all()
        assert (ids[real:] == 50256).all()
    assert sorted({int(r['labels'][0]) for r in rows}) == [0, 1]


def test_training_learns_the_author(trained):
    log, checkpoint = trained
    values = losses(log)
    assert len(values) == 150 and checkpoint.is_file()   # 1200 rows / batch 8
    assert np.mean(values[:10]) > 0.6 and np.mean(values[-30:]) < 0.3   # from ln 2 = 0.69


def test_eval_logs_the_top1_accuracy_of_the_checkpoint(work, trained):
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
        ids = np.stack([r['input_ids'] for r in rows]).astype(np.int32)
        mask = np.stack([r['attention_mask'] for r in rows]).astype(np.int32)
        logits = model(ms.Tensor(ids), ms.Tensor(mask)).asnumpy()
    finally:
        ms.set_context(mode=previous)
    expected = float((logits.argmax(-1) == np.array([r['labels'][0] for r in rows])).mean())
    assert logged == pytest.approx(expected, abs=1e-9)
    assert expected >= 0.8   # held-out snippets; chance is 0.5


def test_predict_writes_the_pipeline_scores_of_the_checkpoint(work, trained):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers import GPT2Tokenizer, pipeline  # pylint: disable=import-outside-toplevel
    _, checkpoint = trained
    (work / 'probe.txt').write_text('\n'.join(PROBE) + '\n', encoding='utf-8')
    (work / 'checkpoint_download').mkdir(exist_ok=True)
    if not (work / 'checkpoint_download' / 'gpt2').exists():
        os.symlink(GPT2_VOCAB, work / 'checkpoint_download' / 'gpt2')   # the name's cached tokenizer files
    result = run_cli(['--config', YAML, '--run_mode', 'predict', '--predict_data', work / 'probe.txt',
                      '--load_checkpoint', checkpoint], work)
    assert result.returncode == 0, result.stderr[-3000:]
    written = ast.literal_eval((work / 'text_classification_result.txt').read_text(encoding='utf-8'))
    previous = ms.get_context('mode')
    try:
        classifier = pipeline('text_classification', model=model_from_yaml(YAML, checkpoint),
                              tokenizer=GPT2Tokenizer.from_pretrained(GPT2_VOCAB))
        expected = classifier(PROBE)
    finally:
        ms.set_context(mode=previous)
    assert [[item['label'] for item in scores] for scores in written] == [['LABEL_1', 'LABEL_0'],
                                                                          ['LABEL_0', 'LABEL_1']]
    for got, want in zip(written, expected):
        assert [item['label'] for item in got] == [item['label'] for item in want]
        assert np.allclose([item['score'] for item in got], [item['score'] for item in want], atol=1e-5)


def test_finetune_starts_from_a_language_model_checkpoint(work, tmp_path):
    """Upstream fine-tunes gpt2_txtcls from the `gpt2` LM weights: every weight but the new `score` head loads."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers.models.build_model import build_network  # pylint: disable=import-outside-toplevel
    from mindformers.tools.checkpoint import read_checkpoint  # pylint: disable=import-outside-toplevel
    from mindformers.tools.register import MindFormerConfig  # pylint: disable=import-outside-toplevel
    previous = ms.get_context('mode')
    try:
        ms.set_context(mode=ms.PYNATIVE_MODE)
        ms.set_seed(3)
        ms.save_checkpoint(build_network(MindFormerConfig(LM_YAML).model), str(tmp_path / 'lm.ckpt'))
    finally:
        ms.set_context(mode=previous)
    result = run_cli(['--config', YAML, '--run_mode', 'finetune', '--train_dataset_dir', work / 'train.mindrecord',
                      '--load_checkpoint', tmp_path / 'lm.ckpt', '--output_dir', tmp_path / 'out',
                      '--runner_config.stop_step', '1'], work)
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "1 network parameters were not in the checkpoint, e.g. ['score.weight']" in log
    lm = read_checkpoint(str(tmp_path / 'lm.ckpt'))
    tuned = read_checkpoint(str(next((tmp_path / 'out' / 'checkpoint' / 'rank_0').glob('*.ckpt'))))
    # warm-up 0, lr 1e-3 for one AdamW step: every LM weight moved by at most ~lr from where it was loaded
    shared = [k for k in lm if k.startswith('model.')]
    assert len(shared) == 36
    assert max(float(np.abs(tuned[k].asnumpy() - lm[k].asnumpy()).max()) for k in shared) < 2e-3
