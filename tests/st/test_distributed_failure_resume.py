"""A killed worker fails the whole msrun job quickly, naming the rank; resume restarts every rank from one step."""
import json
import os
import re
import signal
import subprocess
import time

import numpy as np

import pytest

from conftest import write_yaml, write_mindrecord, counting_rows
from mindformers.tools.errors import ConfigError
from mindformers.trainer.utils import get_common_resume_checkpoint
from test_distributed_msrun import LAUNCHER, NO_SHUFFLE, free_port, load_params, train_order


def _meta(work, rank):
    path = work / 'output' / 'checkpoint' / f'rank_{rank}' / 'meta.json'
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _wait(condition, process, timeout):
    """Poll `condition` until it holds, `process` ended, or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    return None


def _worker_pid(work, rank):
    log = work / 'output' / 'msrun_log' / f'worker_{rank}.log'
    if not log.is_file():
        return None
    match = re.search(rf'rank {rank} of 2 started, pid (\d+)', log.read_text(errors='replace'))
    return int(match.group(1)) if match else None


@pytest.mark.serial   # asserts the job fails within CLUSTER_TIME_OUT + 10 s: run it on a quiet machine
def test_killed_worker_fails_job_fast_then_resume_restarts_all_ranks_from_common_step(tmp_path):
    """CLUSTER_TIME_OUT 15: msrun stops the other worker at once, its scheduler gives up after the time-out
    (the launcher sets MS_NODE_TIMEOUT to it), so the job ends within 15 + 10 s of the kill."""
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(64, 16, 64))
    config = write_yaml(tmp_path / 'tiny.yaml', epochs=5, batch_size=2, save_steps=4, keep_max=3, extra=NO_SHUFFLE)
    env = dict(os.environ, GLOG_v='3')
    env.pop('LOG_MF_PATH', None)
    env.pop('MS_NODE_TIMEOUT', None)
    job = subprocess.Popen(['bash', LAUNCHER, train_order(config, data), '2', str(free_port()), 'output/msrun_log',
                            'True', '15'], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        assert _wait(lambda: (_meta(tmp_path, 1) or {}).get('last_step', 0) >= 8, job, 240), 'no checkpoint saved'
        pid = _worker_pid(tmp_path, 1)
        assert pid is not None
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        output = job.communicate(timeout=120)[0]
    finally:
        if job.poll() is None:
            job.kill()
    failed_after = time.monotonic() - killed_at
    assert failed_after < 15 + 10, f"the job took {failed_after:.1f} s to fail (CLUSTER_TIME_OUT 15 + 10 s)"
    assert job.returncode != 0
    assert f'error: rank 1 (pid {pid}, log output/msrun_log/worker_1.log) was killed by signal 9' in output
    assert 'run_mindformer.py: error: distributed job failed: ' in output and 'could not start' not in output
    assert 'Training Over' not in (tmp_path / 'output' / 'msrun_log' / 'worker_0.log').read_text()

    # make the ranks disagree, as when a rank dies between two saves: rank 1 lost its newest checkpoint
    folders = [tmp_path / 'output' / 'checkpoint' / f'rank_{rank}' for rank in (0, 1)]
    newest = _meta(tmp_path, 1)['last_ckpt_file']
    os.remove(folders[1] / newest)
    kept = sorted((p.name for p in folders[1].glob('*.ckpt')),
                  key=lambda name: [int(x) for x in re.findall(r'\d+', name)[-2:]])  # by (epoch, step)
    (folders[1] / 'meta.json').write_text(json.dumps({'last_epoch': 1, 'last_step': 0, 'last_ckpt_file': kept[-1]}))
    common = kept[-1].replace('rank_1', 'rank_0')
    assert (folders[0] / common).is_file()
    epoch, step_in_epoch = (int(x) for x in re.search(r'-(\d+)_(\d+)\.ckpt$', common).groups())
    common_step = (epoch - 1) * 16 + step_in_epoch  # 32 records per rank / batch 2 = 16 steps per epoch

    resume = subprocess.run(['bash', LAUNCHER, train_order(config, data, ['--resume_training', 'True',
                                                                          '--load_checkpoint', 'output/checkpoint']),
                             '2', str(free_port()), 'output/msrun_log_resume', 'True', '60'], cwd=str(tmp_path),
                            env=env, capture_output=True, text=True, timeout=300)
    assert resume.returncode == 0, resume.stdout[-3000:]
    for rank in (0, 1):
        log = (tmp_path / 'output' / 'msrun_log_resume' / f'worker_{rank}.log').read_text()
        assert f"rank_{rank}-{epoch}_{step_in_epoch}.ckpt" in log.split('loading checkpoint', 1)[1].splitlines()[0]
        assert f'resuming from global step {common_step} ' in log
        assert 'Training Over' in log
    final = [load_params(folder / f'tiny_rank_{rank}-5_16.ckpt') for rank, folder in enumerate(folders)]
    for name in final[0]:
        np.testing.assert_array_equal(final[0][name], final[1][name], err_msg=name)


def _fake_rank(folder, rank, names, last):
    folder.mkdir(parents=True)
    for name in names:
        (folder / name.format(rank=rank)).write_bytes(b'')
    (folder / 'meta.json').write_text(json.dumps({'last_epoch': 1, 'last_step': 0,
                                                  'last_ckpt_file': last.format(rank=rank)}))


def test_common_resume_checkpoint_is_newest_step_all_ranks_hold_up_to_the_slowest_meta(tmp_path):
    _fake_rank(tmp_path / 'rank_0', 0, ['m_rank_{rank}-1_4.ckpt', 'm_rank_{rank}-1_8.ckpt', 'm_rank_{rank}-2_4.ckpt'],
               'm_rank_{rank}-2_4.ckpt')
    _fake_rank(tmp_path / 'rank_1', 1, ['m_rank_{rank}-1_4.ckpt', 'm_rank_{rank}-1_8.ckpt'], 'm_rank_{rank}-1_8.ckpt')
    _fake_rank(tmp_path / 'rank_2', 2, ['m_rank_{rank}-1_8.ckpt', 'm_rank_{rank}-2_4.ckpt', 'm_rank_{rank}-1_4.ckpt'],
               'm_rank_{rank}-2_4.ckpt')
    assert get_common_resume_checkpoint(str(tmp_path), 3) == 'm_rank_0-1_8.ckpt'
    assert get_common_resume_checkpoint(str(tmp_path), 4) is None  # rank_3 has no meta.json: fall back
    (tmp_path / 'rank_1' / 'm_rank_1-1_4.ckpt').unlink()
    (tmp_path / 'rank_2' / 'm_rank_2-1_8.ckpt').unlink()
    with pytest.raises(ConfigError, match='no checkpoint step up to epoch 1 step 8 is saved by all 3 ranks'):
        get_common_resume_checkpoint(str(tmp_path), 3)
