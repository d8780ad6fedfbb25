"""MFLossMonitor (log line, progress bar, NaN stop) and CheckpointMonitor (layout, rotation, meta, atomic save)."""
import io
import json
import logging
import os
import re

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn, Tensor
from mindspore.train.callback import RunContext, _InternalCallbackParam

from mindformers.core.callback import CheckpointMonitor, MFLossMonitor, build_callback
from mindformers.core.callback import callback as callback_module
from mindformers.tools.checkpoint import load_param_dict, read_checkpoint
from mindformers.tools.errors import ConfigError, OutputWriteError
from mindformers.tools.logger import logger
from mindformers.tools.utils import set_output_path

LINE1 = re.compile(r"^\{ Epoch:\[ *(\d+)/ *(\d+)\], step:\[ *(\d+)/ *(\d+)\], loss:\[([\d.]+)/([\d.]+)\], "
                   r"per_step_time: (\d+)ms, lr: ([\d.e+-]+), overflow cond: (True|False), loss_scale: ([\d.]+), "
                   r"global_norm: ([\d.e+-]+)$")
LINE2 = re.compile(r"^ *(\d+\.\d)% \|(█*)( *)\| (\d+\.\d{5}) samples/s/p  (\d+):(\d\d):(\d\d) \}$")


pytestmark = pytest.mark.usefixtures("pynative")


@pytest.fixture(name="output_dir")
def fixture_output_dir(tmp_path):
    previous = os.environ.get('LOCAL_DEFAULT_PATH')
    set_output_path(str(tmp_path))
    yield tmp_path
    if previous is None:
        os.environ.pop('LOCAL_DEFAULT_PATH', None)
        logger.reset_file_handlers()
    else:
        set_output_path(previous)


