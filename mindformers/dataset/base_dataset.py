"""BaseDataset: what upstream's task datasets share (their config from explicit arguments, the global dataset
settings, the shard of this rank)."""
import os

import mindspore as ms
import mindspore.dataset as ds

from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerConfig
from mindformers.tools.utils import get_real_group_size, get_real_rank


class BaseDataset:
    """Subclasses build their pipeline in `__new__`; these classmethods are their common steps."""

    def __init__(self, dataset_config=None):
        self.dataset_config = dataset_config

    @classmethod
    def check_dataset_config(cls, dataset_config, params):
        """`dataset_config` as given, or (when empty) one made from the caller's arguments `params` (its
        locals(): `dataset_config`, `cls`/`self` dropped, `kwargs` merged in)."""
        if dataset_config:
            return dataset_config
        params = dict(params)
        for key in ('dataset_config', 'cls', 'self', '__class__'):
            params.pop(key, None)
        params.update(params.pop('kwargs', None) or {})
        return MindFormerConfig(**params)

    @classmethod
    def init_dataset_config(cls, dataset_config):
        """The global dataset settings of a config: seed, prefetch size, NUMA, and auto-tune (not with profile)."""
        if dataset_config.seed is not None:
            ds.config.set_seed(int(dataset_config.seed))
        if dataset_config.prefetch_size is not None:
            ds.config.set_prefetch_size(int(dataset_config.prefetch_size))
        if dataset_config.numa_enable is not None:
            ds.config.set_numa_enable(bool(dataset_config.numa_enable))
        if dataset_config.auto_tune:
            if dataset_config.profile:
                raise ConfigError("dataset auto_tune and profile cannot run together; turn one off")
            prefix = dataset_config.filepath_prefix or './autotune'
            os.makedirs(prefix, exist_ok=True)
            ds.config.set_enable_autotune(True, filepath_prefix=os.path.join(prefix, 'autotune'))
            ds.config.set_autotune_interval(int(dataset_config.autotune_per_step or 10))

    @classmethod
    def _generate_shard_info(cls):
        return cls._check_device_rank_for_parallel(get_real_rank(), get_real_group_size())

    @classmethod
    def _check_device_rank_for_parallel(cls, rank_id, device_num):
        """(None, None) when every rank reads the whole batch (semi/auto parallel with full_batch), else as given."""
        if cls._is_semi_full_batch():
            return None, None
        return rank_id, device_num

    @classmethod
    def _is_semi_full_batch(cls):
        mode = ms.get_auto_parallel_context('parallel_mode')
        return mode in ('semi_auto_parallel', 'auto_parallel') and bool(ms.get_auto_parallel_context('full_batch'))

    @classmethod
    def _is_data_parallel(cls):
        return ms.get_auto_parallel_context('parallel_mode') == ms.ParallelMode.DATA_PARALLEL
