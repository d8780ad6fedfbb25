"""A disk that fills up during training, for real: output_dir is a 1.5 MB tmpfs (mounted in a private user and
mount namespace, so no root is needed where the kernel allows it). The run ends with one error line naming
the checkpoint it could not write, exit 2; every checkpoint left on the disk loads and no partial file remains."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, counting_rows, write_mindrecord, write_yaml

CHECK = """
import json, os, sys
import mindspore as ms
folder = os.path.join(sys.argv[1], 'checkpoint', 'rank_0')
names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
report = {'files': names, 'loads': {}}
for name in names:
    if name.endswith('.ckpt'):
        try:
            report['loads'][name] = len(ms.load_checkpoint(os.path.join(folder, name)))
        except Exception as err:  # report whatever MindSpore says about a bad file
            report['loads'][name] = 'error: ' + str(err).splitlines()[0]
print('REPORT ' + json.dumps(report))
"""


def _can_mount_tmpfs(tmp_path):
    if shutil.which('unshare') is None:
        return "util-linux 'unshare' is not installed"
    tmp_path.mkdir()
    probe = subprocess.run(['unshare', '-rm', 'sh', '-c', f'mount -t tmpfs -o size=64k tmpfs {tmp_path}'],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"this kernel refuses a tmpfs in a user namespace ({probe.stderr.strip()})"
    return None


def test_disk_full_during_training_is_one_line_and_leaves_only_loadable_checkpoints(tmp_path):
    reason = _can_mount_tmpfs(tmp_path / 'probe')
    if reason:
        pytest.skip(reason)
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(400, 16, 64))
    config = write_yaml(tmp_path / 'tiny.yaml', epochs=1, batch_size=4, save_steps=5, keep_max=100)
    (tmp_path / 'check.py').write_text(CHECK, encoding='utf-8')
    out = tmp_path / 'full'
    out.mkdir()
    script = (f'mount -t tmpfs -o size=1500k tmpfs {out} || exit 99; '
              f'{sys.executable} {ROOT}/run_mindformer.py --config {config} --train_dataset_dir {data} '
              f'--output_dir {out}; echo "RC $?"; {sys.executable} {tmp_path}/check.py {out}')
    result = subprocess.run(['unshare', '-rm', 'sh', '-c', script], cwd=str(tmp_path), capture_output=True,
                            text=True, timeout=600, check=False, env=dict(os.environ, PYTHONPATH=ROOT, GLOG_v='3'))
    lines = result.stdout.splitlines()
    assert 'RC 2' in lines, result.stdout[-2000:] + result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith('run_mindformer.py: error:')]
    assert len(errors) == 1 and 'No space left on device' in errors[0], result.stderr[-2000:]
    assert errors[0].startswith(f"run_mindformer.py: error: cannot write ") and str(out) in errors[0]
    report = json.loads(next(line for line in lines if line.startswith('REPORT '))[len('REPORT '):])
    checkpoints = [name for name in report['files'] if name.endswith('.ckpt')]
    assert checkpoints, report            # some saves fitted before the disk filled up
    assert not [name for name in report['files'] if name.startswith('.tmp_')], report   # no partial temp file
    counts = set(report['loads'].values())
    assert len(counts) == 1 and isinstance(next(iter(counts)), int), report   # every one loads, complete
