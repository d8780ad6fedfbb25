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
    says otherwise (val: not shuffled).

    For CLIP, `label_names` (a list, or a dataset of dataset/labels.py such as 'mnist_words') names the labels:
    - column_names [image, text] with `caption_templates` (e.g. ['a photo of the digit {}.']): the text column
      holds every template filled with the row's label name (contrastive pre-training picks one per sample);
    - column_names [image, text, label] with `hypothesis_template`: the text column holds the template filled
      with every label name (zero-shot classification), the same for every row.
    """

    def __new__(cls, dataset_dir=None, image_shape=(28, 28), label_column='last', stage=None, val_per_class=100,
                column_names=None, shuffle=None, num_shards=None, shard_id=None, label_names=None,
                caption_templates=None, hypothesis_template=None, **kwargs):
        del kwargs   # other upstream loader keys change nothing here
        if not dataset_dir:
            raise DatasetError("ImageCsvDataLoader: data_loader.dataset_dir is not set; give the CSV file "
                               "(--train_dataset_dir / --eval_dataset_dir)")
        if stage not in (None, 'train', 'val'):
            raise DatasetError(f"ImageCsvDataLoader: stage must be 'train', 'val' or None, got {stage!r}")
        column_names = list(column_names or ['image', 'label'])
        shape = tuple(image_shape)
        images, labels = read_image_csv(os.path.expanduser(str(dataset_dir)), shape, label_column)
        if len(shape) == 2:
            images = images[..., None]                      # HWC with one channel
        rows = np.arange(len(labels)) if stage is None else split_rows_by_class(labels, int(val_per_class))[stage]
        shuffle = stage != 'val' if shuffle is None else bool(shuffle)
        logger.info("image CSV %s: %d images (stage %s), shuffle %s", dataset_dir, len(rows), stage, shuffle)
        with_text = len(column_names) != 2 or caption_templates is not None
        names = _names_of(label_names, labels) if with_text else None
        texts = _texts_of(column_names, names, caption_templates, hypothesis_template)
        if texts is None:
            records = [(images[i], labels[i]) for i in rows]
        elif len(column_names) == 2:
            records = [(images[i], texts[labels[i]]) for i in rows]
        else:
            records = [(images[i], texts, labels[i]) for i in rows]
        dataset = sharded_rows(records, column_names, shuffle, num_shards, shard_id)
        if names is not None:
            dataset.label_names = names
        return dataset


def _names_of(label_names, labels):
    from mindformers.dataset.labels import labels as known  # pylint: disable=import-outside-toplevel
    if isinstance(label_names, str):
        if label_names not in known:
            raise DatasetError(f"ImageCsvDataLoader: unknown label_names '{label_names}'; give a list or one of "
                               f"{sorted(known)}")
        label_names = known[label_names]
    if not isinstance(label_names, (list, tuple)) or not label_names:
        raise DatasetError("ImageCsvDataLoader: a text column needs label_names (a list of class names, or a "
                           "dataset name such as 'mnist_words')")
    if int(labels.max()) >= len(label_names):
        raise DatasetError(f"ImageCsvDataLoader: label {int(labels.max())} has no name among the "
                           f"{len(label_names)} label_names")
    return [str(name) for name in label_names]


def _texts_of(column_names, names, caption_templates, hypothesis_template):
    """None for (image, label) rows (no `names`); else the captions per label (2 columns) or the class prompts
    (3 columns)."""
    if names is None:
        return None
    if len(column_names) == 2:
        templates = [caption_templates] if isinstance(caption_templates, str) else list(caption_templates)
        _check_templates(templates, 'caption_templates')
        return [np.array([template.format(name) for template in templates]) for name in names]
    if len(column_names) != 3 or hypothesis_template is None:
        raise DatasetError(f"ImageCsvDataLoader: column_names {column_names} need [image, label], [image, text] "
                           f"with caption_templates, or [image, text, label] with hypothesis_template")
    _check_templates([hypothesis_template], 'hypothesis_template')
    return np.array([hypothesis_template.format(name) for name in names])


def _check_templates(templates, key):
    if not templates or not all(isinstance(t, str) and '{}' in t for t in templates):
        raise DatasetError(f"ImageCsvDataLoader: {key} must be strings with {{}} where the label name goes, got "
                           f"{templates!r}")
