"""tools/checkpoint.py: unreadable files are CheckpointErrors, shape mismatches name the parameter, atomic save."""
import os

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn, Tensor

from mindformers.tools.checkpoint import load_param_dict, read_checkpoint, save_checkpoint_atomic
from mindformers.tools.errors import CheckpointError


pytestmark = pytest.mark.usefixtures("pynative")


class TwoLayers(nn.Cell):
    def __init__(self, hidden=16):
        super().__init__()
        self.first = nn.Dense(8, hidden)
        self.second = nn.Dense(hidden, 4)

    def construct(self, x):
        return self.second(self.first(x))


@pytest.mark.parametrize("fmt", ["ckpt", "safetensors"])
def test_save_then_read_round_trips_every_parameter(tmp_path, fmt):
    net = TwoLayers()
    path = save_checkpoint_atomic(net, str(tmp_path / f"model.{fmt}"), fmt=fmt)
    params = read_checkpoint(path)
    assert set(params) == {p.name for p in net.get_parameters()}
    for param in net.get_parameters():
        np.testing.assert_array_equal(params[param.name].asnumpy(), param.asnumpy())
    assert os.listdir(tmp_path) == [f"model.{fmt}"]  # no temporary file left


def test_save_creates_missing_folders_and_stores_append_dict(tmp_path):
    path = str(tmp_path / "a" / "b" / "model.ckpt")
    save_checkpoint_atomic(TwoLayers(), path, append_dict={'step_num': 7})
    assert read_checkpoint(path)['step_num'].asnumpy().item() == 7


@pytest.mark.parametrize("fmt", ["ckpt", "safetensors"])
def test_read_truncated_checkpoint_is_a_checkpoint_error_naming_the_file(tmp_path, fmt):
    full = save_checkpoint_atomic(TwoLayers(), str(tmp_path / f"full.{fmt}"), fmt=fmt)
    data = open(full, 'rb').read()  # pylint: disable=consider-using-with
    truncated = tmp_path / f"truncated.{fmt}"
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match=r"truncated\." + fmt):
        read_checkpoint(str(truncated))


@pytest.mark.parametrize("content", [b"", b"this is not a checkpoint at all"])
def test_read_garbage_or_empty_file_is_a_checkpoint_error(tmp_path, content):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="bad.ckpt"):
        read_checkpoint(str(path))


def test_read_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(str(tmp_path / "absent.ckpt"))


def test_load_param_dict_copies_values_and_reports_missing_names_when_partial_is_allowed():
    source, target = TwoLayers(), TwoLayers()
    params = {p.name: p for p in source.get_parameters() if p.name != 'second.bias'}
    missing = load_param_dict(target, params, allow_partial=True)
    assert missing == ['second.bias']
    np.testing.assert_array_equal(target.first.weight.asnumpy(), source.first.weight.asnumpy())
    np.testing.assert_array_equal(target.second.weight.asnumpy(), source.second.weight.asnumpy())
    assert load_param_dict(TwoLayers(), params, optional_keys=('second.bias',)) == ['second.bias']


def test_checkpoint_lacking_parameters_is_refused_naming_file_and_names():
    """A file cut at a record boundary (or another model's checkpoint) loads some names only: refused."""
    source, target = TwoLayers(), TwoLayers()
    before = target.first.weight.asnumpy().copy()
    params = {p.name: p for p in source.get_parameters() if not p.name.startswith('second.')}
    params['model.other.weight'] = ms.Parameter(Tensor(np.zeros((2,), np.float32)), name='model.other.weight')
    with pytest.raises(CheckpointError) as info:
        load_param_dict(target, params, source='cut.ckpt')
    assert str(info.value) == (
        "cut.ckpt: 2 parameters of the model are not in the checkpoint, e.g. ['second.weight', 'second.bias']; it "
        "holds 1 weights this model does not have, e.g. ['model.other.weight']: is it a checkpoint of another "
        "model? (set model_config.allow_partial_checkpoint: True to load it anyway and keep the others at their "
        "initial values)")
    np.testing.assert_array_equal(target.first.weight.asnumpy(), before)  # nothing was loaded


def test_load_param_dict_shape_mismatch_names_parameter_and_both_shapes():
    target = TwoLayers(hidden=16)
    params = {p.name: p for p in TwoLayers(hidden=12).get_parameters()}
    before = target.first.weight.asnumpy().copy()
    with pytest.raises(CheckpointError) as info:
        load_param_dict(target, params, source='small.ckpt')
    message = str(info.value)
    assert "small.ckpt" in message and "'first.weight'" in message
    assert "(12, 8)" in message and "(16, 8)" in message
    np.testing.assert_array_equal(target.first.weight.asnumpy(), before)  # nothing was loaded


def test_load_param_dict_with_no_matching_name_is_an_error():
    params = {'unrelated.weight': ms.Parameter(Tensor(np.zeros((2, 2), np.float32)), name='unrelated.weight')}
    with pytest.raises(CheckpointError, match="none of its 1 parameters"):
        load_param_dict(TwoLayers(), params)


def test_load_param_dict_loads_optimizer_state():
    net = TwoLayers()
    optimizer = nn.Momentum(net.trainable_params(), learning_rate=0.1, momentum=0.9)
    moments = {p.name: ms.Parameter(Tensor(np.full(p.shape, 0.5, np.float32)), name=p.name)
               for p in optimizer.moments}
    weights_only = {p.name: p for p in TwoLayers().get_parameters()}
    with pytest.raises(CheckpointError, match=r"7 parameters of the model are not in the checkpoint"):
        load_param_dict(net, weights_only, optimizer=optimizer)  # a checkpoint without the optimizer state
    state = {p.name: p for p in optimizer.get_parameters()}
    state.update(weights_only)
    state.update(moments)
    load_param_dict(net, state, optimizer=optimizer)
    for param in optimizer.moments:
        np.testing.assert_array_equal(param.asnumpy(), np.full(param.shape, 0.5, np.float32))


def test_atomic_save_fsyncs_the_file_then_its_folder_after_the_rename(tmp_path, monkeypatch):
    """Durability: the data is synced before the rename and the folder entry after it."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(('fsync', os.readlink(f'/proc/self/fd/{fd}')))
        real_fsync(fd)

    def replace(src, dst):
        events.append(('rename', dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, 'fsync', fsync)
    monkeypatch.setattr(os, 'replace', replace)
    path = str(tmp_path / 'model.ckpt')
    save_checkpoint_atomic(TwoLayers(), path)
    assert [kind for kind, _ in events] == ['fsync', 'rename', 'fsync']
    assert os.path.basename(events[0][1]).startswith('.tmp_') and events[1][1] == path
    assert events[2][1] == str(tmp_path)


def test_failed_save_is_one_output_error_naming_the_path_and_leaves_no_temp_file(tmp_path, monkeypatch):
    from mindformers.tools.errors import OutputWriteError, MindFormerError  # pylint: disable=import-outside-toplevel

    def no_space(*args, **kwargs):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(ms, 'save_checkpoint', no_space)
    path = str(tmp_path / 'model.ckpt')
    with pytest.raises(OutputWriteError) as info:
        save_checkpoint_atomic(TwoLayers(), path)
    assert str(info.value) == f"cannot write checkpoint {path}: No space left on device"
    assert isinstance(info.value, MindFormerError)
    assert os.listdir(tmp_path) == []
