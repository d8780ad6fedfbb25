"""A run killed with SIGKILL and resumed with --resume_training ends with the same weights as an uninterrupted run."""
import json
import os
import signal
import subprocess
import sys
import time

import mindspore as ms
import numpy as np

from conftest import ROOT, write_yaml, write_mindrecord, counting_rows, run_cli

FINAL = 'tiny_rank_0-2_50.ckpt'  # 200 records / batch 4 = 50 steps per epoch, 2 epochs
TOTAL = 100


def _network_weights(path):
    params = ms.load_checkpoint(str(path))
    return {k: v.asnumpy() for k, v in params.items() if k.startswith(('model.', 'lm_head.'))}


def _assert_same_weights(expected_ckpt, got_ckpt, network_only=True):
    """Every parameter (network only, or also optimizer moments, loss scale, step counters) equal within 1e-6."""
    if network_only:
        expected, got = _network_weights(expected_ckpt), _network_weights(got_ckpt)
    else:
        expected = {k: v.asnumpy() for k, v in ms.load_checkpoint(str(expected_ckpt)).items()}
        got = {k: v.asnumpy() for k, v in ms.load_checkpoint(str(got_ckpt)).items()}
    assert expected.keys() == got.keys() and expected
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=0, atol=1e-6, err_msg=name)


def _run_straight(config, data, tmp_path, extra=()):
    """An uninterrupted run in tmp_path/straight -> its checkpoint folder."""
    straight = tmp_path / 'straight'
    straight.mkdir()
    result = run_cli(['--config', config, '--train_dataset_dir', data] + list(extra), straight)
    assert result.returncode == 0, result.stderr[-2000:]
    return straight / 'output' / 'checkpoint' / 'rank_0'


def _start(config, data, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT, GLOG_v='3')
    return subprocess.Popen([sys.executable, os.path.join(ROOT, 'run_mindformer.py'), '--config', config,
                             '--train_dataset_dir', data], cwd=str(cwd), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_step(meta_path, step, proc, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if meta_path.is_file():
            try:
                if json.loads(meta_path.read_text())['last_step'] >= step:
                    return
            except (ValueError, KeyError):
                pass  # meta.json is replaced atomically, but be robust to a reader race anyway
        assert proc.poll() is None, "training ended before it could be killed"
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint for step {step} within {timeout}s")


def test_resume_after_kill_gives_same_weights(tmp_path):
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(200, 16, 64))
    config = write_yaml(tmp_path / 'tiny.yaml', epochs=2, batch_size=4, save_steps=5, keep_max=100)

    straight = _run_straight(config, data, tmp_path)

    killed = tmp_path / 'killed'
    killed.mkdir()
    proc = _start(config, data, killed)
    meta = killed / 'output' / 'checkpoint' / 'rank_0' / 'meta.json'
    _wait_for_step(meta, 60, proc)  # in the second epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stopped_at = json.loads(meta.read_text())['last_step']
    assert stopped_at < TOTAL, "the run finished before the kill; the test proves nothing"

    resumed = run_cli(['--config', config, '--train_dataset_dir', data, '--resume_training', 'True',
                       '--load_checkpoint', str(killed / 'output' / 'checkpoint')], killed)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f'resuming from global step {stopped_at}' in resumed.stdout
    steps_logged = resumed.stdout.count('{ Epoch:[')
    assert steps_logged == TOTAL - stopped_at

    _assert_same_weights(straight / FINAL, killed / 'output' / 'checkpoint' / 'rank_0' / FINAL)


def test_second_run_into_a_busy_output_dir_stops_and_a_killed_run_leaves_no_stale_lock(tmp_path):
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(400, 16, 64))
    config = write_yaml(tmp_path / 'tiny.yaml', epochs=50, batch_size=4, save_steps=5, keep_max=2)
    first = _start(config, data, tmp_path)
    try:
        _wait_for_step(tmp_path / 'output' / 'checkpoint' / 'rank_0' / 'meta.json', 5, first)
        second = run_cli(['--config', config, '--train_dataset_dir', data], tmp_path)
        assert first.poll() is None, "the first run ended before the second one tried"
        assert second.returncode == 2
        assert second.stderr.strip().splitlines()[-1] == (
            f"run_mindformer.py: error: output_dir {tmp_path / 'output'} is in use by another run (pid {first.pid}) "
            f"writing rank 0; wait for it to finish or give this run its own --output_dir")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    third = run_cli(['--config', config, '--train_dataset_dir', data, '--runner_config.stop_step', '2'], tmp_path)
    assert third.returncode == 0, third.stderr[-2000:]


