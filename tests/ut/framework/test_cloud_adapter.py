"""Upstream's ModelArts adapters off ModelArts: local copies work (folders, files, retries), OBS paths are refused
in one line, Obs2Local copies once per node behind a lock file, Local2ObsMonitor uploads at its step/epoch
frequencies during a real training loop, and cloud_monitor turns sys.exit(0) into 0 and uploads the output at the
end; ActionDict parses upstream's KEY=VALUE options."""
import argparse
import os

import numpy as np
import pytest
from mindspore import nn, Model
from mindspore.dataset import NumpySlicesDataset

from mindformers import ActionDict, Local2ObsMonitor, Obs2Local, cloud_monitor, mox_adapter
from mindformers.tools.errors import ConfigError, NotAvailableError


def _tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


def test_mox_adapter_copies_local_folders_and_files_and_refuses_obs_off_modelarts(tmp_path):
    (tmp_path / 'src' / 'sub').mkdir(parents=True)
    (tmp_path / 'src' / 'sub' / 'a.txt').write_text('x')
    assert mox_adapter(str(tmp_path / 'src'), str(tmp_path / 'dst'), retry_time=0)
    assert _tree(tmp_path / 'dst') == ['sub/a.txt'] and (tmp_path / 'dst' / 'sub' / 'a.txt').read_text() == 'x'
    assert not mox_adapter(str(tmp_path / 'missing'), str(tmp_path / 'dst2'), retry=1, retry_time=0)
    with pytest.raises(NotAvailableError, match=r"^copying .* -> obs://bucket/x needs ModelArts' moxing package"):
        mox_adapter(str(tmp_path / 'src'), 'obs://bucket/x', retry_time=0)
    with pytest.raises(NotAvailableError, match=r"^Local2ObsMonitor: uploading to obs://bucket/y needs a ModelArts"):
        Local2ObsMonitor(str(tmp_path / 'src'), 'obs://bucket/y')


def test_obs2local_copies_on_the_node_rank_and_leaves_a_lock(tmp_path):
    (tmp_path / 'bucket' / 'data').mkdir(parents=True)
    (tmp_path / 'bucket' / 'data' / 'train.txt').write_text('rows')
    target = Obs2Local(rank_id=0, retry_time=0).obs2local(str(tmp_path / 'bucket' / 'data'), str(tmp_path / 'cache'))
    assert target == str(tmp_path / 'cache' / 'data') and _tree(target) == ['train.txt']
    assert (tmp_path / 'cache' / 'mox_copy_data.lock').exists()
    # another rank of the node finds the lock and only returns the path
    assert Obs2Local(rank_id=3).obs2local(str(tmp_path / 'bucket' / 'data'), str(tmp_path / 'cache')) == target
    with pytest.raises(ConfigError, match=r"^Obs2Local: special_id must be an int"):
        Obs2Local().obs2local('a', str(tmp_path), special_id='0')


def test_local2obs_monitor_uploads_every_n_steps_of_a_training_loop(tmp_path):
    src = tmp_path / 'output'
    src.mkdir()
    (src / 'log.txt').write_text('step')
    monitor = Local2ObsMonitor(str(src), str(tmp_path / 'remote'), step_upload_frequence=2, epoch_upload_frequence=-1,
                               retry_time=0)
    net = nn.WithLossCell(nn.Dense(2, 1), nn.MSELoss())
    model = Model(nn.TrainOneStepCell(net, nn.SGD(net.trainable_params(), 0.01)))
    data = NumpySlicesDataset((np.ones((6, 2), np.float32), np.ones((6, 1), np.float32)), ['x', 'y'],
                              shuffle=False).batch(1)
    model.train(1, data, callbacks=[monitor], dataset_sink_mode=False)
    assert monitor.uploads == 3 and _tree(tmp_path / 'remote') == ['log.txt']
    with pytest.raises(ConfigError, match=r"^Local2ObsMonitor: step_upload_frequence must be a positive integer"):
        Local2ObsMonitor(str(src), str(tmp_path / 'r2'), step_upload_frequence=0)


def test_cloud_monitor_returns_0_for_a_clean_exit_and_uploads_the_output(tmp_path, monkeypatch):
    monkeypatch.setenv('LOCAL_DEFAULT_PATH', str(tmp_path / 'output'))
    monkeypatch.setenv('REMOTE_SAVE_URL', str(tmp_path / 'remote'))
    (tmp_path / 'output').mkdir()
    (tmp_path / 'output' / 'result.txt').write_text('done')

    @cloud_monitor()
    def main(code):
        raise SystemExit(code)
    assert main(0) == 0
    assert _tree(tmp_path / 'remote') == ['result.txt']
    with pytest.raises(SystemExit):
        main(2)

    @cloud_monitor()
    def fails():
        raise ValueError('bad')
    with pytest.raises(ValueError, match='bad'):
        fails()


def test_action_dict_parses_key_value_options():
    parser = argparse.ArgumentParser()
    parser.add_argument('--options', nargs='+', action=ActionDict)
    args = parser.parse_args(['--options', 'a=0.5', 'b=[1,[1,2],(1,2,3)]', 'c=abc', 'd=1,2,3'])
    assert args.options == {'a': 0.5, 'b': [1, [1, 2], (1, 2, 3)], 'c': 'abc', 'd': [1, 2, 3]}
