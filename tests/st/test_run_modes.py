"""run_mindformer.py end to end: train, finetune, eval, predict on a tiny LLaMA, as a user types them."""
import ast
import csv
import json
import os

import mindspore as ms
import numpy as np
import pytest

from conftest import write_yaml, write_mindrecord, counting_rows, run_cli, losses


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """One GRAPH_MODE training run shared by the tests that need its outputs."""
    work = tmp_path_factory.mktemp('train')
    data = write_mindrecord(work / 'train.mindrecord', counting_rows(96, 16, 64))
    config = write_yaml(work / 'tiny.yaml', epochs=2, batch_size=8, save_steps=5, keep_max=2)
    result = run_cli(['--config', config, '--run_mode', 'train', '--train_dataset_dir', data], work)
    assert result.returncode == 0, result.stderr[-3000:]
    return work, config, data, result


def test_train_loss_falls_and_logs_upstream_step_lines(trained):
    _, _, _, result = trained
    values = losses(result.stdout)
    assert len(values) == 24  # 96 records / batch 8 = 12 steps x 2 epochs, one line per step
    assert values[-1] < 0.5 * values[0]
    assert 'Epoch:[  2/  2], step:[   12/   12]' in result.stdout
    assert 'per_step_time:' in result.stdout and 'lr: ' in result.stdout and 'global_norm:' in result.stdout
    assert 'samples/s/p' in result.stdout


def test_train_writes_upstream_checkpoint_layout(trained):
    work = trained[0]
    folder = work / 'output' / 'checkpoint' / 'rank_0'
    ckpts = sorted(f for f in os.listdir(folder) if f.endswith('.ckpt'))
    # saved at global steps 5, 10, 15, 20 and at the end (24); keep_checkpoint_max 2 keeps the newest two
    assert ckpts == ['tiny_rank_0-2_12.ckpt', 'tiny_rank_0-2_8.ckpt']
    meta = json.loads((folder / 'meta.json').read_text())
    assert meta == {'last_epoch': 2, 'last_step': 24, 'last_ckpt_file': 'tiny_rank_0-2_12.ckpt'}
    assert (work / 'output' / 'checkpoint_network' / 'rank_0' / 'tiny_rank_0-network.ckpt').is_file()
    params = ms.load_checkpoint(str(folder / 'tiny_rank_0-2_12.ckpt'))
    assert int(params['step_num'].asnumpy()) == 24 and int(params['epoch_num'].asnumpy()) == 2
    assert any(name.startswith('adam_m.') for name in params)  # optimizer state is saved for resume
    assert not [f for f in os.listdir(folder) if f.startswith('.tmp')]
    info_log = (work / 'output' / 'log' / 'rank_0' / 'info.log').read_text()
    assert 'Epoch:[  2/  2]' in info_log


def test_finetune_without_checkpoint_is_one_line_error(trained, tmp_path):
    _, config, data, _ = trained
    result = run_cli(['--config', config, '--run_mode', 'finetune', '--train_dataset_dir', data], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count('\n') == 0
    assert 'finetune needs pretrained weights' in result.stderr


@pytest.mark.parametrize('which', ['file', 'folder'])
def test_finetune_starts_from_loaded_weights(trained, tmp_path, which):
    work, config, data, result = trained
    folder = work / 'output' / 'checkpoint'
    load = str(folder / 'rank_0' / 'tiny_rank_0-2_12.ckpt') if which == 'file' else str(folder)
    tuned = run_cli(['--config', config, '--run_mode', 'finetune', '--train_dataset_dir', data,
                     '--load_checkpoint', load, '--epochs', '1', '--runner_config.stop_step', '2'], tmp_path)
    assert tuned.returncode == 0, tuned.stderr[-2000:]
    first = losses(tuned.stdout)[0]
    trained_last = losses(result.stdout)[-1]
    scratch_first = losses(result.stdout)[0]
    assert first < 0.5 * scratch_first  # far below a random start (ln 64 ~ 4.2)
    assert abs(first - trained_last) < 0.5


def test_eval_prints_perplexity(trained, tmp_path):
    work, config, data, _ = trained
    result = run_cli(['--config', config, '--run_mode', 'eval', '--eval_dataset_dir', data,
                      '--load_checkpoint', str(work / 'output' / 'checkpoint')], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    line = [l for l in result.stdout.splitlines() if 'PerplexityMetric = ' in l][0]
    metric = ast.literal_eval(line.split('PerplexityMetric = ')[1])
    assert set(metric) == {'loss', 'PPL'}
    assert metric['PPL'] == pytest.approx(np.exp(metric['loss']), rel=1e-6)
    assert metric['loss'] < 2.0


def test_pynative_mode_trains(tmp_path):
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(16, 16, 64))
    config = write_yaml(tmp_path / 'tiny.yaml', epochs=1, batch_size=4, save_steps=100)
    result = run_cli(['--config', config, '--mode', '1', '--train_dataset_dir', data], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(losses(result.stdout)) == 4
    assert (tmp_path / 'output' / 'checkpoint' / 'rank_0' / 'tiny_rank_0-1_4.ckpt').is_file()


def test_gradient_accumulation_flag_trains_with_larger_global_batch(tmp_path):
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(16, 16, 64))
    config = write_yaml(tmp_path / 'tiny.yaml', epochs=1, batch_size=2, save_steps=100)
    result = run_cli(['--config', config, '--train_dataset_dir', data, '--gradient_accumulation_steps', '2'], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'global_batch_size = batch_size 2 x gradient_accumulation_steps 2 x data parallel 1 = 4' in result.stdout
    assert len(losses(result.stdout)) == 4  # 16 records / (2 x 2) per step


def test_profile_traces_exactly_the_configured_steps(tmp_path):
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(48, 16, 64))
    config = write_yaml(tmp_path / 'tiny.yaml', epochs=1, batch_size=8, save_steps=100)
    result = run_cli(['--config', config, '--run_mode', 'train', '--train_dataset_dir', data, '--profile', 'True',
                      '--options', 'profile_start_step=2', 'profile_stop_step=4'], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    folder = tmp_path / 'output' / 'profile' / 'rank_0'
    assert f'profiling data of steps 2-4 is in {folder}' in log
    tables = list(folder.glob('*/FRAMEWORK/cpu_op_type_info_0.csv'))
    assert len(tables) == 1, list(folder.rglob('*'))
    with open(tables[0], encoding='utf-8') as stream:
        rows = {row['op_type']: row for row in csv.DictReader(stream)}
    # the trace holds three steps of the train graph: every operator ran 3 x its per-step count
    assert {'MatMul', 'AdamWeightDecay', 'Softmax'} <= set(rows)
    for row in rows.values():
        assert int(row['type_occurrences']) == 3 * int(row['execution_frequency(per-step)']), row
    assert float(rows['MatMul']['total_compute_time']) > 0
    assert len(losses(result.stdout)) == 6           # training itself is unchanged: 48 / 8 steps