def _kill_while_writing(folder, proc, timeout=300):
    """SIGKILL `proc` the moment a checkpoint temp file shows up in `folder` (a save is in progress)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if folder.is_dir():
            writing = [n for n in os.listdir(folder) if n.startswith('.tmp_')]
            if writing:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return writing
        assert proc.poll() is None, "training ended before a save could be interrupted"
        time.sleep(0.0005)
    raise AssertionError(f"no checkpoint write seen within {timeout}s")


def test_sigkill_during_a_checkpoint_write_leaves_only_whole_files_and_resume_matches(tmp_path):
    # vocab 8000: 1.5 M floats of weights + Adam state per save, so a write lasts long enough to hit
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(160, 16, 8000))
    config = write_yaml(tmp_path / 'tiny.yaml', epochs=1, batch_size=4, vocab_size=8000, save_steps=4,
                        keep_max=100)
    straight = _run_straight(config, data, tmp_path)

    killed = tmp_path / 'killed'
    killed.mkdir()
    folder = killed / 'output' / 'checkpoint' / 'rank_0'
    proc = _start(config, data, killed)
    # let a few saves complete first, then interrupt the next one
    _wait_for_step(folder / 'meta.json', 12, proc)
    writing = _kill_while_writing(folder, proc)
    complete = sorted(n for n in os.listdir(folder) if n.endswith('.ckpt') and not n.startswith('.'))
    counts = {n: len(ms.load_checkpoint(str(folder / n))) for n in complete}
    assert complete and len(set(counts.values())) == 1, (writing, counts)   # every named file is whole
    meta = json.loads((folder / 'meta.json').read_text())
    assert meta['last_ckpt_file'] in complete
    # the interrupted save is only a hidden temp file, which no checkpoint lookup takes
    from mindformers.tools.checkpoint import list_checkpoints  # pylint: disable=import-outside-toplevel
    assert [os.path.basename(p) for p in list_checkpoints(str(folder))] == complete

    resumed = run_cli(['--config', config, '--train_dataset_dir', data, '--resume_training', 'True',
                       '--load_checkpoint', str(killed / 'output' / 'checkpoint')], killed)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming from global step {meta['last_step']}" in resumed.stdout
    assert not [n for n in os.listdir(folder) if n.startswith('.tmp_')]   # the resumed run cleared the leftover
    final = 'tiny_rank_0-1_40.ckpt'   # 160 rows / batch 4
    _assert_same_weights(straight / final, folder / final)


VARIANT = """base_config: {base}
runner_wrapper:
  type: MFTrainOneStepCell
  use_clip_grad: True
  max_grad_norm: 1.0
  scale_sense:
    type: DynamicLossScaleUpdateCell
    loss_scale_value: 1024
    scale_factor: 2
    scale_window: 3
model:
  model_config:
    pet_config:
      pet_type: lora
      lora_rank: 4
      lora_alpha: 8
      lora_dropout: 0.0
      target_modules: '.*wq|.*wv'
"""
VARIANT_FLAGS = ['--gradient_accumulation_steps', '2', '--runner_config.sink_mode', 'True',
                 '--runner_config.sink_size', '2']


def test_resume_with_accumulation_sink_mode_lora_and_dynamic_loss_scale_matches_in_every_saved_value(tmp_path):
    """LoRA, gradient accumulation 2, sink_mode and a dynamic loss scale together. Stopped at step 5 (a save),
    resumed to the end: every value in the final checkpoint (LoRA and frozen weights, AdamW moments, loss scale and
    its clean-step counter, step counters) equals the uninterrupted run's."""
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(48, 16, 64))
    # batch 2 x accumulation 2: 12 steps
    base = write_yaml(tmp_path / 'tiny.yaml', epochs=1, batch_size=2, save_steps=5, keep_max=10)
    config = str(tmp_path / 'variant.yaml')
    (tmp_path / 'variant.yaml').write_text(VARIANT.format(base=base), encoding='utf-8')
    straight = _run_straight(config, data, tmp_path, VARIANT_FLAGS)

    stopped = tmp_path / 'stopped'
    stopped.mkdir()
    result = run_cli(['--config', config, '--train_dataset_dir', data, '--runner_config.stop_step', '5']
                     + VARIANT_FLAGS, stopped)
    assert result.returncode == 0, result.stderr[-2000:]
    resumed = run_cli(['--config', config, '--train_dataset_dir', data, '--resume_training', 'True',
                       '--load_checkpoint', str(stopped / 'output' / 'checkpoint')] + VARIANT_FLAGS, stopped)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert 'resuming from global step 5' in resumed.stdout
    assert resumed.stdout.count('{ Epoch:[') == 12 - 5
    final = 'tiny_rank_0-1_12.ckpt'
    _assert_same_weights(straight / final, stopped / 'output' / 'checkpoint' / 'rank_0' / final, network_only=False)
    saved = ms.load_checkpoint(str(straight / final))
    assert any('mindpet_delta_lora_a' in name for name in saved)
    # the scale grew at steps 3, 6, 9 and 12: the resumed run carried the clean-step counter over
    assert float(saved['scale_sense'].asnumpy()) == 1024 * 2 ** 4
