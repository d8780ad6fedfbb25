"""TrainingDataLoader: pre-training samples from text files: every line tokenized, the ids concatenated and cut
into rows of max_length (is_align), or one row per line; `samples_num` rows, re-reading the files when needed."""
import os
import random

import numpy as np
from mindspore.dataset import GeneratorDataset

from mindformers.dataset.dataloader.sft_dataloader import tokenizer_of
from mindformers.dataset.dataloader.sft_readers import FORMATS, READERS, read_rows
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['TrainingDataLoader', 'TrainingDataset']


@MindFormerRegister.register(MindFormerModuleType.DATASET_LOADER)
class TrainingDataLoader:
    """`TrainingDataLoader(dataset_dir, column_names, tokenizer, dataset_name='', is_align=True, max_length=1025,
    text_col='', file_format=None, read_function=None, shuffle=False, samples_num=10000, skip_num=0,
    file_limit=1, **GeneratorDataset args)`: `dataset_dir` a file or a folder (its files ending in file_format),
    read `file_limit` files at a time; rows are `tokenizer.prepare_for_model` outputs (`column_names`, e.g.
    input_ids, attention_mask). Local files only (upstream also reads HDFS)."""

    def __new__(cls, dataset_dir, column_names, tokenizer, dataset_name='', is_align=True, max_length=1025,
                text_col='', file_format=None, read_function=None, shuffle=False, samples_num=10000, skip_num=0,
                file_limit=1, **kwargs):
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length <= 0:
            raise DatasetError(f"TrainingDataLoader: max_length must be a positive integer, got {max_length!r}")
        source = TrainingDataset(dataset_dir, column_names, tokenizer, dataset_name, is_align, max_length, text_col,
                                 file_format, read_function, shuffle, samples_num, file_limit)
        kwargs['num_shards'] = kwargs['shard_id'] = None
        return GeneratorDataset(source, column_names=list(column_names), shuffle=shuffle, **kwargs).skip(skip_num)


class TrainingDataset:
    """Iterable rows (len = samples_num)."""

    def __init__(self, dataset_dir, column_names, tokenizer, dataset_name='', is_align=True, max_length=1025,
                 text_col='', file_format=None, read_function=None, shuffle=True, samples_num=10000, file_limit=1):
        self.column_names = list(column_names)
        self.tokenizer = tokenizer_of(tokenizer)
        self.dataset_name = (dataset_name or '').lower()
        self.is_align = is_align
        self.max_length = max_length
        self.text_col = text_col
        self.file_format = (file_format or '').strip('.').lower()
        self.read_function = read_function
        self.shuffle = shuffle
        self.samples_num = samples_num
        self.file_limit = max(int(file_limit), 1)
        self.files = self._walk_files(os.path.expanduser(str(dataset_dir)))
        self.start = 0
        self.samples = []

    def _walk_files(self, path):
        if os.path.isfile(path):
            return [path]
        if not os.path.isdir(path):
            raise DatasetError(f"TrainingDataLoader: dataset_dir {path} does not exist (HDFS paths are not read here)")
        if not self.file_format:
            raise DatasetError("TrainingDataLoader: a dataset_dir folder needs file_format (the files' extension)")
        files = sorted({os.path.join(path, name) for name in os.listdir(path) if name.endswith(self.file_format)})
        if not files:
            raise DatasetError(f"TrainingDataLoader: no *{self.file_format} file in {path}")
        return files

    def _sentences(self, path):
        if self.read_function is not None:
            columns = self.read_function(path)
            values = columns[self.text_col] if self.text_col else next(iter(columns.values()))
        elif self.dataset_name in READERS:
            rows = READERS[self.dataset_name](path)
            values = [row[self.text_col] if self.text_col else next(iter(row.values())) for row in rows]
        elif self.file_format in FORMATS:
            rows = read_rows(path, self.file_format)
            values = [row[self.text_col] if self.text_col else next(iter(row.values())) for row in rows]
        else:
            raise DatasetError(f"TrainingDataLoader: this dataset is not supported (dataset_name "
                               f"'{self.dataset_name}', file_format '{self.file_format}'); give a known dataset_name, "
                               f"a file_format of {list(FORMATS)} or read_function")
        lines = []
        for value in values:
            lines.extend(line.rstrip() for line in str(value).split('\n') if line.strip())
        return lines

    def _load_next_files(self):
        current = self.files[self.start:self.start + self.file_limit]
        if not current:
            self.start = 0
            current = self.files[:self.file_limit]
        self.start += self.file_limit
        samples, buffer = [], []
        for path in current:
            for sentence in self._sentences(path):
                ids = self.tokenizer.encode(sentence, add_special_tokens=False)
                if not self.is_align:
                    samples.append(ids)
                    continue
                buffer.extend(ids)
                while len(buffer) > self.max_length:
                    samples.append(buffer[:self.max_length])
                    buffer = buffer[self.max_length:]
        if self.shuffle:
            random.shuffle(samples)
        if not samples:
            raise DatasetError(f"TrainingDataLoader: {current} give no sample of more than {self.max_length} tokens")
        self.samples = samples

    def __len__(self):
        return self.samples_num

    def __iter__(self):
        index = 0
        for _ in range(self.samples_num):
            if index >= len(self.samples):
                self._load_next_files()
                index = 0
            encoded = self.tokenizer.prepare_for_model(self.samples[index], add_special_tokens=True,
                                                       max_length=self.max_length, padding='max_length',
                                                       truncation=True, truncate_direction='LEFT',
                                                       return_attention_mask=True)
            index += 1
            yield tuple(np.asarray(encoded[c], np.int32) for c in self.column_names)
