"""run_mindformer.py --run_mode predict, and bad input: one line on stderr, exit code 2, nothing half-written."""
import ast
import os
import sys

import pytest

from conftest import ROOT, write_yaml, write_mindrecord, counting_rows, run_cli

sys.path.insert(0, os.path.join(ROOT, 'scripts', 'quickstart'))
from train_tokenizer import train_tokenizer  # noqa: E402  pylint: disable=wrong-import-position

VOCAB = 320
WORDS = ("the cat sat on the mat and the dog ran to the park while a bird sang in the tall green tree "
         "one two three four five six seven eight nine ten").split()


@pytest.fixture(scope='module')
def tokenizer_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp('tok')
    corpus = folder / 'corpus.txt'
    lines = [' '.join(WORDS[(i + j) % len(WORDS)] for j in range(12)) for i in range(400)]
    corpus.write_text('\n'.join(lines) + '\n')
    return train_tokenizer(str(corpus), str(folder / 'tokenizer'), vocab_size=VOCAB)


def _predict_yaml(path, tokenizer_path, extra=''):
    return write_yaml(path, vocab_size=VOCAB, seq_length=32, extra=extra + f"""processor:
  tokenizer:
    type: LlamaTokenizer
    vocab_file: {tokenizer_path}
""")


def test_predict_text_writes_result_file_and_is_deterministic(tmp_path, tokenizer_model):
    config = _predict_yaml(tmp_path / 'p.yaml', tokenizer_model)
    args = ['--config', config, '--run_mode', 'predict', '--predict_data', 'the cat sat on',
            '--model.model_config.max_decode_length', '20']
    first = run_cli(args, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert 'output result is:' in first.stdout and 'generate speed:' in first.stdout
    result = ast.literal_eval((tmp_path / 'text_generation_result.txt').read_text())
    assert len(result) == 1 and list(result[0]) == ['text_generation_text']
    text = result[0]['text_generation_text'][0]
    assert text.startswith('the cat sat on')
    second = run_cli(args, tmp_path)
    assert ast.literal_eval((tmp_path / 'text_generation_result.txt').read_text())[0]['text_generation_text'][0] == text


def test_predict_txt_file_batches_prompts_and_samples(tmp_path, tokenizer_model):
    config = _predict_yaml(tmp_path / 'p.yaml', tokenizer_model)
    prompts = tmp_path / 'prompts.txt'
    prompts.write_text('the cat\na bird sang\n\none two\n')
    result = run_cli(['--config', config, '--run_mode', 'predict', '--predict_data', str(prompts),
                      '--predict_batch_size', '2', '--do_sample', 'True', '--model.model_config.top_k', '5',
                      '--model.model_config.max_decode_length', '16'], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    batches = ast.literal_eval((tmp_path / 'text_generation_result.txt').read_text())
    assert [len(b['text_generation_text']) for b in batches] == [2, 1]
    texts = [t for b in batches for t in b['text_generation_text']]
    assert texts[0].startswith('the cat') and texts[1].startswith('a bird sang') and texts[2].startswith('one two')


def _assert_one_line_error(result, *fragments):
    assert result.returncode == 2, (result.stdout[-1500:], result.stderr[-1500:])
    lines = [l for l in result.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith('run_mindformer.py: error:')
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert 'Traceback' not in result.stderr


@pytest.fixture
def tiny(tmp_path):
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(16, 16, 64))
    return tmp_path, write_yaml(tmp_path / 'tiny.yaml', epochs=1, batch_size=4, save_steps=100), data


def test_missing_dataset_path(tiny):
    work, config, _ = tiny
    _assert_one_line_error(run_cli(['--config', config, '--train_dataset_dir', str(work / 'nope')], work),
                           'dataset path does not exist', 'nope')


def test_dataset_that_is_not_mindrecord(tiny):
    work, config, _ = tiny
    fake = work / 'data.mindrecord'
    fake.write_text('hello')
    _assert_one_line_error(run_cli(['--config', config, '--train_dataset_dir', str(fake)], work),
                           'not a MindRecord file')


def test_mindrecord_columns_do_not_match(tiny):
    work, config, _ = tiny
    other = write_mindrecord(work / 'other.mindrecord', [{'tokens': r} for r in counting_rows(8, 16, 64)],
                             columns=('tokens',))
    _assert_one_line_error(run_cli(['--config', config, '--train_dataset_dir', other], work),
                           "columns ['tokens']", "missing ['input_ids']")


def test_seq_length_longer_than_record(tiny):
    work, config, data = tiny
    _assert_one_line_error(run_cli(['--config', config, '--train_dataset_dir', data,
                                    '--model.model_config.seq_length', '32'], work),
                           'records hold 17 tokens', 'seq_length 32')


def test_batch_size_larger_than_dataset(tiny):
    work, config, data = tiny
    _assert_one_line_error(run_cli(['--config', config, '--train_dataset_dir', data, '--batch_size', '64'], work),
                           'batch_size 64 is larger than the 16 records')


def test_checkpoint_path_missing(tiny):
    work, config, data = tiny
    _assert_one_line_error(run_cli(['--config', config, '--run_mode', 'finetune', '--train_dataset_dir', data,
                                    '--load_checkpoint', str(work / 'missing.ckpt')], work),
                           'load_checkpoint path does not exist')


def test_checkpoint_shape_mismatch_names_parameter(tiny):
    work, config, data = tiny
    assert run_cli(['--config', config, '--train_dataset_dir', data], work).returncode == 0
    ckpt = work / 'output' / 'checkpoint' / 'rank_0' / 'tiny_rank_0-1_4.ckpt'
    result = run_cli(['--config', config, '--run_mode', 'eval', '--eval_dataset_dir', data, '--load_checkpoint',
                      str(ckpt), '--model.model_config.hidden_size', '64'], work)
    _assert_one_line_error(result, "parameter 'model.tok_embeddings.embedding_weight'", '(64, 32)', '(64, 64)')


def test_corrupted_checkpoint(tiny):
    work, config, data = tiny
    bad = work / 'bad.ckpt'
    bad.write_bytes(b'\x00' * 100)
    _assert_one_line_error(run_cli(['--config', config, '--run_mode', 'eval', '--eval_dataset_dir', data,
                                    '--load_checkpoint', str(bad)], work), 'cannot read checkpoint')


def test_tokenizer_file_missing(tiny):
    work, config, _ = tiny
    result = run_cli(['--config', config, '--run_mode', 'predict', '--predict_data', 'hello',
                      '--processor.tokenizer.vocab_file', str(work / 'no_tokenizer.model')], work)
    _assert_one_line_error(result, 'no_tokenizer.model')


def test_model_parallel_on_cpu_stops_before_compile(tiny):
    work, config, data = tiny
    # (stand-alone, use_parallel False, model_parallel only warns: nothing is sharded there)
    _assert_one_line_error(run_cli(['--config', config, '--train_dataset_dir', data, '--use_parallel', 'True',
                                    '--parallel_config.model_parallel', '2'], work), 'model_parallel=2',
                           'set both to 1')


def test_predict_with_the_yaml_kv_cache_matches_the_request_sized_one(tmp_path, tokenizer_model):
    """use_past True: the model's own cache (batch 3 x seq_length); False: generate's default, a cache sized from
    the request (both equal full recompute: tests/ut/generation/test_incremental_generation.py)."""
    config = _predict_yaml(tmp_path / 'p.yaml', tokenizer_model)
    prompts = tmp_path / 'prompts.txt'
    prompts.write_text('the cat sat\na bird\none two three four\n')
    outputs = {}
    for use_past in ('False', 'True'):
        result = run_cli(['--config', config, '--run_mode', 'predict', '--predict_data', str(prompts),
                          '--predict_batch_size', '3', '--model.model_config.use_past', use_past,
                          '--model.model_config.max_decode_length', '24'], tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        assert 'generate speed:' in result.stdout
        outputs[use_past] = ast.literal_eval((tmp_path / 'text_generation_result.txt').read_text())
    assert outputs['True'] == outputs['False']
    assert len(outputs['True'][0]['text_generation_text']) == 3
