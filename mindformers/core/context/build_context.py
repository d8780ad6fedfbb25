"""MindSpore context from a run config: device, mode, communication and the parallel context."""
import os

import mindspore as ms

from mindformers.core.context.parallel_check import check_parallel_config
from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger
from mindformers.tools.register.config import MindFormerConfig
from mindformers.tools.utils import get_output_root_path, get_real_group_size

MODE = {0: ms.GRAPH_MODE, 1: ms.PYNATIVE_MODE, 'GRAPH_MODE': ms.GRAPH_MODE, 'PYNATIVE_MODE': ms.PYNATIVE_MODE}
PARALLEL_MODE = {0: 'data_parallel', 1: 'semi_auto_parallel', 2: 'auto_parallel', 3: 'hybrid_parallel',
                 'DATA_PARALLEL': 'data_parallel', 'SEMI_AUTO_PARALLEL': 'semi_auto_parallel',
                 'AUTO_PARALLEL': 'auto_parallel', 'HYBRID_PARALLEL': 'hybrid_parallel',
                 'STAND_ALONE': 'stand_alone', 'data_parallel': 'data_parallel',
                 'semi_auto_parallel': 'semi_auto_parallel', 'auto_parallel': 'auto_parallel',
                 'hybrid_parallel': 'hybrid_parallel', 'stand_alone': 'stand_alone'}
# context keys that only mean something on Ascend/GPU; dropped on CPU with one log line
_DEVICE_ONLY_KEYS = ('max_device_memory', 'ascend_config', 'memory_optimize_level', 'enable_graph_kernel',
                     'graph_kernel_flags', 'variable_memory_max_size', 'mempool_block_size')
# context keys MindFormers YAMLs carry that set_context does not take directly
_IGNORED_KEYS = ('device_id',)


def _available_targets():
    """Device targets this MindSpore build can run (the CPU wheel runs CPU only)."""
    try:
        from mindspore._c_expression import MSContext  # pylint: disable=import-outside-toplevel
        return [t for t in ('Ascend', 'GPU', 'CPU') if MSContext.get_instance().is_pkg_support_device(t)]
    except (ImportError, AttributeError):
        return ['CPU']


def _resolve_device_target(target):
    target = target or 'CPU'
    if target not in ('Ascend', 'GPU', 'CPU'):
        raise ConfigError(f"context.device_target must be Ascend, GPU or CPU, got '{target}'")
    available = _available_targets()
    if target not in available:
        logger.warning("device_target %s is not available in this MindSpore build; running on CPU", target)
        return 'CPU'
    return target


# what semi-auto parallel settings mean for data parallel: nothing (sharding, pipelines, strategy files)
_SEMI_AUTO_ONLY_KEYS = ('full_batch', 'dataset_strategy', 'pipeline_stages', 'strategy_ckpt_load_file',
                        'strategy_ckpt_save_file', 'strategy_ckpt_config', 'search_mode', 'enable_parallel_optimizer',
                        'parallel_optimizer_config', 'enable_alltoall')


def _check_parallel_mode(parallel_mode, device_target, parallel):
    """-> (the mode to run, a note for the log or None). On CPU semi_auto_parallel runs as data_parallel
    (MindSpore cannot compile it there, and with model_parallel = pipeline_stage = 1, which the parallel check
    enforces on CPU, it is data parallel)."""
    if device_target != 'CPU' or parallel_mode not in ('semi_auto_parallel', 'auto_parallel'):
        return parallel_mode, None
    if parallel_mode == 'auto_parallel':
        raise ConfigError("parallel.parallel_mode auto_parallel cannot run on CPU (MindSpore supports only "
                          "data_parallel there); set parallel.parallel_mode: 0 (data_parallel) and "
                          "parallel_config.model_parallel/pipeline_stage to 1")
    dropped = sorted(key for key in _SEMI_AUTO_ONLY_KEYS if parallel.pop(key, None) is not None)
    # semi-auto's loss is the mean over the global batch: data parallel averages the ranks' gradients to match
    parallel['gradients_mean'] = True
    return 'data_parallel', ("parallel_mode semi_auto_parallel runs as data_parallel on CPU (MindSpore cannot compile "
                             "semi-auto parallel there; with model_parallel = pipeline_stage = 1 it is data parallel): "
                             "each rank reads its shard of every global batch and the gradients are averaged over the "
                             "ranks" + (f"; ignored: {', '.join(dropped)}" if dropped else ""))


