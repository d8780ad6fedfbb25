"""WMT16DataLoader: line-aligned `<stage>.source` / `<stage>.target` text files (WMT16 en-ro layout) as pairs."""
import os

from mindformers.dataset.dataloader.utils import sharded_rows
from mindformers.tools.errors import DatasetError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['WMT16DataLoader', 'read_translation_pairs']


def _lines(path):
    try:
        with open(path, encoding='utf-8') as stream:
            return [line.rstrip('\n').rstrip('\r') for line in stream]
    except UnicodeDecodeError as err:
        raise DatasetError(f"{path} is not UTF-8 text: {err.reason} at byte {err.start}") from None


def read_translation_pairs(dataset_dir, stage='train'):
    """[(source, target), ...] of `dataset_dir/<stage>.source` and `.target` (one sentence per line, the files
    line-aligned). A trailing blank line ends a file; any other blank side, or files of different lengths, is a
    DatasetError naming the file and line (a dropped line would pair every later sentence with the wrong one)."""
    if not dataset_dir:
        raise DatasetError("WMT16DataLoader: data_loader.dataset_dir is not set; give the folder holding "
                           "<stage>.source and <stage>.target (--train_dataset_dir / --eval_dataset_dir)")
    folder = os.path.expanduser(str(dataset_dir))
    if not os.path.isdir(folder):
        raise DatasetError(f"WMT16DataLoader: dataset_dir {folder} is not a folder; it must hold {stage}.source "
                           f"and {stage}.target")
    paths = [os.path.join(folder, f'{stage}.{side}') for side in ('source', 'target')]
    for path in paths:
        if not os.path.isfile(path):
            raise DatasetError(f"WMT16DataLoader: {path} not found (stage '{stage}' reads {stage}.source and "
                               f"{stage}.target)")
    sources, targets = (_lines(path) for path in paths)
    for lines in (sources, targets):
        while lines and not lines[-1].strip():
            lines.pop()
    if len(sources) != len(targets):
        raise DatasetError(f"WMT16DataLoader: {paths[0]} has {len(sources)} lines but {paths[1]} has "
                           f"{len(targets)}; the files must be line-aligned")
    if not sources:
        raise DatasetError(f"WMT16DataLoader: {paths[0]} holds no sentence")
    for number, pair in enumerate(zip(sources, targets), 1):
        for path, text in zip(paths, pair):
            if not text.strip():
                raise DatasetError(f"WMT16DataLoader: {path} line {number} is empty; every pair needs both sides")
    return list(zip(sources, targets))


@MindFormerRegister.register(MindFormerModuleType.DATASET_LOADER)
class WMT16DataLoader:
    """`WMT16DataLoader(dataset_dir, column_names=['source', 'target'], stage='train')` -> a GeneratorDataset of
    (source, target) strings read from `<dataset_dir>/<stage>.source` and `<stage>.target` (stage train, val, test
    or any other file prefix). Shuffled for stage train unless `shuffle` says otherwise."""
    _default_column_names = ['source', 'target']

    def __new__(cls, dataset_dir=None, column_names=None, stage='train', shuffle=None, num_shards=None,
                shard_id=None, **kwargs):
        del kwargs   # other upstream loader keys change nothing here
        column_names = list(column_names or cls._default_column_names)
        if len(column_names) != 2 or not all(isinstance(name, str) for name in column_names):
            raise DatasetError(f"WMT16DataLoader: column_names must be two names [source, target], got "
                               f"{column_names!r}")
        rows = read_translation_pairs(dataset_dir, stage)
        shuffle = stage == 'train' if shuffle is None else bool(shuffle)
        logger.info("WMT16 %s: %d sentence pairs from %s, shuffle %s", stage, len(rows), dataset_dir, shuffle)
        return sharded_rows(rows, column_names, shuffle, num_shards, shard_id)
