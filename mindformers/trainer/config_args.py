"""Upstream's config-argument classes: typed holders for the YAML sections (`context`, `parallel`, `runner_config`,
`optimizer`, `lr_schedule`, `runner_wrapper`, datasets, `callbacks` checkpointing, cloud), and ConfigArguments,
which gathers them for `Trainer(args=ConfigArguments(...))`."""
import inspect
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
            if isinstance(value, BaseArgsConfig):
                value = value.to_dict()
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


def _registered_args(module_type, name):
    """The constructor argument names of the class registered as `name` (none for no name)."""
    if name is None:
        return ()
    from mindformers.tools.register import MindFormerRegister  # pylint: disable=import-outside-toplevel
    cls = MindFormerRegister.get_cls(module_type, name)
    target = cls.__init__ if inspect.isclass(cls) else cls
    try:
        return tuple(p for p in inspect.signature(target).parameters if p not in ('self', 'args', 'kwargs'))
    except (TypeError, ValueError):
        return ()


class _TypedConfig(BaseArgsConfig):
    """A section whose `type` names a registered class: its keys are the base list plus that class's arguments."""
    _module_type = None

    def __init__(self, type_name=None, **kwargs):
        self._support_args = tuple(self._support_args) + _registered_args(self._module_type, type_name)
        super().__init__(type=type_name, **kwargs)
        self.__dict__.pop('_support_args', None)


class CloudConfig(BaseArgsConfig):
    """ModelArts / OBS settings."""
    _support_args = ('obs_path', 'root_path', 'rank_id', 'upload_frequence', 'keep_last', 'retry', 'retry_time')

    def __init__(self, obs_path=None, root_path='/cache', rank_id=None, upload_frequence=1, keep_last=False,
                 **kwargs):
        super().__init__(obs_path=obs_path, root_path=root_path, rank_id=rank_id, upload_frequence=upload_frequence,
                         keep_last=keep_last, **kwargs)


class RunnerConfig(BaseArgsConfig):
    """The `runner_config` section: epochs, batch size, sink mode and size, and the restart counters."""
    _support_args = ('epochs', 'batch_size', 'sink_mode', 'sink_size', 'initial_epoch', 'has_trained_epoches',
                     'has_trained_steps', 'image_size', 'num_classes')

    def __init__(self, epochs=None, batch_size=None, sink_mode=None, sink_size=None, initial_epoch=None,
                 has_trained_epoches=None, has_trained_steps=None, **kwargs):
        super().__init__(epochs=epochs, batch_size=batch_size, sink_mode=sink_mode, sink_size=sink_size,
                         initial_epoch=initial_epoch, has_trained_epoches=has_trained_epoches,
                         has_trained_steps=has_trained_steps, **kwargs)


class CheckpointConfig(BaseArgsConfig):
    """Checkpoint saving: the arguments of the CheckpointMonitor callback."""
    _support_args = ()

    def __init__(self, prefix='mindformers', directory=None, save_checkpoint_steps=1, keep_checkpoint_max=1,
                 integrated_save=True, async_save=False, saved_network=None, **kwargs):
        from mindformers.core.callback.callback import CheckpointMonitor  # pylint: disable=import-outside-toplevel
        self._support_args = tuple(p for p in inspect.signature(CheckpointMonitor.__init__).parameters
                                   if p not in ('self', 'kwargs'))
        super().__init__(prefix=prefix, directory=directory, save_checkpoint_steps=save_checkpoint_steps,
                         keep_checkpoint_max=keep_checkpoint_max, integrated_save=integrated_save,
                         async_save=async_save, saved_network=saved_network, **kwargs)
        self.__dict__.pop('_support_args', None)


class LRConfig(_TypedConfig):
    """The `lr_schedule` section: `lr_type` names a registered learning-rate schedule."""
    _support_args = ('type', 'max_lr', 'min_lr', 'decay_steps', 'decay_rate', 'power', 'end_learning_rate',
                     'warmup_steps')
    _module_type = 'lr'

    def __init__(self, lr_type=None, **kwargs):
        super().__init__(lr_type, **kwargs)


class OptimizerConfig(_TypedConfig):
    """The `optimizer` section: `optim_type` names a registered optimizer; learning_rate a number or an LRConfig."""
    _support_args = ('type', 'learning_rate', 'beta1', 'beta2', 'eps', 'epsilon', 'weight_decay', 'loss_scale',
                     'momentum')
    _module_type = 'optimizer'

    def __init__(self, optim_type=None, learning_rate=None, **kwargs):
        super().__init__(optim_type, learning_rate=learning_rate, **kwargs)


