"""Checkpoints save for users who are not root: train, resume and LoRA fine-tune obey file modes.

MindSpore leaves every .ckpt read-only (0400). Root ignores file modes (CAP_DAC_OVERRIDE), so a test run as
root cannot see a bug that only bites ordinary users. These tests run the CLI under
`setpriv --bounding-set -dac_override,-dac_read_search`, which removes those capabilities from the child
process: root then obeys file modes exactly like any user. Run by a normal user, the CLI runs as is.
"""
import os
import shutil
import subprocess
import sys

import mindspore as ms
import pytest

from conftest import ROOT, write_yaml, write_mindrecord, counting_rows

DROP_ROOT_OVERRIDE = ['setpriv', '--bounding-set', '-dac_override,-dac_read_search']


def _user_prefix(probe_dir):
    """The command prefix that makes this process's children obey file modes; skip where none exists."""
    if os.geteuid() != 0:
        return []
    if shutil.which('setpriv') is None:
        pytest.skip("running as root and util-linux `setpriv` is missing: cannot drop CAP_DAC_OVERRIDE")
    probe = probe_dir / 'read_only_probe'
    probe.write_bytes(b'x')
    probe.chmod(0o400)
    check = subprocess.run(DROP_ROOT_OVERRIDE + [sys.executable, '-c', f"open({str(probe)!r}, 'rb+')"],
                           capture_output=True, text=True)
    if 'Operation not permitted' in check.stderr and 'setpriv' in check.stderr:
        pytest.skip(f"this OS does not let setpriv change the bounding set: {check.stderr.strip()}")
    # the probe must fail with EACCES: otherwise the prefix does not make root obey file modes
    assert check.returncode != 0 and 'PermissionError' in check.stderr, check.stderr
    return DROP_ROOT_OVERRIDE


def _run_as_user(prefix, args, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT, GLOG_v='3')
    env.pop('LOG_MF_PATH', None)
    return subprocess.run(prefix + [sys.executable, os.path.join(ROOT, 'run_mindformer.py')] + list(args),
                          cwd=str(cwd), capture_output=True, text=True, timeout=600, env=env)


LORA_YAML = """base_config: {base}
callbacks:
  - type: MFLossMonitor
  - type: CheckpointMonitor
    prefix: tiny_lora
    save_checkpoint_steps: 2
    keep_checkpoint_max: 1
    save_trainable_params: True
model:
  model_config:
    pet_config: {{pet_type: lora, lora_rank: 4, lora_alpha: 8, lora_dropout: 0.0, target_modules: '.*wq|.*wv'}}
"""


def test_train_resume_and_lora_save_checkpoints_without_root_override(tmp_path):
    prefix = _user_prefix(tmp_path)
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(32, 16, 64))
    # 8 steps, a save every 2: read-only files are rotated (keep 2) and the network copy is overwritten
    config = write_yaml(tmp_path / 'tiny.yaml', epochs=1, batch_size=4, save_steps=2, keep_max=2)
    trained = _run_as_user(prefix, ['--config', config, '--train_dataset_dir', data], tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    folder = tmp_path / 'output' / 'checkpoint' / 'rank_0'
    assert sorted(os.listdir(folder)) == ['meta.json', 'tiny_rank_0-1_6.ckpt', 'tiny_rank_0-1_8.ckpt']
    assert len(ms.load_checkpoint(str(folder / 'tiny_rank_0-1_8.ckpt'))) > 10

    resumed = _run_as_user(prefix, ['--config', config, '--train_dataset_dir', data, '--epochs', '2',
                                    '--resume_training', 'True', '--load_checkpoint',
                                    str(tmp_path / 'output' / 'checkpoint')], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resuming from global step 8' in resumed.stdout
    assert 'tiny_rank_0-2_8.ckpt' in os.listdir(folder)

    lora_yaml = tmp_path / 'lora.yaml'
    lora_yaml.write_text(LORA_YAML.format(base=config), encoding='utf-8')
    base = tmp_path / 'output' / 'checkpoint_network' / 'rank_0' / 'tiny_rank_0-network.ckpt'
    tuned = _run_as_user(prefix, ['--config', str(lora_yaml), '--run_mode', 'finetune', '--train_dataset_dir', data,
                                  '--load_checkpoint', str(base), '--output_dir', str(tmp_path / 'lora')], tmp_path)
    assert tuned.returncode == 0, tuned.stderr[-3000:]
    trainable = tmp_path / 'lora' / 'checkpoint_trainable' / 'rank_0' / 'tiny_lora_rank_0-trainable_params.ckpt'
    assert len(ms.load_checkpoint(str(trainable))) == 8


def test_unwritable_checkpoint_folder_is_one_line_naming_the_file_exit_2(tmp_path):
    prefix = _user_prefix(tmp_path)
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(16, 16, 64))
    config = write_yaml(tmp_path / 'tiny.yaml', epochs=1, batch_size=4, save_steps=2, keep_max=2)
    folder = tmp_path / 'output' / 'checkpoint' / 'rank_0'
    folder.mkdir(parents=True)
    folder.chmod(0o500)
    try:
        result = _run_as_user(prefix, ['--config', config, '--train_dataset_dir', data], tmp_path)
    finally:
        folder.chmod(0o700)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == (f"run_mindformer.py: error: cannot write checkpoint {folder}/tiny_rank_0-1_2.ckpt: "
                         f"Permission denied")
    assert 'Traceback' not in result.stderr
    assert os.listdir(folder) == []


def test_unwritable_log_folder_is_one_line_exit_2(tmp_path):
    prefix = _user_prefix(tmp_path)
    config = write_yaml(tmp_path / 'tiny.yaml')
    (tmp_path / 'output').mkdir()
    (tmp_path / 'output').chmod(0o500)
    try:
        result = _run_as_user(prefix, ['--config', config, '--train_dataset_dir', str(tmp_path / 'x.mindrecord')],
                              tmp_path)
    finally:
        (tmp_path / 'output').chmod(0o700)
    assert result.returncode == 2, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"run_mindformer.py: error: cannot write log {tmp_path}/output/log/rank_0/info.log: "
                           f"Permission denied"), last
    assert 'Traceback' not in result.stderr
