"""Training callbacks: the loss/progress log line, checkpoint saving, evaluation during training."""
import json
import os
import time

import numpy as np
from mindspore.train.callback import Callback

from mindformers.tools.checkpoint import remove_interrupted_saves, save_checkpoint_atomic, write_text_atomic
from mindformers.tools.errors import ConfigError
from mindformers.tools.flops import measured_matmul_peak
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.tools.utils import get_output_root_path, get_real_rank, get_real_group_size
from mindformers.utils.tensorboard import add_scalars, get_tensorboard_args, get_tensorboard_writer


def _scalar(value):
    if value is None:
        return None
    if hasattr(value, 'asnumpy'):
        value = value.asnumpy()
    return np.asarray(value).reshape(-1)[0].item()


def _unpack_outputs(net_outputs):
    """(loss, overflow, loss_scale, lr, global_norm) from whatever the train cell returned."""
    if not isinstance(net_outputs, (tuple, list)):
        return _scalar(net_outputs), None, None, None, None
    values = [_scalar(v) for v in net_outputs] + [None] * 5
    return tuple(values[:5])


def _format_eta(seconds):
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


# skip_nan_step gives up when this many steps in a row were skipped: the run is not recovering
MAX_CONSECUTIVE_NAN_SKIPS = 10


@MindFormerRegister.register(MindFormerModuleType.CALLBACK)
class MFLossMonitor(Callback):
    """Logs one upstream-style line per `per_print_times` steps: epoch/step, loss, step time, lr,
    overflow, loss scale, global norm, then a progress bar, samples/s per device and time remaining.

    The train cell already averages the loss over accumulated micro-batches, so it is shown as is.
    """

    def __init__(self, learning_rate=None, per_print_times=1, micro_batch_num=1, micro_batch_interleave_num=1,
                 origin_epochs=None, dataset_size=None, initial_epoch=0, initial_step=0, global_batch_size=0,
                 gradient_accumulation_steps=1, device_num=None, skip_nan_step=False, model_flops_per_sample=None,
                 **kwargs):
        super().__init__()
        if not isinstance(per_print_times, int) or per_print_times < 1:
            raise ConfigError(f"MFLossMonitor.per_print_times must be a positive integer, got {per_print_times!r}")
        if not isinstance(skip_nan_step, bool):
            raise ConfigError(f"skip_nan_step must be True or False, got {skip_nan_step!r}")
        self.skip_nan_step = skip_nan_step
        self.skipped_steps = []
        self.model_flops_per_sample = model_flops_per_sample
        self.matmul_peak = None
        self.per_print_times = per_print_times
        self.learning_rate = learning_rate
        self.origin_epochs = origin_epochs
        self.dataset_size = dataset_size
        self.initial_epoch = initial_epoch
        self.initial_step = initial_step
        self.global_batch_size = global_batch_size
        self.device_num = device_num or get_real_group_size()
        self.epoch_losses = []
        self.step_start = None
        self.step_times = []

    def on_train_begin(self, run_context):
        if self.model_flops_per_sample:
            self.matmul_peak = measured_matmul_peak()
            logger.info("model FLOPs per training sample: %.4g; this machine's fp32 matmul peak (MindSpore MatMul "
                        "1024^3, measured once): %.3g TFLOPS", self.model_flops_per_sample, self.matmul_peak)

    def on_train_epoch_begin(self, run_context):
        self.epoch_losses = []

    def on_train_step_begin(self, run_context):
        self.step_start = time.time()

    def on_train_step_end(self, run_context):
        cb_params = run_context.original_args()
        step_seconds = time.time() - (self.step_start or time.time())
        self.step_times.append(step_seconds)
        loss, overflow, loss_scale, learning_rate, global_norm = _unpack_outputs(cb_params.net_outputs)
        if loss is None:
            raise ValueError(f"the train cell returned no loss at step {cb_params.cur_step_num}")
        finite = np.isfinite(loss) and (global_norm is None or np.isfinite(global_norm))
        if not finite and self.skip_nan_step:
            # the train cell skips the update of a step whose loss or gradient is not finite
            self.skipped_steps.append(cb_params.cur_step_num)
            logger.warning("skip_nan_step: step %d has loss %s and global norm %s; its update was skipped, the "
                           "weights and optimizer state are unchanged", cb_params.cur_step_num, loss, global_norm)
            recent = self.skipped_steps[-MAX_CONSECUTIVE_NAN_SKIPS:]
            if len(recent) == MAX_CONSECUTIVE_NAN_SKIPS and recent[0] == cb_params.cur_step_num - len(recent) + 1:
                raise ValueError(f"skip_nan_step: the last {len(recent)} steps (up to step {cb_params.cur_step_num}) "
                                 f"all had a non-finite loss or gradient: training is not recovering; check the data "
                                 f"and lower the learning rate")
        elif not np.isfinite(loss):
            raise ValueError(f"training loss is {loss} at step {cb_params.cur_step_num}: training diverged; lower the "
                             f"learning rate or enable gradient clipping (runner_wrapper.use_clip_grad), or set "
                             f"skip_nan_step: True to skip such steps")
        else:
            self.epoch_losses.append(loss)
        steps_per_epoch = cb_params.batch_num
        step_in_epoch = (cb_params.cur_step_num - 1) % steps_per_epoch + 1
        if step_in_epoch % self.per_print_times and step_in_epoch != steps_per_epoch:
            return
        epochs = self.origin_epochs or cb_params.epoch_num
        total_steps = epochs * steps_per_epoch
        recent = self.step_times[-20:]
        mean_step = sum(recent) / len(recent)
        parts = [f"{{ Epoch:[{cb_params.cur_epoch_num:3d}/{epochs:3d}], "
                 f"step:[{step_in_epoch:5d}/{steps_per_epoch:5d}], "
                 f"loss:[{loss:5.3f}/{np.mean(self.epoch_losses) if self.epoch_losses else loss:5.3f}], "
                 f"per_step_time: {int(step_seconds * 1000)}ms"]
        if learning_rate is not None:
            parts.append(f"lr: {learning_rate:.6e}")
        parts.append(f"overflow cond: {bool(overflow)}")
        parts.append(f"loss_scale: {loss_scale}")
        if global_norm is not None:
            # shortest float32 repr: every digit the value has (upstream prints it with %s), e.g. 0.70000005
            parts.append(f"global_norm: {np.float32(global_norm)!s}")
        logger.info(", ".join(parts))
        percent = 100.0 * cb_params.cur_step_num / total_steps
        filled = int(percent / 2)
        throughput = self.global_batch_size / self.device_num / mean_step if mean_step > 0 else 0.0
        remaining = (total_steps - cb_params.cur_step_num) * mean_step
        tflops = self.model_flops_per_sample * throughput / 1e12 if self.model_flops_per_sample else None
        achieved = ''
        if tflops is not None and self.matmul_peak:
            achieved = f", {tflops:.3g} TFLOPS ({100 * tflops / self.matmul_peak:.3g}% of the fp32 matmul peak)"
        logger.info("  %4.1f%% |%s%s| %.5f samples/s/p  %s%s }", percent, '█' * filled, ' ' * (50 - filled),
                    throughput, _format_eta(remaining), achieved)
        self._write_tensorboard(cb_params.cur_step_num, loss, loss_scale, learning_rate, global_norm, step_seconds,
                                throughput, tflops)

    def _write_tensorboard(self, step, loss, loss_scale, learning_rate, global_norm, step_seconds, throughput,
                           tflops):
        """Upstream's scalars: each at the global step and, for most, also `<tag> vs samples`."""
        if get_tensorboard_writer() is None:
            return
        settings = get_tensorboard_args()
        samples = step * self.global_batch_size if self.global_batch_size else None
        values = {'learning-rate': learning_rate, 'batch-size': self.global_batch_size or None, 'loss': loss,
                  'grad-norm': global_norm}
        if settings['log_loss_scale_to_tensorboard']:
            values['loss-scale'] = loss_scale
        if settings['log_timers_to_tensorboard']:
            values['iteration-time'] = step_seconds * 1000
            values['throughput'] = throughput
        add_scalars(values, step, samples)
        if settings['log_timers_to_tensorboard']:
            add_scalars({'B-samples-per-day': throughput * self.device_num * 86400 / 1e9}, step)
        if tflops is not None:
            add_scalars({'model-flops-throughput-per-npu': tflops}, step)      # upstream's tag, in TFLOPS
            if self.matmul_peak:
                add_scalars({'model-flops-share-of-matmul-peak': tflops / self.matmul_peak}, step)

    def on_train_end(self, run_context):
        if self.skipped_steps:
            logger.warning("skip_nan_step: %d step(s) had a non-finite loss or gradient and were skipped: %s",
                           len(self.skipped_steps), self.skipped_steps[:20])


