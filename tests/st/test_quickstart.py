"""The README's first command: the whole demo runs and the fine-tuned model answers held-out questions.

The suite runs it shortened (2,000 instead of 3,000 samples, 1 pre-training and 2 fine-tuning epochs instead of 2 and
4, through the script's QUICKSTART_* knobs): every step and file of the demo is the same, at under half its
cost. The full demo's accuracy (119-120/120) is measured by hand with `make quickstart` and stated in the README."""
import os
import re
import subprocess

from conftest import ROOT


def test_quickstart_demo_learns_heldout_answers(tmp_path):
    env = dict(os.environ, WORK=str(tmp_path / 'demo'), PYTHONPATH=ROOT, QUICKSTART_SAMPLES='2000',
               QUICKSTART_PRETRAIN_EPOCHS='1', QUICKSTART_FINETUNE_EPOCHS='2')
    # ~2.7 min alone on 2 cores (3,000 samples: 3.6 min); longer in `make test`, where the other worker shares them
    result = subprocess.run(['bash', os.path.join(ROOT, 'scripts', 'quickstart', 'run_quickstart.sh')],
                            capture_output=True, text=True, timeout=1500, env=env, cwd=str(tmp_path))
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    assert 'Transformed 2000 records.' in result.stdout
    match = re.search(r'held-out accuracy: (\d+)/(\d+)', result.stdout)
    assert match, result.stdout[-2000:]
    right, total = int(match.group(1)), int(match.group(2))
    # chance is 1 in 8 (15/120); shortened, measured 79/120 on AMD EPYC (AVX2) with 2,000 samples (88 with 3,000;
    # 83 on an AVX-512 Xeon with 3,000). AVX2 machines have learned this demo more slowly, hence the margin
    assert total == 120 and right >= 54
    assert (tmp_path / 'demo' / 'output_finetune' / 'checkpoint' / 'rank_0').is_dir()
