"""The README's first command: the whole demo runs and the fine-tuned model answers held-out questions.

The suite runs it shortened (1 pre-training and 2 fine-tuning epochs instead of 2 and 4, through the script's
QUICKSTART_*_EPOCHS knobs): every step and file of the demo is the same, at about half its cost. The full demo's
accuracy (119-120/120) is measured by hand with `make quickstart` and stated in the README."""
import os
import re
import subprocess

from conftest import ROOT


def test_quickstart_demo_learns_heldout_answers(tmp_path):
    env = dict(os.environ, WORK=str(tmp_path / 'demo'), PYTHONPATH=ROOT, QUICKSTART_PRETRAIN_EPOCHS='1',
               QUICKSTART_FINETUNE_EPOCHS='2')
    # ~3 min alone on 2 cores; ~5 min in `make test`, where the other xdist worker shares the cores
    result = subprocess.run(['bash', os.path.join(ROOT, 'scripts', 'quickstart', 'run_quickstart.sh')],
                            capture_output=True, text=True, timeout=1500, env=env, cwd=str(tmp_path))
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    assert 'Transformed 3000 records.' in result.stdout
    match = re.search(r'held-out accuracy: (\d+)/(\d+)', result.stdout)
    assert match, result.stdout[-2000:]
    right, total = int(match.group(1)), int(match.group(2))
    # chance is 1 in 8 (15/120); shortened, measured 83/120 on Intel Xeon (AVX-512). AVX2 machines learn this demo
    # more slowly (the full demo with 3 fine-tuning epochs: 99 there, 119 on AVX-512), hence the margin
    assert total == 120 and right >= 54
    assert (tmp_path / 'demo' / 'output_finetune' / 'checkpoint' / 'rank_0').is_dir()