@MindFormerRegister.register(MindFormerModuleType.CALLBACK)
class CheckpointMonitor(Callback):
    """Saves `checkpoint/rank_N/<prefix>_rank_N-<epoch>_<step>.ckpt` (network + optimizer + train state),
    keeps the newest `keep_checkpoint_max`, records `meta.json`, and optionally weights-only copies in
    `checkpoint_network/` and trainable-only copies in `checkpoint_trainable/`. Every file is written
    to a temporary name and renamed, so an interrupted save never leaves a loadable partial file.
    """

    def __init__(self, prefix='CKP', directory=None, config=None, save_checkpoint_steps=1,
                 save_checkpoint_seconds=0, keep_checkpoint_max=5, keep_checkpoint_per_n_minutes=0,
                 integrated_save=True, save_network_params=True, save_trainable_params=False, async_save=False,
                 saved_network=None, append_info=None, enc_key=None, enc_mode='AES-GCM', exception_save=False,
                 global_batch_size=None, checkpoint_format='ckpt', **kwargs):
        super().__init__()
        if not isinstance(save_checkpoint_steps, int) or save_checkpoint_steps < 1:
            raise ConfigError(f"CheckpointMonitor.save_checkpoint_steps must be a positive integer, got "
                              f"{save_checkpoint_steps!r}")
        if not isinstance(keep_checkpoint_max, int) or keep_checkpoint_max < 1:
            raise ConfigError(f"CheckpointMonitor.keep_checkpoint_max must be a positive integer, got "
                              f"{keep_checkpoint_max!r}")
        self.rank_id = get_real_rank()
        self.prefix = f"{prefix}_rank_{self.rank_id}"
        root = directory or get_output_root_path()
        self.directory = os.path.join(root, 'checkpoint', f'rank_{self.rank_id}')
        self.network_directory = os.path.join(root, 'checkpoint_network', f'rank_{self.rank_id}')
        self.trainable_directory = os.path.join(root, 'checkpoint_trainable', f'rank_{self.rank_id}')
        self.save_checkpoint_steps = save_checkpoint_steps
        self.save_checkpoint_seconds = save_checkpoint_seconds
        self.keep_checkpoint_max = keep_checkpoint_max
        self.save_network_params = save_network_params
        self.save_trainable_params = save_trainable_params
        self.append_info = dict(append_info or {})
        self.global_batch_size = global_batch_size
        self.format = checkpoint_format
        self.last_saved_step = None
        self.last_save_time = time.time()
        if async_save:
            logger.info("CheckpointMonitor: async_save is done synchronously so that files are complete on disk")

    def _train_state(self, cb_params):
        # the optimizer's own `global_step` Parameter is saved with the train cell; not duplicated here
        return {'epoch_num': int(cb_params.cur_epoch_num), 'step_num': int(cb_params.cur_step_num),
                'loss_scale': float(_unpack_outputs(cb_params.net_outputs)[2] or 1.0),
                'global_batch_size': int(self.global_batch_size or 0)}

    def save(self, cb_params):
        steps_per_epoch = cb_params.batch_num
        step_in_epoch = (cb_params.cur_step_num - 1) % steps_per_epoch + 1
        name = f"{self.prefix}-{cb_params.cur_epoch_num}_{step_in_epoch}.{self.format}"
        path = os.path.join(self.directory, name)
        append = dict(self.append_info)
        append.update(self._train_state(cb_params))
        save_checkpoint_atomic(cb_params.train_network, path, append_dict=append, fmt=self.format)
        if self.save_network_params:
            save_checkpoint_atomic(cb_params.network, os.path.join(
                self.network_directory, f"{self.prefix}-network.{self.format}"), fmt=self.format)
        if self.save_trainable_params:
            trainable = [{'name': p.name, 'data': p} for p in cb_params.network.trainable_params()]
            save_checkpoint_atomic(trainable, os.path.join(
                self.trainable_directory, f"{self.prefix}-trainable_params.{self.format}"), fmt=self.format)
        self._write_meta(cb_params, name)
        self._rotate()
        self.last_saved_step = cb_params.cur_step_num
        self.last_save_time = time.time()
        logger.info("saved checkpoint %s", path)
        return path

    def _write_meta(self, cb_params, name):
        meta = {'last_epoch': int(cb_params.cur_epoch_num), 'last_step': int(cb_params.cur_step_num),
                'last_ckpt_file': name}
        write_text_atomic(os.path.join(self.directory, 'meta.json'), json.dumps(meta), what='checkpoint index')

    def _rotate(self):
        files = [f for f in os.listdir(self.directory)
                 if f.startswith(self.prefix + '-') and f.endswith('.' + self.format)]
        files.sort(key=lambda f: os.path.getmtime(os.path.join(self.directory, f)))
        for old in files[:-self.keep_checkpoint_max]:
            os.remove(os.path.join(self.directory, old))

    def on_train_begin(self, run_context):
        # saves a killed run was in the middle of: never complete, never loadable, so removed
        for directory in (self.directory, self.network_directory, self.trainable_directory):
            stale = remove_interrupted_saves(directory)
            if stale:
                logger.warning("removed %d interrupted save(s) left in %s: %s", len(stale), directory, stale)

    def on_train_step_end(self, run_context):
        cb_params = run_context.original_args()
        by_steps = cb_params.cur_step_num % self.save_checkpoint_steps == 0
        by_time = self.save_checkpoint_seconds and time.time() - self.last_save_time >= self.save_checkpoint_seconds
        if by_steps or by_time:
            self.save(cb_params)

    def on_train_end(self, run_context):
        cb_params = run_context.original_args()
        if self.last_saved_step != cb_params.cur_step_num and cb_params.cur_step_num > 0:
            self.save(cb_params)