class WrapperConfig(_TypedConfig):
    """The `runner_wrapper` section: `wrapper_type` names a registered training cell."""
    _support_args = ('type', 'sens', 'scale_sense')
    _module_type = 'wrapper'

    def __init__(self, wrapper_type=None, **kwargs):
        super().__init__(wrapper_type, **kwargs)


class DataLoaderConfig(_TypedConfig):
    """A dataset's `data_loader`: `dataloader_type` names a registered loader, `dataset_dir` its data."""
    _support_args = ('type', 'dataset_dir', 'num_samples', 'num_parallel_workers', 'shuffle', 'sampler',
                     'extensions', 'class_indexing', 'language_pair', 'decode', 'num_shards', 'shard_id', 'cache',
                     'decrypt', 'task', 'usage', 'test_set', 'valid_set', 'padded_sample', 'num_padded')
    _module_type = 'dataset_loader'

    def __init__(self, dataloader_type=None, dataset_dir=None, **kwargs):
        super().__init__(dataloader_type, dataset_dir=dataset_dir, **kwargs)


class DatasetConfig(BaseArgsConfig):
    """A `train_dataset` / `eval_dataset` section: its loader, columns, batching and repetition."""
    _support_args = ('data_loader', 'input_columns', 'output_columns', 'column_order', 'drop_remainder', 'repeat',
                     'batch_size', 'image_size', 'num_parallel_workers', 'per_batch_map', 'python_multiprocessing',
                     'max_rowsize', 'cache', 'offload')

    def __init__(self, data_loader=None, input_columns=None, output_columns=None, column_order=None,
                 drop_remainder=True, repeat=1, batch_size=None, image_size=None, **kwargs):
        super().__init__(data_loader=data_loader, input_columns=input_columns, output_columns=output_columns,
                         column_order=column_order, drop_remainder=drop_remainder, repeat=repeat,
                         batch_size=batch_size, image_size=image_size, **kwargs)


class ConfigArguments(BaseArgsConfig):
    """Every section at once, for `Trainer(args=ConfigArguments(...))`: given values replace the task YAML's (a
    section whose `type` changes is replaced whole, not merged into the old type's keys)."""
    _support_args = ('output_dir', 'profile', 'auto_tune', 'filepath_prefix', 'autotune_per_step', 'train_dataset',
                     'eval_dataset', 'predict_dataset', 'runner_config', 'optimizer', 'lr_schedule',
                     'save_checkpoint', 'cloud_config', 'seed', 'runner_wrapper')

    def __init__(self, output_dir='./output', profile=False, auto_tune=False, filepath_prefix='./autotune',
                 autotune_per_step=10, seed=None, train_dataset=None, eval_dataset=None, runner_config=None,
                 optimizer=None, runner_wrapper=None, lr_schedule=None, save_checkpoint=None, cloud_config=None):
        super().__init__(output_dir=output_dir, profile=profile, auto_tune=auto_tune, filepath_prefix=filepath_prefix,
                         autotune_per_step=autotune_per_step, seed=seed, train_dataset=train_dataset,
                         eval_dataset=eval_dataset, runner_config=runner_config, optimizer=optimizer,
                         runner_wrapper=runner_wrapper, lr_schedule=lr_schedule, save_checkpoint=save_checkpoint,
                         cloud_config=cloud_config)

    def apply_to(self, config):
        """Merge into a task config (MindFormerConfig): sections whose `type` differs replace the old section; an
        optimizer learning_rate given without an lr_schedule replaces the YAML's schedule."""
        given = self.to_dict()
        for key, value in given.items():
            old = config.get(key)
            if isinstance(value, dict) and isinstance(old, dict) and \
                    _section_type(value, key) in (None, _section_type(old, key)):
                config.merge_from_dict({key: value})
            else:
                setattr(config, key, value)
        if 'learning_rate' in given.get('optimizer', {}) and 'lr_schedule' not in given:
            config.lr_schedule = None
        return config


def _section_type(section, key):
    if not isinstance(section, dict):
        return None
    if key.endswith('_dataset') and isinstance(section.get('data_loader'), dict):
        return section['data_loader'].get('type')
    return section.get('type')