_STATE = {'built': False}


def context_is_built():
    """True once init_context/build_context ran in this process."""
    return _STATE['built']


def runtime_threads_from_env():
    """MF_RUNTIME_NUM_THREADS=N: MindSpore's CPU kernel threads per process (context.runtime_num_threads), over the
    YAML. Jobs sharing few cores (two test workers on two cores, msrun workers) run faster with 1 each: MindSpore's
    default pool oversubscribes the cores, and tiny models gain nothing from a second thread. None when unset."""
    value = os.environ.get('MF_RUNTIME_NUM_THREADS', '').strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise ConfigError(f"MF_RUNTIME_NUM_THREADS must be a positive integer, got {value!r}")
    return int(value)


def init_context(use_parallel=False, context_config=None, parallel_config=None):
    """Set the MindSpore context; with `use_parallel` also start communication. Returns (rank_id, device_num)."""
    context = dict(context_config or {'mode': 'GRAPH_MODE', 'device_target': 'Ascend', 'device_id': 0})
    parallel = dict(parallel_config or {'parallel_mode': 'DATA_PARALLEL', 'gradients_mean': True})
    if hasattr(context_config, 'to_dict') and not isinstance(context_config, dict):
        context = context_config.to_dict()
    if hasattr(parallel_config, 'to_dict') and not isinstance(parallel_config, dict):
        parallel = parallel_config.to_dict()
    mode = context.pop('mode', 0)
    if mode not in MODE:
        raise ConfigError(f"context.mode must be 0 (GRAPH_MODE) or 1 (PYNATIVE_MODE), got {mode!r}")
    device_target = _resolve_device_target(context.pop('device_target', 'CPU'))
    device_id = int(context.pop('device_id', 0) or 0)
    if context.get('save_graphs') and not context.get('save_graphs_path'):
        context['save_graphs_path'] = os.path.join(get_output_root_path(), 'debug', 'graphs_info')
    if device_target == 'CPU':
        dropped = [k for k in _DEVICE_ONLY_KEYS if k in context]
        for key in dropped:
            context.pop(key)
        if dropped:
            logger.info("context keys %s only apply to Ascend/GPU and are ignored on CPU", dropped)
    for key in _IGNORED_KEYS:
        context.pop(key, None)
    context = {k: v for k, v in context.items() if v is not None}
    threads = runtime_threads_from_env()
    if threads is not None:
        context['runtime_num_threads'] = threads
    jit_config = context.pop('jit_config', None)
    ms.set_context(mode=MODE[mode], device_target=device_target, **context)
    if jit_config:
        ms.set_context(jit_config=dict(jit_config))
    if device_target != 'CPU':
        ms.set_device(device_target, device_id)
    _STATE['built'] = True

    parallel_mode = PARALLEL_MODE.get(parallel.pop('parallel_mode', 'data_parallel'))
    if parallel_mode is None:
        raise ConfigError("parallel.parallel_mode must be 0/1/2/3 or a MindSpore parallel mode name")
    if not use_parallel:
        return 0, 1
    parallel_mode, note = _check_parallel_mode(parallel_mode, device_target, parallel)
    from mindspore.communication import init, get_rank, get_group_size  # pylint: disable=import-outside-toplevel
    try:
        init()
    except RuntimeError as err:
        if os.getenv('MS_ROLE') == 'MS_SCHED':
            # msrun's scheduler process returns from init() only when the job ends: a worker was lost
            raise ConfigError(f"distributed job failed: {' '.join(str(err).split('-----')[0].split())}") from None
        raise ConfigError(f"use_parallel is True but distributed communication could not start ({err}); launch "
                          f"with scripts/msrun_launcher.sh, or set use_parallel: False for one device") from None
    rank_id, device_num = get_rank(), get_group_size()
    ms.reset_auto_parallel_context()
    allowed = {k: v for k, v in parallel.items() if v is not None and k in _PARALLEL_KEYS}
    ms.set_auto_parallel_context(parallel_mode=parallel_mode, device_num=device_num, **allowed)
    logger.reset_file_handlers()
    # the launcher maps a dead worker's pid back to its rank with this line
    logger.info("rank %d of %d started, pid %d", rank_id, device_num, os.getpid())
    if note:
        logger.info(note)
    return rank_id, device_num