MindFormerRegister.register_cls(CheckpointMonitor, MindFormerModuleType.CALLBACK, alias='CheckpointMointor')


@MindFormerRegister.register(MindFormerModuleType.CALLBACK)
class EvalCallBack(Callback):
    """Runs `eval_func()` every `step_interval` steps and/or every `epoch_interval` epochs (-1 disables).

    Beyond upstream: with `save_best_metric` (a value of the result, e.g. 'PPL', 'Acc', or the metric's type for a
    single-number result such as Accuracy's) the weights of the best evaluation so far are kept in
    `<output>/checkpoint_best/rank_N/best_rank_N.ckpt` with `best.json` (metric, value, step); lower is better for
    names holding 'loss' or 'ppl', higher otherwise, unless `greater_is_better` says. With `early_stop_patience` N,
    training stops after N evaluations in a row that did not improve it.
    """

    def __init__(self, eval_func, step_interval=100, epoch_interval=-1, save_best_metric=None,
                 greater_is_better=None, early_stop_patience=None, metric_type=None):
        super().__init__()
        self.eval_func = eval_func
        self.step_interval = step_interval
        self.epoch_interval = epoch_interval
        if early_stop_patience is not None and not save_best_metric:
            raise ConfigError("early_stop_patience needs save_best_metric: the value whose improvement it waits for")
        if early_stop_patience is not None and (isinstance(early_stop_patience, bool) or
                                                not isinstance(early_stop_patience, int) or early_stop_patience < 1):
            raise ConfigError(f"early_stop_patience must be a positive integer, got {early_stop_patience!r}")
        self.save_best_metric = save_best_metric
        if greater_is_better is None and save_best_metric:
            greater_is_better = not any(word in str(save_best_metric).lower() for word in ('loss', 'ppl'))
        self.greater_is_better = greater_is_better
        self.early_stop_patience = early_stop_patience
        self.metric_type = metric_type
        self.best = None
        self.evals_without_improvement = 0

    def _run(self, run_context):
        cb_params = run_context.original_args()
        start = time.time()
        result = self.eval_func()
        logger.info("Eval result: %s, eval time is %.3f s.", result, time.time() - start)
        add_scalars(_eval_scalars(result), cb_params.cur_step_num)   # when the run writes TensorBoard files
        if self.save_best_metric:
            self._keep_best(run_context, self._value(result))

    def _value(self, result):
        values = {key.split('/', 1)[1]: value for key, value in _eval_scalars(result).items() if '/' in key}
        if not isinstance(result, dict) and self.metric_type:
            values = {self.metric_type: float(_scalar(result))}
        if self.save_best_metric not in values:
            raise ConfigError(f"save_best_metric '{self.save_best_metric}' is not in the eval result; it has: "
                              f"{', '.join(values) or 'no numbers'}")
        return values[self.save_best_metric]

    @staticmethod
    def _best_directory():
        return os.path.join(get_output_root_path(), 'checkpoint_best', f'rank_{get_real_rank()}')

    def on_train_begin(self, run_context):
        """A resumed run keeps competing with the best of the run it resumes (its best.json)."""
        cb_params = run_context.original_args()
        index = os.path.join(self._best_directory(), 'best.json')
        if self.save_best_metric and cb_params.cur_step_num > 0 and os.path.isfile(index):
            with open(index, encoding='utf-8') as stream:
                saved = json.load(stream)
            if saved.get('metric') == self.save_best_metric and saved.get('step', 0) <= cb_params.cur_step_num:
                self.best = saved['value']
                logger.info("resuming with the best %s = %s of step %d", self.save_best_metric, self.best,
                            saved['step'])

    def _keep_best(self, run_context, value):
        cb_params = run_context.original_args()
        better = np.isfinite(value) and (self.best is None or (value > self.best if self.greater_is_better
                                                               else value < self.best))
        if better:
            self.best, self.evals_without_improvement = value, 0
            rank = get_real_rank()
            directory = self._best_directory()
            path = os.path.join(directory, f'best_rank_{rank}.ckpt')
            save_checkpoint_atomic(cb_params.network, path)
            write_text_atomic(os.path.join(directory, 'best.json'), json.dumps({
                'metric': self.save_best_metric, 'value': value, 'step': int(cb_params.cur_step_num),
                'epoch': int(cb_params.cur_epoch_num), 'checkpoint': os.path.basename(path)}),
                what='best checkpoint index')
            logger.info("new best %s = %s at step %d: saved %s", self.save_best_metric, value, cb_params.cur_step_num,
                        path)
            return
        self.evals_without_improvement += 1
        if self.early_stop_patience and self.evals_without_improvement >= self.early_stop_patience:
            logger.info("early stop at step %d: %s did not improve on %s for %d evaluations", cb_params.cur_step_num,
                        self.save_best_metric, self.best, self.evals_without_improvement)
            run_context.request_stop()

    def on_train_step_end(self, run_context):
        cur_step = run_context.original_args().cur_step_num
        if self.step_interval > 0 and cur_step % self.step_interval == 0:
            self._run(run_context)

    def on_train_epoch_end(self, run_context):
        cb_params = run_context.original_args()
        if self.epoch_interval > 0 and cb_params.cur_epoch_num % self.epoch_interval == 0:
            self._run(run_context)


