"""ContextConfig and ParallelContextConfig: typed holders for the `context` and `parallel` sections."""
import os

from mindformers.tools.errors import ConfigError
from mindformers.tools.utils import get_real_group_size


class BaseArgsConfig:
    """Stores allowed keys as attributes; unknown keys are a ConfigError; None values are skipped."""
    _support_args = ()

    def __init__(self, **kwargs):
        for key, value in kwargs.items():
            if key not in self._support_args:
                raise ConfigError(f"{self.__class__.__name__}: unknown key '{key}'; allowed keys are "
                                  f"{sorted(self._support_args)}")
            if value is not None:
                setattr(self, key, value)

    def to_dict(self):
        return dict(self.__dict__)

    def __iter__(self):
        return iter(self.__dict__.items())

    def keys(self):
        return self.__dict__.keys()

    def __getitem__(self, key):
        return self.__dict__[key]


class ContextConfig(BaseArgsConfig):
    _support_args = ('mode', 'device_target', 'device_id', 'save_graphs', 'save_graphs_path', 'precompile_only',
                     'enable_dump', 'auto_tune_mode', 'save_dump_path', 'enable_reduce_precision',
                     'variable_memory_max_size', 'enable_profiling', 'profiling_options',
                     'enable_auto_mixed_precision', 'enable_graph_kernel', 'reserve_class_name_in_scope',
                     'check_bprop', 'max_device_memory', 'print_file_path', 'enable_sparse', 'max_call_depth',
                     'env_config_path', 'save_compile_cache', 'runtime_num_threads', 'load_compile_cache',
                     'grad_for_scalar', 'pynative_synchronize', 'mempool_block_size', 'jit_config')

    def __init__(self, mode=0, device_target='Ascend', device_id=int(os.getenv('DEVICE_ID', '0')), save_graphs=False,
                 save_graphs_path='.', **kwargs):
        super().__init__(mode=mode, device_target=device_target, device_id=device_id, save_graphs=save_graphs,
                         save_graphs_path=save_graphs_path, **kwargs)


class ParallelContextConfig(BaseArgsConfig):
    _support_args = ('device_num', 'global_rank', 'gradients_mean', 'gradient_fp32_sync', 'parallel_mode',
                     'auto_parallel_search_mode', 'search_mode', 'parameter_broadcast', 'strategy_ckpt_load_file',
                     'strategy_ckpt_save_file', 'full_batch', 'enable_parallel_optimizer', 'enable_alltoall',
                     'all_reduce_fusion_config', 'pipeline_stages', 'grad_accumulation_step',
                     'parallel_optimizer_config', 'comm_fusion')

    def __init__(self, parallel_mode='STAND_ALONE', device_num=None, gradients_mean=False, **kwargs):
        super().__init__(parallel_mode=parallel_mode,
                         device_num=device_num if device_num is not None else get_real_group_size(),
                         gradients_mean=gradients_mean, **kwargs)
