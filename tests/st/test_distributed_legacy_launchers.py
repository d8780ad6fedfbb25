"""Legacy rank-table launchers: argument checks, and a clear one-line refusal where Ascend HCCL is missing."""
import os
import subprocess

import pytest

from conftest import ROOT

SCRIPTS = ('run_distribute_single_node.sh', 'run_distribute_multi_node.sh')
ORDER = 'python run_mindformer.py --config configs/llama2/pretrain_llama2_tiny.yaml --run_mode train'


def run_script(name, args, cwd):
    return subprocess.run(['bash', os.path.join(ROOT, 'scripts', name)] + [str(a) for a in args], cwd=str(cwd),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def rank_table(tmp_path):
    path = tmp_path / 'hccl_2p.json'
    path.write_text('{"version": "1.0", "server_count": "1", "server_list": []}')
    return path


@pytest.mark.parametrize('name', SCRIPTS)
@pytest.mark.parametrize('count', [0, 3, 5])
def test_wrong_argument_count_prints_usage_and_exits_1(tmp_path, name, count):
    result = run_script(name, ['x'] * count, tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith(f'Usage: bash {name} [EXECUTE_ORDER] [RANK_TABLE_FILE] [DEVICE_RANGE] [RANK_SIZE]')


@pytest.mark.parametrize('name', SCRIPTS)
@pytest.mark.parametrize('device_range, rank_size, message', [
    ('0,8', 8, 'DEVICE_RANGE=0,8 must look like [START,END]'),
    ('[4,2]', 8, 'DEVICE_RANGE=[4,2] is empty'),
    ('[0,8]', 4, 'holds 8 devices, more than RANK_SIZE=4'),
    ('[0,2]', 'two', 'RANK_SIZE=two is not a positive number'),
])
def test_bad_argument_is_named_in_one_line(tmp_path, rank_table, name, device_range, rank_size, message):
    result = run_script(name, [ORDER, rank_table, device_range, rank_size], tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and message in lines[0]


@pytest.mark.parametrize('name', SCRIPTS)
def test_missing_rank_table_is_named(tmp_path, name):
    result = run_script(name, [ORDER, tmp_path / 'absent.json', '[0,2]', 2], tmp_path)
    assert result.returncode == 1
    assert f'RANK_TABLE_FILE={tmp_path / "absent.json"} does not exist' in result.stderr


@pytest.mark.parametrize('name', SCRIPTS)
def test_without_ascend_hccl_says_so_and_points_to_msrun(tmp_path, rank_table, name):
    result = run_script(name, [ORDER, rank_table, '[0,2]', 2], tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and 'this machine has no Ascend HCCL' in lines[0]
    launcher = os.path.join(ROOT, 'scripts', 'msrun_launcher.sh')
    assert f'bash {launcher} "run_mindformer.py --config configs/llama2/pretrain_llama2_tiny.yaml' in lines[0]
    assert lines[0].endswith('--run_mode train" 2')
    assert not (tmp_path / 'output').exists()  # nothing started