def _eval_scalars(result, prefix='eval'):
    """{'eval/<name>': number} from a metric's result: a number, or a (nested) dict of numbers."""
    if isinstance(result, dict):
        scalars = {}
        for name, value in result.items():
            scalars.update(_eval_scalars(value, f'{prefix}/{name}'))
        return scalars
    try:
        return {prefix: float(_scalar(result))}
    except (TypeError, ValueError):
        return {}


@MindFormerRegister.register(MindFormerModuleType.CALLBACK)
class ObsMonitor(Callback):
    """Uploads outputs to OBS on ModelArts; outside ModelArts there is nothing to upload."""

    def __init__(self, src_dir=None, target_dir=None, step_upload_frequence=100, epoch_upload_frequence=-1,
                 keep_last=True, **kwargs):
        super().__init__()
        self.target_dir = target_dir

    def on_train_begin(self, run_context):
        if self.target_dir:
            logger.warning("ObsMonitor: uploading to %s needs ModelArts OBS, which is not available here; outputs "
                           "stay local", self.target_dir)


@MindFormerRegister.register(MindFormerModuleType.CALLBACK)
class SummaryMonitor:
    """MindSpore's SummaryCollector (scalars, graphs, lineage for MindInsight) writing to `summary_dir`, by default
    `<output_dir>/summary/rank_<i>`: constructing it returns the SummaryCollector, as upstream."""

    def __new__(cls, summary_dir=None, collect_freq=10, collect_specified_data=None, keep_default_action=True,
                custom_lineage_data=None, collect_tensor_freq=None, max_file_size=None, export_options=None):
        from mindspore import SummaryCollector  # pylint: disable=import-outside-toplevel
        if summary_dir is None:
            summary_dir = os.path.join(get_output_root_path(), 'summary', f'rank_{get_real_rank()}')
        return SummaryCollector(summary_dir=summary_dir, collect_freq=collect_freq,
                                collect_specified_data=collect_specified_data,
                                keep_default_action=keep_default_action, custom_lineage_data=custom_lineage_data,
                                collect_tensor_freq=collect_tensor_freq, max_file_size=max_file_size,
                                export_options=export_options)


