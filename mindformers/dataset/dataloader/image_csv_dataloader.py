"""ImageCsvDataLoader: images stored as CSV rows of pixel values and a label (MNIST-style CSVs, plain or gzipped)."""
import gzip
import os

import numpy as np

from mindformers.dataset.dataloader.utils import sharded_rows
from mindformers.tools.errors import DatasetError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['ImageCsvDataLoader', 'read_image_csv', 'split_rows_by_class']


def read_image_csv(path, image_shape=(28, 28), label_column='last'):
    """(images uint8 (n, *image_shape), labels int32 (n,)) of a CSV with one image per row: the pixel values (0-255,
    row-major, channels last) and the label as the `label_column` ('last' or 'first') value; a header line is
    skipped. A malformed row is a one-line DatasetError naming the file and line."""
    if label_column not in ('last', 'first'):
        raise DatasetError(f"label_column must be 'last' or 'first', got {label_column!r}")
    if not os.path.isfile(path):
        raise DatasetError(f"image CSV {path} does not exist")
    size = int(np.prod(image_shape))
    opener = gzip.open if path.endswith('.gz') else open
    images, labels = [], []
    with opener(path, 'rt', encoding='utf-8') as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                values = [int(float(v)) for v in line.strip().split(',')]
            except ValueError:
                if number == 1:        # a header line
                    continue
                raise DatasetError(f"{path}:{number}: a value is not a number") from None
            if len(values) != size + 1:
                raise DatasetError(f"{path}:{number}: {len(values)} values, expected {size} pixels of "
                                   f"{tuple(image_shape)} and a label")
            label = values[-1] if label_column == 'last' else values[0]
            pixels = values[:-1] if label_column == 'last' else values[1:]
            if label < 0 or min(pixels) < 0 or max(pixels) > 255:
                raise DatasetError(f"{path}:{number}: label {label} is negative or a pixel is outside 0-255 (is "
                                   f"label_column '{label_column}' right?)")
            images.append(np.asarray(pixels, np.uint8).reshape(image_shape))
            labels.append(label)
    if not images:
        raise DatasetError(f"{path} holds no rows")
    return np.stack(images), np.asarray(labels, np.int32)


def split_rows_by_class(labels, val_per_class):
    """{'train': row indices, 'val': row indices}: the last `val_per_class` rows of every label are held out."""
    split = {'train': [], 'val': []}
    for label in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == label)
        if len(rows) <= val_per_class:
            raise DatasetError(f"label {label} has {len(rows)} rows, not more than val_per_class {val_per_class}")
        split['train'].extend(rows[:len(rows) - val_per_class].tolist())
        split['val'].extend(rows[len(rows) - val_per_class:].tolist())
    return {stage: np.asarray(sorted(rows)) for stage, rows in split.items()}


@MindFormerRegister.register(MindFormerModuleType.DATASET_LOADER)
class ImageCsvDataLoader:
    """`ImageCsvDataLoader(dataset_dir=<file.csv[.gz]>, image_shape=[28, 28], label_column='last', stage=None,
    val_per_class=100, column_names=['image', 'label'])` -> a GeneratorDataset of (HWC uint8 image, int32 label),
    the same as an ImageFolderDataset after Decode (so the YAML `transforms` start at ToTensor or a resize). With
    `stage` 'train' / 'val' the last `val_per_class` rows of each label are held out for 'val' (the split of
    scripts/examples/image_classification/mnist_to_folders.py); None reads every row. Shuffled unless `shuffle`
    says otherwise (val: not shuffled)."""

    def __new__(cls, dataset_dir=None, image_shape=(28, 28), label_column='last', stage=None, val_per_class=100,
                column_names=None, shuffle=None, num_shards=None, shard_id=None, **kwargs):
        del kwargs   # other upstream loader keys change nothing here
        if not dataset_dir:
            raise DatasetError("ImageCsvDataLoader: data_loader.dataset_dir is not set; give the CSV file "
                               "(--train_dataset_dir / --eval_dataset_dir)")
        if stage not in (None, 'train', 'val'):
            raise DatasetError(f"ImageCsvDataLoader: stage must be 'train', 'val' or None, got {stage!r}")
        shape = tuple(image_shape)
        images, labels = read_image_csv(os.path.expanduser(str(dataset_dir)), shape, label_column)
        if len(shape) == 2:
            images = images[..., None]                      # HWC with one channel
        rows = np.arange(len(labels)) if stage is None else split_rows_by_class(labels, int(val_per_class))[stage]
        shuffle = stage != 'val' if shuffle is None else bool(shuffle)
        logger.info("image CSV %s: %d images (stage %s), shuffle %s", dataset_dir, len(rows), stage, shuffle)
        return sharded_rows([(images[i], labels[i]) for i in rows], list(column_names or ['image', 'label']), shuffle,
                            num_shards, shard_id)