@pytest.fixture(name="log_lines")
def fixture_log_lines():
    """Messages the `mindformers` logger emits during the test (it does not propagate to root)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter('%(message)s'))
    logger.addHandler(handler)
    yield lambda: [line for line in stream.getvalue().splitlines() if line]
    logger.removeHandler(handler)


class FakeClock:
    """Replaces time.time in the callback module: every call advances by `tick` seconds."""

    def __init__(self, tick):
        self.now = 1000.0
        self.tick = tick

    def time(self):
        self.now += self.tick
        return self.now


def make_run_context(batch_num=10, epoch_num=2):
    network = nn.Dense(3, 2)
    optimizer = nn.Momentum(network.trainable_params(), learning_rate=0.1, momentum=0.9)
    train_network = nn.TrainOneStepCell(nn.WithLossCell(network, nn.MSELoss()), optimizer)
    params = _InternalCallbackParam()
    params.train_network = train_network
    params.network = network
    params.batch_num = batch_num
    params.epoch_num = epoch_num
    params.cur_epoch_num = 1
    params.cur_step_num = 0
    params.net_outputs = outputs(1.0)
    return RunContext(params)


def outputs(loss, overflow=False, loss_scale=1.0, lr=0.001, global_norm=0.7):
    values = [Tensor(loss, ms.float32), Tensor(overflow), Tensor(loss_scale, ms.float32)]
    if lr is not None:
        values += [Tensor(lr, ms.float32), Tensor(global_norm, ms.float32)]
    return tuple(values)


def run_step(monitor, run_context, step, **kwargs):
    params = run_context.original_args()
    params.cur_step_num = step
    params.cur_epoch_num = (step - 1) // params.batch_num + 1
    params.net_outputs = outputs(**kwargs) if kwargs else params.net_outputs
    monitor.on_train_step_begin(run_context)
    monitor.on_train_step_end(run_context)


# ---------------------------------------------------------------- MFLossMonitor


def test_loss_monitor_line_matches_upstream_format(log_lines, monkeypatch):
    monkeypatch.setattr(callback_module, 'time', FakeClock(tick=0.25))  # begin->end = 0.25 s
    context = make_run_context(batch_num=10, epoch_num=2)
    monitor = MFLossMonitor(global_batch_size=8, device_num=1)
    monitor.on_train_epoch_begin(context)
    for step, loss in zip(range(1, 6), (1.0, 2.0, 3.0, 4.0, 5.0)):
        run_step(monitor, context, step, loss=loss, lr=0.001, global_norm=0.7)
    lines = log_lines()
    assert len(lines) == 10  # two lines per step
    assert lines[8] == ("{ Epoch:[  1/  2], step:[    5/   10], loss:[5.000/3.000], per_step_time: 250ms, "
                        "lr: 1.000000e-03, overflow cond: False, loss_scale: 1.0, global_norm: 0.7")
    # 5 of 20 steps: 25 %, 12 of 50 bar cells; 8 samples / 1 device / 0.25 s; 15 steps * 0.25 s left
    assert lines[9] == "  25.0% |" + "█" * 12 + " " * 38 + "| 32.00000 samples/s/p  0:00:03 }"
    assert LINE1.match(lines[8]) and LINE2.match(lines[9])


def test_loss_monitor_second_epoch_counts_steps_within_epoch(log_lines, monkeypatch):
    monkeypatch.setattr(callback_module, 'time', FakeClock(tick=1.0))
    context = make_run_context(batch_num=10, epoch_num=2)
    monitor = MFLossMonitor(global_batch_size=4, device_num=2)
    run_step(monitor, context, 15, loss=0.5)
    first, second = log_lines()[-2:]
    epoch, epochs, step, steps = LINE1.match(first).groups()[:4]
    assert (epoch, epochs, step, steps) == ('2', '2', '5', '10')
    percent, bar, space, throughput, hours, minutes, seconds = LINE2.match(second).groups()
    assert percent == '75.0' and len(bar) == 37 and len(bar) + len(space) == 50
    assert float(throughput) == 2.0  # 4 samples / 2 devices / 1 s
    assert (int(hours), int(minutes), int(seconds)) == (0, 0, 5)


def test_loss_monitor_eta_is_formatted_as_hours_minutes_seconds(log_lines, monkeypatch):
    monkeypatch.setattr(callback_module, 'time', FakeClock(tick=10.0))
    context = make_run_context(batch_num=1000, epoch_num=1)
    monitor = MFLossMonitor(global_batch_size=1, device_num=1)
    run_step(monitor, context, 1, loss=0.5)
    assert log_lines()[-1].endswith("samples/s/p  2:46:30 }")  # 999 steps * 10 s = 9990 s


def test_loss_monitor_origin_epochs_overrides_epoch_num(log_lines):
    context = make_run_context(batch_num=4, epoch_num=1)
    monitor = MFLossMonitor(origin_epochs=3)
    run_step(monitor, context, 2, loss=0.5)
    assert LINE1.match(log_lines()[-2]).group(2) == '3'
    assert LINE2.match(log_lines()[-1]).group(1) == '16.7'  # 2 of 12 steps


def test_loss_monitor_shows_overflow_and_loss_scale(log_lines):
    context = make_run_context()
    run_step(MFLossMonitor(), context, 1, loss=0.5, overflow=True, loss_scale=512.0)
    assert "overflow cond: True, loss_scale: 512.0," in log_lines()[-2]


def test_loss_monitor_without_lr_output_omits_lr_and_global_norm(log_lines):
    context = make_run_context()
    run_step(MFLossMonitor(), context, 1, loss=0.5, lr=None)
    line = log_lines()[-2]
    assert 'lr:' not in line and 'global_norm' not in line
    assert line.endswith("overflow cond: False, loss_scale: 1.0")


def test_loss_monitor_accepts_a_bare_loss_tensor(log_lines):
    context = make_run_context()
    context.original_args().net_outputs = Tensor(0.25, ms.float32)
    monitor = MFLossMonitor()
    monitor.on_train_step_begin(context)
    context.original_args().cur_step_num = 1
    monitor.on_train_step_end(context)
    assert "loss:[0.250/0.250]" in log_lines()[-2]


def test_loss_monitor_per_print_times_logs_every_nth_step_and_the_last_of_the_epoch(log_lines):
    context = make_run_context(batch_num=5, epoch_num=1)
    monitor = MFLossMonitor(per_print_times=2)
    for step in range(1, 6):
        run_step(monitor, context, step, loss=0.5)
    steps = [int(LINE1.match(line).group(3)) for line in log_lines() if LINE1.match(line)]
    assert steps == [2, 4, 5]


def test_loss_monitor_epoch_mean_restarts_each_epoch(log_lines):
    context = make_run_context(batch_num=2, epoch_num=2)
    monitor = MFLossMonitor()
    monitor.on_train_epoch_begin(context)
    run_step(monitor, context, 1, loss=1.0)
    run_step(monitor, context, 2, loss=3.0)
    monitor.on_train_epoch_begin(context)
    run_step(monitor, context, 3, loss=10.0)
    assert "loss:[10.000/10.000]" in log_lines()[-2]


@pytest.mark.parametrize("bad_loss", [float('nan'), float('inf')])
def test_loss_monitor_non_finite_loss_raises_naming_the_step(bad_loss):
    context = make_run_context()
    with pytest.raises(ValueError, match=r"step 3"):
        run_step(MFLossMonitor(), context, 3, loss=bad_loss)


def test_loss_monitor_rejects_bad_per_print_times():
    with pytest.raises(ConfigError, match='per_print_times'):
        MFLossMonitor(per_print_times=0)


# ---------------------------------------------------------------- CheckpointMonitor


def ckpt_dir(root):
    return root / 'checkpoint' / 'rank_0'


def save_steps(monitor, context, steps, loss_scale=1.0):
    params = context.original_args()
    for step in steps:
        params.cur_step_num = step
        params.cur_epoch_num = (step - 1) // params.batch_num + 1
        params.net_outputs = outputs(0.5, loss_scale=loss_scale)
        monitor.on_train_step_end(context)


def test_checkpoint_file_names_use_epoch_and_step_within_epoch(output_dir):
    context = make_run_context(batch_num=3, epoch_num=2)
    monitor = CheckpointMonitor(prefix='llama', keep_checkpoint_max=10)
    save_steps(monitor, context, range(1, 7))
    names = sorted(f for f in os.listdir(ckpt_dir(output_dir)) if f.endswith('.ckpt'))
    assert names == sorted(f"llama_rank_0-{epoch}_{step}.ckpt" for epoch in (1, 2) for step in (1, 2, 3))


def test_checkpoint_safetensors_format_names_and_rotates_safetensors_files(output_dir):
    context = make_run_context(batch_num=10, epoch_num=1)
    monitor = CheckpointMonitor(prefix='llama', keep_checkpoint_max=2, checkpoint_format='safetensors')
    save_steps(monitor, context, range(1, 4))
    names = sorted(os.listdir(ckpt_dir(output_dir)))
    assert names == ['llama_rank_0-1_2.safetensors', 'llama_rank_0-1_3.safetensors', 'meta.json']
    params = read_checkpoint(str(ckpt_dir(output_dir) / 'llama_rank_0-1_3.safetensors'))
    assert params['step_num'].asnumpy().item() == 3
    assert (output_dir / 'checkpoint_network' / 'rank_0' / 'llama_rank_0-network.safetensors').is_file()


def test_checkpoint_save_steps_and_final_save_on_train_end(output_dir):
    context = make_run_context(batch_num=5, epoch_num=1)
    monitor = CheckpointMonitor(prefix='llama', save_checkpoint_steps=2, keep_checkpoint_max=10)
    save_steps(monitor, context, range(1, 6))
    monitor.on_train_end(context)
    names = sorted(f for f in os.listdir(ckpt_dir(output_dir)) if f.endswith('.ckpt'))
    assert names == ['llama_rank_0-1_2.ckpt', 'llama_rank_0-1_4.ckpt', 'llama_rank_0-1_5.ckpt']


def test_checkpoint_keep_checkpoint_max_keeps_the_newest(output_dir):
    context = make_run_context(batch_num=10, epoch_num=1)
    monitor = CheckpointMonitor(prefix='llama', keep_checkpoint_max=2)
    save_steps(monitor, context, range(1, 6))
    names = sorted(f for f in os.listdir(ckpt_dir(output_dir)) if f.endswith('.ckpt'))
    assert names == ['llama_rank_0-1_4.ckpt', 'llama_rank_0-1_5.ckpt']


def test_checkpoint_meta_json_points_at_the_last_checkpoint(output_dir):
    context = make_run_context(batch_num=3, epoch_num=2)
    monitor = CheckpointMonitor(prefix='llama')
    save_steps(monitor, context, range(1, 6))
    with open(ckpt_dir(output_dir) / 'meta.json', encoding='utf-8') as stream:
        meta = json.load(stream)
    assert meta == {'last_epoch': 2, 'last_step': 5, 'last_ckpt_file': 'llama_rank_0-2_2.ckpt'}
    assert (ckpt_dir(output_dir) / meta['last_ckpt_file']).is_file()


def test_checkpoint_holds_train_state_and_optimizer(output_dir):
    context = make_run_context(batch_num=3, epoch_num=2)
    monitor = CheckpointMonitor(prefix='llama', global_batch_size=16)
    save_steps(monitor, context, [5], loss_scale=256.0)
    params = read_checkpoint(str(ckpt_dir(output_dir) / 'llama_rank_0-2_2.ckpt'))
    state = {key: params[key].asnumpy().item() for key in ('epoch_num', 'step_num', 'loss_scale', 'global_batch_size')}
    assert state == {'epoch_num': 2, 'step_num': 5, 'loss_scale': 256.0, 'global_batch_size': 16}
    network = context.original_args().network
    for param in network.trainable_params():
        np.testing.assert_array_equal(params[param.name].asnumpy(), param.asnumpy())
    assert {'moments.weight', 'moments.bias', 'global_step'} <= set(params)


def test_checkpoint_append_info_is_stored(output_dir):
    context = make_run_context()
    monitor = CheckpointMonitor(prefix='llama', append_info={'my_value': 3})
    save_steps(monitor, context, [1])
    params = read_checkpoint(str(ckpt_dir(output_dir) / 'llama_rank_0-1_1.ckpt'))
    assert params['my_value'].asnumpy().item() == 3


def test_checkpoint_network_copy_holds_weights_only(output_dir):
    context = make_run_context()
    monitor = CheckpointMonitor(prefix='llama')
    save_steps(monitor, context, [1, 2])
    path = output_dir / 'checkpoint_network' / 'rank_0' / 'llama_rank_0-network.ckpt'
    params = read_checkpoint(str(path))
    network = context.original_args().network
    assert set(params) == {p.name for p in network.get_parameters()}
    for param in network.get_parameters():
        np.testing.assert_array_equal(params[param.name].asnumpy(), param.asnumpy())
    assert os.listdir(path.parent) == ['llama_rank_0-network.ckpt']  # overwritten, not accumulated


def test_checkpoint_save_network_params_false_writes_no_network_copy(output_dir):
    context = make_run_context()
    monitor = CheckpointMonitor(prefix='llama', save_network_params=False, save_trainable_params=True)
    save_steps(monitor, context, [1])
    assert not (output_dir / 'checkpoint_network').exists()
    trainable = read_checkpoint(str(output_dir / 'checkpoint_trainable' / 'rank_0' /
                                    'llama_rank_0-trainable_params.ckpt'))
    assert set(trainable) == {p.name for p in context.original_args().network.trainable_params()}


def test_checkpoint_directory_argument_replaces_output_root(output_dir, tmp_path):
    context = make_run_context()
    other = tmp_path / 'elsewhere'
    monitor = CheckpointMonitor(prefix='llama', directory=str(other))
    save_steps(monitor, context, [1])
    assert (other / 'checkpoint' / 'rank_0' / 'llama_rank_0-1_1.ckpt').is_file()
    assert not (output_dir / 'checkpoint').exists()


def test_checkpoint_can_be_loaded_back_into_the_train_network_for_resume(output_dir):
    context = make_run_context()
    optimizer = context.original_args().train_network.optimizer
    optimizer.global_step.set_data(Tensor([2], ms.int32))  # 3 steps, one skipped on overflow
    monitor = CheckpointMonitor(prefix='llama')
    save_steps(monitor, context, [3])
    params = read_checkpoint(str(ckpt_dir(output_dir) / 'llama_rank_0-1_3.ckpt'))
    fresh = make_run_context().original_args()
    missing = load_param_dict(fresh.train_network, params)
    assert missing == []
    assert fresh.train_network.optimizer.global_step.asnumpy().tolist() == [2]
    assert params['step_num'].asnumpy().item() == 3
    for saved, loaded in zip(context.original_args().network.get_parameters(), fresh.network.get_parameters()):
        np.testing.assert_array_equal(saved.asnumpy(), loaded.asnumpy())


def test_interrupted_save_leaves_neither_final_nor_temporary_file(output_dir, monkeypatch):
    context = make_run_context()
    monitor = CheckpointMonitor(prefix='llama')
    save_steps(monitor, context, [1])
    before = sorted(os.listdir(ckpt_dir(output_dir)))
    meta_before = (ckpt_dir(output_dir) / 'meta.json').read_text(encoding='utf-8')

    def crash_mid_write(save_obj, ckpt_file_name, *args, **kwargs):
        with open(ckpt_file_name, 'wb') as stream:
            stream.write(b'partial checkpoint bytes')
        raise RuntimeError("disk full")

    monkeypatch.setattr(ms, 'save_checkpoint', crash_mid_write)
    with pytest.raises(OutputWriteError, match=r'cannot write checkpoint .*/llama_rank_0-1_2\.ckpt: disk full'):
        save_steps(monitor, context, [2])
    after = sorted(os.listdir(ckpt_dir(output_dir)))
    assert 'llama_rank_0-1_2.ckpt' not in after
    assert after == before  # no temporary file left behind either
    assert (ckpt_dir(output_dir) / 'meta.json').read_text(encoding='utf-8') == meta_before
    network_dir = output_dir / 'checkpoint_network' / 'rank_0'
    assert os.listdir(network_dir) == ['llama_rank_0-network.ckpt']


@pytest.mark.parametrize("kwargs, key", [({'save_checkpoint_steps': 0}, 'save_checkpoint_steps'),
                                         ({'keep_checkpoint_max': 0}, 'keep_checkpoint_max')])
def test_checkpoint_monitor_rejects_non_positive_counts(kwargs, key, output_dir):
    with pytest.raises(ConfigError, match=key):
        CheckpointMonitor(**kwargs)


def test_build_callback_accepts_upstream_misspelling_and_default_args(output_dir):
    built = build_callback([{'type': 'MFLossMonitor'}, {'type': 'CheckpointMointor', 'prefix': 'llama'}],
                           default_args={'MFLossMonitor': {'per_print_times': 3},
                                         'CheckpointMonitor': {'global_batch_size': 8}})
    assert isinstance(built[0], MFLossMonitor) and built[0].per_print_times == 3
    assert isinstance(built[1], CheckpointMonitor)
    assert built[1].prefix == 'llama_rank_0' and built[1].global_batch_size == 8
    assert built[1].directory == str(ckpt_dir(output_dir))


@pytest.mark.parametrize('kwargs, message', [
    ({'start_step': 0}, 'start_step must be a positive integer, got 0; fix profile_start_step'),
    ({'stop_step': 'ten'}, "stop_step must be a positive integer, got 'ten'; fix profile_stop_step"),
    ({'start_step': 5, 'stop_step': 3}, 'profile_stop_step 3 is before profile_start_step 5'),
])
def test_profile_monitor_rejects_bad_steps_in_one_line(kwargs, message):
    from mindformers.core.callback import ProfileMonitor  # pylint: disable=import-outside-toplevel
    with pytest.raises(ConfigError, match=re.escape(message)):
        ProfileMonitor(**kwargs)


def test_profile_monitor_writes_under_output_profile_rank(output_dir):
    from mindformers.core.callback import ProfileMonitor  # pylint: disable=import-outside-toplevel
    monitor = build_callback({'type': 'ProfileMonitor', 'start_step': 2, 'stop_step': 3})
    assert isinstance(monitor, ProfileMonitor)
    assert monitor.output_path == str(output_dir / 'profile' / 'rank_0')


def test_profile_monitor_stops_at_the_stop_step_analyses_at_the_end_and_on_an_error(output_dir, monkeypatch):
    import mindspore  # pylint: disable=import-outside-toplevel
    from mindformers.core.callback import ProfileMonitor  # pylint: disable=import-outside-toplevel
    calls = []

    class FakeProfiler:
        def __init__(self, **kwargs):
            calls.append(('start', kwargs['output_path']))

        def stop(self):
            calls.append('stop')

        def analyse(self):
            calls.append('analyse')
    monkeypatch.setattr(mindspore, 'Profiler', FakeProfiler)
    params = _InternalCallbackParam()
    params.cur_step_num = 0
    context = RunContext(params)
    monitor = ProfileMonitor(start_step=2, stop_step=3, start_profile=False)
    monitor.on_train_begin(context)
    for step in range(1, 6):
        params.cur_step_num = step
        monitor.on_train_step_begin(context)
        monitor.on_train_step_end(context)
        if step == 3:
            assert calls == [('start', str(output_dir / 'profile' / 'rank_0')), 'stop']   # no analysis in a step
    monitor.on_train_end(context)
    assert calls[2:] == ['analyse']
    monitor.__exit__(None, None, None)
    assert len(calls) == 3

    calls.clear()                       # a step raises while profiling: the profiler is stopped and analysed
    failing = ProfileMonitor(start_step=1, stop_step=4, start_profile=True)
    params.cur_step_num = 0
    failing.on_train_begin(context)
    failing.__exit__(RuntimeError, RuntimeError('step failed'), None)
    assert [c for c in calls if isinstance(c, str)] == ['stop', 'analyse']


def test_loss_monitor_reports_achieved_tflops_and_the_share_of_the_measured_peak(log_lines, monkeypatch):
    monkeypatch.setattr(callback_module, 'time', FakeClock(tick=0.25))        # 0.25 s a step
    monkeypatch.setattr(callback_module, 'measured_matmul_peak', lambda: 0.5)  # TFLOPS
    context = make_run_context(batch_num=4, epoch_num=1)
    monitor = MFLossMonitor(global_batch_size=8, device_num=2, model_flops_per_sample=2e10)
    monitor.on_train_begin(context)
    run_step(monitor, context, 1, loss=3.0)
    # 8 samples / 2 devices / 0.25 s = 16 samples/s/p; x 2e10 FLOPs = 0.32 TFLOPS = 64 % of 0.5
    assert "16.00000 samples/s/p  0:00:00, 0.32 TFLOPS (64% of the fp32 matmul peak) }" in log_lines()[-1]
    assert "this machine's fp32 matmul peak (MindSpore MatMul 1024^3, measured once): 0.5 TFLOPS" in \
        " ".join(log_lines())


def test_measured_matmul_peak_is_measured_once_per_process():
    from mindformers.tools import flops  # pylint: disable=import-outside-toplevel
    first = flops.measured_matmul_peak(size=256)
    assert 1e-4 < first < 100                       # TFLOPS of a CPU
    assert flops.measured_matmul_peak(size=256) is first


def test_skip_nan_step_goes_on_after_a_nan_step_and_gives_up_after_ten_in_a_row():
    context = make_run_context(batch_num=50, epoch_num=1)
    monitor = MFLossMonitor(skip_nan_step=True)
    for step in range(1, 10):                                     # 9 in a row, then a finite step: goes on
        run_step(monitor, context, step, loss=float('nan'), global_norm=float('nan'))
    run_step(monitor, context, 10, loss=2.0)
    for step in range(11, 20):
        run_step(monitor, context, step, loss=float('inf'), global_norm=float('inf'))
    with pytest.raises(ValueError, match=r"the last 10 steps \(up to step 20\) all had a non-finite loss"):
        run_step(monitor, context, 20, loss=float('nan'), global_norm=float('nan'))


def test_the_best_evaluation_is_never_a_nan_and_a_resumed_run_competes_with_the_saved_best(output_dir):
    from mindformers.core.callback import EvalCallBack  # pylint: disable=import-outside-toplevel
    values = iter([float('nan'), 3.0, 4.0, 2.5])
    callback = EvalCallBack(lambda: {'loss': next(values)}, step_interval=1, save_best_metric='loss')
    context = make_run_context(batch_num=10, epoch_num=1)
    for step in range(1, 5):
        context.original_args().cur_step_num = step
        callback.on_train_step_end(context)
    best = json.loads((output_dir / 'checkpoint_best' / 'rank_0' / 'best.json').read_text())
    assert (best['value'], best['step']) == (2.5, 4)
    resumed = EvalCallBack(lambda: {'loss': 2.7}, step_interval=1, save_best_metric='loss')
    context.original_args().cur_step_num = 4
    resumed.on_train_begin(context)
    context.original_args().cur_step_num = 5
    resumed.on_train_step_end(context)                            # 2.7 is worse than the saved 2.5: kept
    best = json.loads((output_dir / 'checkpoint_best' / 'rank_0' / 'best.json').read_text())
    assert (best['value'], best['step']) == (2.5, 4)
