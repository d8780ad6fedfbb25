"""SFTDataLoader: supervised fine-tuning rows from json / jsonl / csv / tsv / parquet files, tokenized by a map
function (built-in per dataset_name, or the caller's) into the requested columns."""
import os

import numpy as np
from mindspore.dataset import GeneratorDataset

from mindformers.dataset.dataloader.sft_readers import MAP_FUNCTIONS, READERS, file_format_of, read_rows
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['SFTDataLoader', 'SFTDataSet', 'tokenizer_of']


def tokenizer_of(tokenizer):
    """A tokenizer object, or one built from a class name / a config dict."""
    if isinstance(tokenizer, (str, dict)):
        from mindformers.models.build_tokenizer import build_tokenizer  # pylint: disable=import-outside-toplevel
        return build_tokenizer({'type': tokenizer} if isinstance(tokenizer, str) else dict(tokenizer))
    if tokenizer is None or not callable(tokenizer):
        raise DatasetError(f"the data loader needs a tokenizer (an object, a class name or a config dict), got "
                           f"{tokenizer!r}")
    return tokenizer


@MindFormerRegister.register(MindFormerModuleType.DATASET_LOADER)
class SFTDataLoader:
    """`SFTDataLoader(dataset_dir, column_names, tokenizer, dataset_name='', file_format=None, max_length=1025,
    read_function=None, map_function=None, map_function_kwargs=None, shuffle=False, **GeneratorDataset args)`:
    rows from `read_function(path)` (a dict of columns), the built-in reader of `dataset_name`, or the file; each
    row through `map_function(row, tokenizer=..., max_length=..., **map_function_kwargs)` (default: the built-in
    of dataset_name: default, alpaca, advertisegen, cola, imdb, sst-2, ag-news, tnews, multi-round-chat), which
    returns the `column_names`."""

    def __new__(cls, dataset_dir, column_names, tokenizer, dataset_name='', file_format=None, max_length=1025,
                read_function=None, map_function=None, map_function_kwargs=None, shuffle=False, **kwargs):
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length <= 0:
            raise DatasetError(f"SFTDataLoader: max_length must be a positive integer, got {max_length!r}")
        if not isinstance(column_names, (list, tuple)) or not column_names:
            raise DatasetError(f"SFTDataLoader: column_names must be a non-empty list, got {column_names!r}")
        source = SFTDataSet(dataset_dir, column_names, tokenizer, dataset_name, file_format, max_length,
                            read_function, map_function, map_function_kwargs)
        return GeneratorDataset(source, column_names=list(column_names), shuffle=shuffle, **kwargs)


class SFTDataSet:
    """Random-access rows of an SFT file, mapped to the column values."""

    def __init__(self, dataset_dir, column_names, tokenizer, dataset_name='', file_format=None, max_length=1025,
                 read_function=None, map_function=None, map_function_kwargs=None):
        self.column_names = list(column_names)
        self.tokenizer = tokenizer_of(tokenizer)
        self.max_length = max_length
        kwargs = dict(map_function_kwargs or {})
        kwargs['tokenizer'] = tokenizer_of(kwargs['tokenizer']) if 'tokenizer' in kwargs else self.tokenizer
        kwargs.setdefault('max_length', max_length)
        self.map_kwargs = kwargs
        path = os.path.expanduser(str(dataset_dir))
        file_format = file_format_of(path, file_format)
        name = (dataset_name or 'default').lower()
        if read_function is not None:
            columns = read_function(path)
            keys = list(columns)
            self.rows = [dict(zip(keys, values)) for values in zip(*(columns[k] for k in keys))]
        elif name in READERS:
            self.rows = READERS[name](path)
        else:
            self.rows = read_rows(path, file_format)
        if map_function is None and name not in MAP_FUNCTIONS and name not in READERS:
            raise DatasetError(f"SFTDataLoader: dataset_name '{dataset_name}' has no built-in map function; known: "
                               f"{sorted(MAP_FUNCTIONS)} (or pass map_function)")
        self.map_function = map_function or MAP_FUNCTIONS.get(name, MAP_FUNCTIONS['default'])

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        out = self.map_function(self.rows[index], **self.map_kwargs)
        missing = [c for c in self.column_names if c not in out]
        if missing:
            raise DatasetError(f"SFTDataLoader: the map function gives {sorted(out)}, not the column(s) {missing}")
        return tuple(np.asarray(out[c]) for c in self.column_names)
