"""The checkpoint split/merge workflow on CPU as a user types it: train the tiny LLaMA, write the strategy files of
data_parallel 2 x model_parallel 2 x pipeline_stage 2 with --only_save_strategy (no training), split the trained
checkpoint with mindformers/tools/transform_ckpt.py and merge it back: bit-identical to what training wrote."""
import os
import shutil

import numpy as np

from conftest import ROOT, write_yaml, write_mindrecord, counting_rows, run_cli, run_script
from test_distributed_msrun import load_params

TOOL = os.path.join(ROOT, 'mindformers', 'tools', 'transform_ckpt.py')


def test_only_save_strategy_then_split_and_merge_a_trained_checkpoint(tmp_path):
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(16, 16, 64))
    config = write_yaml(tmp_path / 'tiny.yaml', epochs=1, batch_size=4)
    trained = run_cli(['--config', config, '--run_mode', 'train', '--train_dataset_dir', data], tmp_path)
    assert trained.returncode == 0, trained.stderr[-2000:]
    checkpoint = tmp_path / 'output' / 'checkpoint' / 'rank_0' / 'tiny_rank_0-1_4.ckpt'

    saved = run_cli(['--config', config, '--run_mode', 'train', '--train_dataset_dir', data, '--only_save_strategy',
                     'True', '--parallel_config.data_parallel', '2', '--parallel_config.model_parallel', '2',
                     '--parallel_config.pipeline_stage', '2', '--parallel_config.micro_batch_num', '2',
                     '--output_dir', 'layout'], tmp_path)
    assert saved.returncode == 0, saved.stderr[-2000:]
    log = saved.stdout + saved.stderr
    assert 'only_save_strategy: wrote 8 strategy file(s) for data_parallel 2 x model_parallel 2 x pipeline_stage 2' \
        in log
    assert 'Training Over' not in log and not (tmp_path / 'layout' / 'checkpoint').exists()
    assert sorted(os.listdir(tmp_path / 'layout' / 'strategy')) == [f'ckpt_strategy_rank_{i}.ckpt' for i in range(8)]

    os.makedirs(tmp_path / 'complete' / 'rank_0')
    shutil.copy(checkpoint, tmp_path / 'complete' / 'rank_0')
    split = run_script(TOOL, ['--src_ckpt_strategy', 'None', '--dst_ckpt_strategy', 'layout/strategy',
                              '--src_ckpt_dir', 'complete', '--dst_ckpt_dir', 'sharded', '--prefix', 'tiny_'], tmp_path)
    assert split.returncode == 0, split.stderr[-2000:]
    assert '......Transform succeed!......' in split.stdout
    full = load_params(checkpoint)
    for rank, layer in ((1, 0), (7, 1)):                           # stage 0 holds layer 0, stage 1 layer 1
        shard = load_params(tmp_path / 'sharded' / f'rank_{rank}' / f'tiny_{rank}.ckpt')
        name = f'model.layers.{layer}.feed_forward.w2.weight'      # row parallel: columns split 2 ways
        np.testing.assert_array_equal(shard[name], full[name][:, full[name].shape[1] // 2:])
        assert f'model.layers.{1 - layer}.feed_forward.w2.weight' not in shard
    merged = run_script(TOOL, ['--src_ckpt_strategy', 'layout/strategy', '--dst_ckpt_strategy', '',
                               '--src_ckpt_dir', 'sharded', '--dst_ckpt_dir', 'merged'], tmp_path)
    assert merged.returncode == 0, merged.stderr[-2000:]
    back = load_params(tmp_path / 'merged' / 'rank_0' / 'checkpoint_0.ckpt')
    assert set(back) == set(full)
    for key, value in full.items():                                # weights, optimizer moments, step counters
        np.testing.assert_array_equal(back[key], value, err_msg=key)
