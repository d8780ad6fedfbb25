"""research/qwen2_5 as an externally registered model: nothing of it is known until --register_path names the
folder; its tokenizer matches transformers' Qwen2 tokenizer; its data tools and YAMLs run from the CLI."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SHARED, losses, run_cli, run_script

RESEARCH = os.path.join(ROOT, 'research', 'qwen2_5')
QWEN2_TOKENIZER = os.path.join(SHARED, 'data', 'tokenizers', 'qwen2')
AUSTEN = os.path.join(SHARED, 'data', 'text', 'austen', 'emma.txt')


@pytest.fixture(name='vocab', scope='module')
def fixture_vocab(tmp_path_factory):
    """vocab.json + merges.txt of the real Qwen2 tokenizer (../shared holds it as a tokenizer.json)."""
    if not os.path.isdir(QWEN2_TOKENIZER):
        pytest.skip(f"the real Qwen2 tokenizer (../shared/data/tokenizers/qwen2) is not at {QWEN2_TOKENIZER}")
    from mindformers import BPETokenizer  # pylint: disable=import-outside-toplevel
    folder = tmp_path_factory.mktemp('qwen2_vocab')
    BPETokenizer.from_pretrained(QWEN2_TOKENIZER).save_vocabulary(str(folder))
    return folder


def test_import_mindformers_does_not_register_the_research_classes():
    probe = ("import mindformers\nfrom mindformers.tools.register import MindFormerRegister as R\n"
             "print(R.is_exist('tokenizer', 'Qwen2Tokenizer'), R.is_exist('processor', 'Qwen2Processor'))")
    result = subprocess.run([sys.executable, '-c', probe], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=ROOT, GLOG_v='3'))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == 'False False'


def test_research_yaml_without_register_path_says_which_flag_to_add(tmp_path):
    result = run_cli(['--config', 'research/qwen2_5/predict_qwen2_5_tiny.yaml', '--run_mode', 'predict',
                      '--predict_data', 'hi'], ROOT)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "run_mindformer.py: error: processor.tokenizer.auto_register names qwen2_5_tokenizer.Qwen2Tokenizer, a class "
        "from a research folder that is not registered; add --register_path research/qwen2_5 (the folder that holds "
        "qwen2_5_tokenizer.py)"]


def test_wrong_register_path_is_one_line(tmp_path):
    config = os.path.join(RESEARCH, 'predict_qwen2_5_tiny.yaml')
    missing = run_cli(['--register_path', str(tmp_path / 'nowhere'), '--config', config], tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [f"run_mindformer.py: error: --register_path not found: "
                                                   f"{tmp_path / 'nowhere'}"]
    (tmp_path / 'empty').mkdir()
    empty = run_cli(['--register_path', str(tmp_path / 'empty'), '--config', config], tmp_path)
    assert empty.returncode == 2
    assert empty.stderr.strip().splitlines() == [f"run_mindformer.py: error: --register_path {tmp_path / 'empty'} "
                                                 f"registers nothing: it holds no Python module (.py file)"]
    (tmp_path / 'other').mkdir()
    (tmp_path / 'other' / 'unrelated.py').write_text('X = 1\n')
    other = run_cli(['--register_path', str(tmp_path / 'other'), '--config', config], tmp_path)
    assert other.returncode == 2
    assert other.stderr.strip().splitlines() == [
        f"run_mindformer.py: error: processor.tokenizer.auto_register: qwen2_5_tokenizer.Qwen2Tokenizer needs "
        f"{tmp_path / 'other' / 'qwen2_5_tokenizer.py'}, which --register_path {tmp_path / 'other'} does not hold"]


def test_qwen2_tokenizer_ids_equal_transformers_on_real_lines(vocab):
    transformers = pytest.importorskip('transformers', reason='needs transformers 4.x (pip install -e .[test])')
    sys.path.insert(0, RESEARCH)
    try:
        from qwen2_5_tokenizer import Qwen2Tokenizer  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.remove(RESEARCH)
    ours = Qwen2Tokenizer(vocab_file=str(vocab / 'vocab.json'), merges_file=str(vocab / 'merges.txt'))
    reference = transformers.AutoTokenizer.from_pretrained(QWEN2_TOKENIZER)
    assert ours.convert_tokens_to_ids(['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|file_sep|>']) == \
        [151643, 151644, 151645, 151664]
    with open(AUSTEN, encoding='utf-8') as stream:
        lines = [l for l in stream.read().split('\n') if l.strip()][:200]
    lines += ["<|im_start|>user\nWhat is 12345 + 678?<|im_end|>\n<|im_start|>assistant\n", "Ａｂｃ é ﬁ\n\n  x",
              "naïve café — “quotes” 1,000.5 ok?! 日本語"]
    for line in lines:
        ids = ours.encode(line)
        assert ids == reference.encode(line, add_special_tokens=False), line
        assert ours.decode(ids) == reference.decode(ids)


@pytest.fixture(name='qa_records', scope='module')
def fixture_qa_records(vocab, tmp_path_factory):
    if not os.path.isfile(AUSTEN):
        pytest.skip(f"the Austen texts (../shared/data/text/austen) are not at {AUSTEN}")
    work = tmp_path_factory.mktemp('qwen2_5_data')
    with open(AUSTEN, encoding='utf-8') as stream:
        lines = [l for l in stream.read().split('\n') if l.strip()][:120]
    alpaca = [{'instruction': 'Repeat the line.', 'input': line[:20] if i % 2 else '', 'output': line}
              for i, line in enumerate(lines)]
    (work / 'alpaca.json').write_text(json.dumps(alpaca), encoding='utf-8')
    converted = run_script(os.path.join(RESEARCH, 'alpaca_converter.py'), ['--data_path', work / 'alpaca.json',
                                                                          '--output_path', work / 'messages.json'], work)
    assert converted.returncode == 0, converted.stderr[-2000:]
    made = run_script(os.path.join(RESEARCH, 'qwen2_5_preprocess.py'),
                      ['--dataset_type', 'qa', '--input_glob', work / 'messages.json', '--vocab_file', vocab / 'vocab.json',
                       '--merges_file', vocab / 'merges.txt', '--seq_length', 64, '--output_file', work / 'qa.mindrecord'],
                      work)
    assert made.returncode == 0, made.stderr[-2000:]
    return work, lines


def test_preprocess_qa_writes_chatml_rows_with_targets_and_mask(qa_records, vocab):
    work, lines = qa_records
    first = json.loads((work / 'messages.json').read_text(encoding='utf-8').splitlines()[0])
    assert first == {'type': 'chatml', 'messages': [{'role': 'system', 'content': 'You are a helpful assistant.'},
                                                    {'role': 'user', 'content': 'Repeat the line.'},
                                                    {'role': 'assistant', 'content': lines[0]}]}
    import mindspore.dataset as ds  # pylint: disable=import-outside-toplevel
    rows = list(ds.MindDataset(str(work / 'qa.mindrecord'), shuffle=False).create_dict_iterator(output_numpy=True))
    assert len(rows) == len(lines)
    row = rows[0]
    assert {k: (v.shape, v.dtype) for k, v in row.items()} == {k: ((65,), np.int32) for k in
                                                                ('input_ids', 'target_ids', 'attention_mask')}
    np.testing.assert_array_equal(row['target_ids'], row['input_ids'])
    np.testing.assert_array_equal(row['attention_mask'], (row['input_ids'] != 151643).astype(np.int32))
    assert row['input_ids'][0] == 151644 and row['input_ids'][-1] == 151643  # <|im_start|> ... padding


def test_upstream_commands_train_and_predict_the_tiny_qwen2_5(qa_records, vocab):
    work, _ = qa_records
    common = ['--register_path', 'research/qwen2_5']
    trained = run_cli(common + ['--config', 'research/qwen2_5/finetune_qwen2_5_tiny.yaml', '--run_mode', 'train',
                                '--train_dataset_dir', str(work / 'qa.mindrecord'),
                                '--output_dir', str(work / 'output'), '--model.model_config.seq_length', '64',
                                '--runner_config.stop_step', '12'], ROOT)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert f"registered Qwen2Tokenizer (tokenizer) from {os.path.join(RESEARCH, 'qwen2_5_tokenizer.py')}" \
        in trained.stdout
    values = losses(trained.stdout)
    assert len(values) == 12 and values[0] > 11.0 and np.mean(values[-3:]) < values[0] - 0.5
    checkpoint = work / 'output' / 'checkpoint_network' / 'rank_0' / 'qwen2_rank_0-network.ckpt'
    predicted = run_cli(common + ['--config', 'research/qwen2_5/predict_qwen2_5_tiny.yaml', '--run_mode', 'predict',
                                  '--load_checkpoint', str(checkpoint), '--predict_data', 'Repeat the line.',
                                  '--model.model_config.seq_length', '64',
                                  '--processor.tokenizer.vocab_file', str(vocab / 'vocab.json'),
                                  '--processor.tokenizer.merges_file', str(vocab / 'merges.txt')], work)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    result = (work / 'text_generation_result.txt').read_text(encoding='utf-8')
    assert result.startswith("[{'text_generation_text': ['Repeat the line.")