@MindFormerRegister.register(MindFormerModuleType.CALLBACK)
class ProfileMonitor(Callback):
    """Runs MindSpore's Profiler over the training steps `start_step`..`stop_step` (global step numbers, from 1)
    and writes its data to `output_path` (default `<output_dir>/profile/rank_<i>`): on CPU the per-operator times
    (`*/FRAMEWORK/cpu_op_type_info_<i>.csv` by operator type, `cpu_op_detail_info_<i>.csv` per operator).
    `start_profile=True` (upstream's `init_start_profile`) starts at the beginning of training, so the first step's
    graph compile is inside the trace; `profile_communication` is Ascend-only and is ignored elsewhere."""

    def __init__(self, start_step=1, stop_step=10, output_path=None, start_profile=True, profile_communication=False,
                 profile_memory=True, config=None, **kwargs):
        super().__init__()
        for key, value in (('start_step', start_step), ('stop_step', stop_step)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"ProfileMonitor: {key} must be a positive integer, got {value!r}; fix "
                                  f"profile_{key}")
        if stop_step < start_step:
            raise ConfigError(f"ProfileMonitor: profile_stop_step {stop_step} is before profile_start_step "
                              f"{start_step}")
        self.start_step, self.stop_step = start_step, stop_step
        self.start_profile = bool(start_profile)
        self.profile_memory = bool(profile_memory)
        self.output_path = os.path.abspath(output_path or os.path.join(get_output_root_path(), 'profile',
                                                                       f'rank_{get_real_rank()}'))
        if profile_communication:
            logger.warning("ProfileMonitor: profile_communication records Ascend collective communication; "
                           "there is none to record on this device, so it is ignored")
        self.profiler = None
        self.first_step = self.last_step = None
        self.done = False

    def _start(self, step):
        import mindspore as ms  # pylint: disable=import-outside-toplevel
        os.makedirs(self.output_path, exist_ok=True)
        self.profiler = ms.Profiler(output_path=self.output_path, profile_memory=self.profile_memory)
        self.first_step = step
        logger.info("profiling from step %d to step %d into %s", step, self.stop_step, self.output_path)

    def on_train_begin(self, run_context):
        step = run_context.original_args().cur_step_num + 1
        if step > self.stop_step:
            logger.warning("ProfileMonitor: training starts at step %d, after profile_stop_step %d; nothing is "
                           "profiled", step, self.stop_step)
            self.done = True
        elif self.start_profile:
            self._start(step)

    def on_train_step_begin(self, run_context):
        step = run_context.original_args().cur_step_num
        if not self.done and self.profiler is None and step >= self.start_step:
            self._start(step)

    def on_train_step_end(self, run_context):
        step = run_context.original_args().cur_step_num
        if self.profiler is not None and self.last_step is None and step >= self.stop_step:
            self.profiler.stop()          # the analysis waits for the end of training, outside every step's time
            self.last_step = step

    def on_train_end(self, run_context):
        self._finish(run_context.original_args().cur_step_num)

    def __exit__(self, *exc_info):
        # training raised: stop the profiler and keep what it recorded, but never hide the error
        if self.profiler is not None:
            self._finish(self.last_step or 0, quiet=True)

    def _finish(self, step, quiet=False):
        if self.profiler is None:
            return
        profiler, self.profiler, self.done = self.profiler, None, True
        try:
            if self.last_step is None:
                profiler.stop()
                self.last_step = step
            profiler.analyse()
        except Exception as err:  # pylint: disable=broad-except
            logger.warning("ProfileMonitor: the profiler could not write its data to %s: %s", self.output_path, err)
            return
        if not quiet:
            logger.info("profiling data of steps %d-%d is in %s: per-operator times in */FRAMEWORK/"
                        "cpu_op_type_info_*.csv (by type) and cpu_op_detail_info_*.csv; MindStudio Insight opens the "
                        "folder", self.first_step, self.last_step, self.output_path)
