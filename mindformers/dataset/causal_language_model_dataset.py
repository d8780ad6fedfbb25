"""CausalLanguageModelDataset: token records (seq_length + 1 ids each) -> shuffled, sharded int32 batches."""
import copy

import mindspore as ms
import mindspore.dataset as ds
from mindspore.dataset.transforms import TypeCast

from mindformers.dataset.dataloader.build_dataloader import build_dataset_loader
from mindformers.dataset.mindrecord_files import find_mindrecord_files, check_columns
from mindformers.tools.errors import DatasetError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType, MindFormerConfig
from mindformers.tools.utils import get_real_rank, get_real_group_size

_RECORD_LOADERS = ('MindDataset',)


def dataset_config_of(dataset_config, **arguments):
    """A copy of the `dataset_config` a dataset was given, else its keyword arguments as one (upstream's datasets take
    either)."""
    return dict(dataset_config) if dataset_config is not None else dict(arguments)


def section_tokenizer(config, owner, example):
    """The tokenizer of a dataset section (`tokenizer:` config or instance) for datasets that tokenize on the fly."""
    from mindformers.models.base_tokenizer import PreTrainedTokenizer  # pylint: disable=import-outside-toplevel
    from mindformers.models.build_tokenizer import build_tokenizer  # pylint: disable=import-outside-toplevel
    tokenizer = config.tokenizer
    if tokenizer is None:
        raise DatasetError(f"{owner}: the dataset section has no `tokenizer` (e.g. {example})")
    if not isinstance(tokenizer, PreTrainedTokenizer):
        tokenizer = build_tokenizer(tokenizer.to_dict() if hasattr(tokenizer, 'to_dict') else dict(tokenizer))
    return tokenizer


@MindFormerRegister.register(MindFormerModuleType.DATASET)
class CausalLanguageModelDataset:
    """A factory: constructing it returns a batched MindSpore dataset, as upstream's datasets do.

    Columns are fed to the model positionally, in `input_columns` order. Under data parallelism each
    rank reads its own shard (num_shards = device_num, shard_id = rank). Columns are cast to int32, but for
    the `float_columns` of a subclass (float32).
    """
    float_columns = ()

    def __new__(cls, dataset_config=None, data_loader=None, input_columns=None, output_columns=None,
                batch_size=8, drop_remainder=True, num_parallel_workers=8, python_multiprocessing=False,
                repeat=1, seed=0, prefetch_size=1, numa_enable=False, eod_reset=False, eod_token_id=None,
                **kwargs):
        if dataset_config is None:
            dataset_config = dict(data_loader=data_loader, input_columns=input_columns,
                                  output_columns=output_columns, batch_size=batch_size,
                                  drop_remainder=drop_remainder, num_parallel_workers=num_parallel_workers,
                                  python_multiprocessing=python_multiprocessing, repeat=repeat, seed=seed)
        config = MindFormerConfig(copy.deepcopy(dict(dataset_config)))
        if config.data_loader is None:
            raise DatasetError("dataset config has no data_loader section")
        input_columns = config.input_columns or ['input_ids']
        if not isinstance(input_columns, (list, tuple)) or not all(isinstance(c, str) for c in input_columns):
            raise DatasetError(f"input_columns must be a list of column names such as [\"input_ids\"], got "
                               f"{input_columns!r}")
        input_columns = list(input_columns)
        loader_cfg = MindFormerConfig(config.data_loader.to_dict())
        rank_id, device_num = get_real_rank(), get_real_group_size()
        shard = {'num_shards': device_num, 'shard_id': rank_id} if device_num > 1 else {}

        dataset, record_length = cls._open_source(config, loader_cfg, input_columns, shard)
        record_files = getattr(dataset, 'record_files', None)
        label_names = getattr(dataset, 'label_names', None)

        batch_size = int(config.batch_size or 1)
        size = dataset.get_dataset_size()
        if size == 0:
            raise DatasetError("dataset is empty")
        drop_remainder = config.drop_remainder if config.drop_remainder is not None else True
        if drop_remainder and batch_size > size:
            raise DatasetError(f"batch_size {batch_size} is larger than the {size} records this rank reads, and "
                               f"drop_remainder is on, so no batch would be produced; lower batch_size")
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder,
                                num_parallel_workers=min(int(config.num_parallel_workers or 1), 2))
        for column in input_columns:
            dtype = ms.float32 if column in cls.float_columns else ms.int32
            dataset = dataset.map(operations=TypeCast(dtype), input_columns=column)
        if config.repeat and int(config.repeat) > 1:
            dataset = dataset.repeat(int(config.repeat))
        dataset.record_length = record_length
        dataset.record_files = record_files
        dataset.label_names = label_names
        # not `input_columns`: MapDataset owns that attribute; overwriting it made the last map cast every column
        dataset.model_input_columns = input_columns
        logger.info("dataset: %d records on this rank, batch_size %d -> %d steps per epoch", size, batch_size,
                    dataset.get_dataset_size())
        return dataset

    @classmethod
    def _open_source(cls, config, loader_cfg, input_columns, shard):
        """(unbatched dataset of `input_columns`, record length or None) from the `data_loader` section."""
        if loader_cfg.type in _RECORD_LOADERS:
            files = find_mindrecord_files(loader_cfg.pop('dataset_dir', None), loader_cfg.pop('dataset_files', None))
            first = check_columns(files[0], input_columns)
            loader_cfg.pop('type')
            if config.seed is not None:
                ds.config.set_seed(int(config.seed))
            try:
                dataset = ds.MindDataset(files, columns_list=input_columns, **shard, **loader_cfg.to_dict())
            except (RuntimeError, ValueError, TypeError) as err:
                raise DatasetError(f"cannot open MindRecord {files[0]}: {str(err).strip().splitlines()[0]}") from None
            dataset.record_files = files
            return dataset, (len(first[input_columns[0]]) if first is not None else None)
        args = loader_cfg.to_dict()
        args.update(shard)
        return build_dataset_loader(args), None