_PARALLEL_KEYS = ('gradients_mean', 'gradient_fp32_sync', 'loss_repeated_mean', 'full_batch', 'search_mode',
                  'enable_parallel_optimizer', 'enable_alltoall', 'strategy_ckpt_load_file',
                  'strategy_ckpt_save_file', 'pipeline_stages', 'parameter_broadcast', 'all_reduce_fusion_config',
                  'comm_fusion', 'dataset_strategy', 'grad_accumulation_step', 'parallel_optimizer_config',
                  'strategy_ckpt_config')


def build_context(config):
    """Apply `config.context` / `config.parallel` / `use_parallel`; record rank_id, device_num, local_rank."""
    if not isinstance(config, dict) and hasattr(config, 'convert_args_to_mindformers_config'):
        config = config.convert_args_to_mindformers_config()
    elif isinstance(config, dict) and not isinstance(config, MindFormerConfig):
        config = MindFormerConfig(config)
    context = dict(config.context or {})
    parallel = dict(config.parallel or {})
    # before communication starts and before anything compiles; msrun exports RANK_SIZE, so the device
    # count is known here already
    target = context.get('device_target') or 'CPU'
    check_parallel_config(config, get_real_group_size() if config.use_parallel else 1,
                          target if target in _available_targets() else 'CPU')
    if config.use_parallel and config.parallel_config and 'pipeline_stages' not in parallel:
        stages = config.parallel_config.get('pipeline_stage') if isinstance(config.parallel_config, dict) else \
            getattr(config.parallel_config, 'pipeline_stage', 1)
        if stages and stages > 1:
            parallel['pipeline_stages'] = stages
    rank_id, device_num = init_context(use_parallel=bool(config.use_parallel), context_config=context,
                                       parallel_config=parallel)
    config.rank_id = rank_id
    config.local_rank = rank_id
    config.device_num = device_num
    return config


def build_profile_cb(config):
    """The ProfileMonitor of a run config (`profile_start_step`, `profile_stop_step`, `init_start_profile`,
    `profile_communication`, `profile_memory`); with several devices profiling starts with training and records
    communication, as upstream. Sink mode and auto-tune are turned off for the profiled run."""
    from mindformers.core.callback.callback import ProfileMonitor  # pylint: disable=import-outside-toplevel
    start_profile = bool(config.init_start_profile)
    profile_communication = bool(config.profile_communication)
    if (config.device_num or get_real_group_size()) > 1:
        logger.info("profiling %s devices: the profiler starts with training and records communication",
                    config.device_num or get_real_group_size())
        start_profile = profile_communication = True
    monitor = ProfileMonitor(start_step=config.profile_start_step or 1, stop_step=config.profile_stop_step or 10,
                             start_profile=start_profile, profile_communication=profile_communication,
                             profile_memory=config.profile_memory is not False)
    if config.runner_config is not None and config.runner_config.sink_mode:
        logger.warning("profile: sink mode is turned off for the profiled run (one step per host call)")
        config.runner_config.sink_mode = False
    if config.auto_tune:
        logger.warning("profile: auto_tune is turned off for the profiled run")
    config.auto_tune = False
    return monitor
