"""Flickr8kDataLoader (images and their five captions) and Cifar100DataLoader (images, the class prompts, labels):
the upstream loaders of CLIP's pre-training and zero-shot datasets."""
import os
import pickle

import numpy as np

from mindformers.dataset.dataloader.utils import sharded_rows
from mindformers.models.image_processor import open_image
from mindformers.tools.errors import DatasetError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['Flickr8kDataLoader', 'Cifar100DataLoader']

_FLICKR_SPLITS = {'train': 'Flickr_8k.trainImages.txt', 'test': 'Flickr_8k.testImages.txt',
                  'dev': 'Flickr_8k.devImages.txt'}


def _two_or_three(column_names, count, owner):
    names = list(column_names)
    if len(names) != count or not all(isinstance(name, str) for name in names):
        raise DatasetError(f"{owner}: column_names must be {count} column names, got {column_names!r}")
    return names


class _LoadedImages:
    """Rows whose first value is an image path, decoded (RGB, HWC uint8) when the row is read."""

    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        path, *rest = self.rows[index]
        return (np.asarray(open_image(path).convert('RGB')),) + tuple(rest)


@MindFormerRegister.register(MindFormerModuleType.DATASET_LOADER)
class Flickr8kDataLoader:
    """`Flickr8kDataLoader(dataset_dir, column_names=['image', 'text'], stage='train')` -> rows of (image HWC uint8,
    its captions as a string array). The layout is Flickr8k's:
    `<dataset_dir>/Flickr8k_Dataset/Flickr8k_Dataset/<name>.jpg` and `<dataset_dir>/Flickr8k_text/` holding
    `Flickr8k.token.txt` (`<name>.jpg#<n>\\t<caption>` lines) and the split lists
    `Flickr_8k.{train,dev,test}Images.txt`; stage 'all' reads every image that has captions."""

    def __new__(cls, dataset_dir=None, column_names=None, stage='train', shuffle=None, num_shards=None,
                shard_id=None, **kwargs):
        del kwargs
        names = _two_or_three(column_names or ['image', 'text'], 2, 'Flickr8kDataLoader')
        root = os.path.expanduser(str(dataset_dir or ''))
        images = os.path.join(root, 'Flickr8k_Dataset', 'Flickr8k_Dataset')
        text = os.path.join(root, 'Flickr8k_text')
        for folder in (images, text):
            if not os.path.isdir(folder):
                raise DatasetError(f"Flickr8kDataLoader: {folder} does not exist; the layout is <dataset_dir>/"
                                   f"Flickr8k_Dataset/Flickr8k_Dataset/*.jpg and <dataset_dir>/Flickr8k_text/")
        if stage not in list(_FLICKR_SPLITS) + ['all']:
            raise DatasetError(f"Flickr8kDataLoader: stage must be one of {list(_FLICKR_SPLITS) + ['all']}, got "
                               f"{stage!r}")
        captions = _read_captions(os.path.join(text, 'Flickr8k.token.txt'))
        if stage == 'all':
            chosen = sorted(captions)
        else:
            chosen = _read_lines(os.path.join(text, _FLICKR_SPLITS[stage]))
        missing = [name for name in chosen if name not in captions]
        if missing:
            raise DatasetError(f"Flickr8kDataLoader: {len(missing)} images of stage '{stage}' have no caption in "
                               f"Flickr8k.token.txt, e.g. {missing[0]}")
        rows = [(os.path.join(images, name), np.array(captions[name])) for name in chosen]
        logger.info("Flickr8k %s: %d images (stage %s)", root, len(rows), stage)
        shuffle = stage == 'train' if shuffle is None else bool(shuffle)
        return sharded_rows(_LoadedImages(rows), names, shuffle, num_shards, shard_id)


def _read_lines(path):
    if not os.path.isfile(path):
        raise DatasetError(f"Flickr8kDataLoader: {path} does not exist")
    with open(path, encoding='utf-8') as stream:
        return [line.strip() for line in stream if line.strip()]


def _read_captions(path):
    """{image name: [captions in file order]} of a Flickr8k.token.txt."""
    captions = {}
    for number, line in enumerate(_read_lines(path), 1):
        if '\t' not in line or '#' not in line.split('\t', 1)[0]:
            raise DatasetError(f"{path}:{number}: expected '<image>.jpg#<n>\\t<caption>'")
        key, caption = line.split('\t', 1)
        captions.setdefault(key.split('#', 1)[0], []).append(caption.strip())
    return captions


@MindFormerRegister.register(MindFormerModuleType.DATASET_LOADER)
class Cifar100DataLoader:
    """`Cifar100DataLoader(dataset_dir, column_names=['image', 'text', 'label'], stage='train', fine_label=True,
    shuffle=False, hypothesis_template='This is a photo of {}.')` -> rows of (image 32x32x3 uint8, the prompts of
    every class, label) from the python pickles `meta`, `train`, `test` in `dataset_dir` (cifar-100-python);
    stage 'all' is train then test. The dataset carries `label_names` (fine: 100, coarse: 20)."""

    def __new__(cls, dataset_dir=None, column_names=None, stage='train', fine_label=True, shuffle=False,
                hypothesis_template='This is a photo of {}.', num_shards=None, shard_id=None, **kwargs):
        del kwargs
        names = _two_or_three(column_names or ['image', 'text', 'label'], 3, 'Cifar100DataLoader')
        if stage not in ('train', 'test', 'all'):
            raise DatasetError(f"Cifar100DataLoader: stage must be 'train', 'test' or 'all', got {stage!r}")
        if not isinstance(hypothesis_template, str) or '{}' not in hypothesis_template:
            raise DatasetError(f"Cifar100DataLoader: hypothesis_template needs {{}} where the class name goes, got "
                               f"{hypothesis_template!r}")
        root = os.path.expanduser(str(dataset_dir or ''))
        kind = b'fine' if fine_label else b'coarse'
        label_names = [name.decode('utf-8') for name in _unpickle(root, 'meta')[kind + b'_label_names']]
        images, labels = [], []
        for part in (('train', 'test') if stage == 'all' else (stage,)):
            data = _unpickle(root, part)
            images.append(np.asarray(data[b'data'], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            labels.append(np.asarray(data[kind + b'_labels'], np.int32))
        images, labels = np.concatenate(images), np.concatenate(labels)
        prompts = np.array([hypothesis_template.format(name) for name in label_names])
        dataset = sharded_rows([(images[i], prompts, labels[i]) for i in range(len(labels))], names, shuffle,
                               num_shards, shard_id)
        dataset.label_names = label_names
        return dataset


def _unpickle(root, name):
    path = os.path.join(root, name)
    if not os.path.isfile(path):
        raise DatasetError(f"Cifar100DataLoader: {path} does not exist; dataset_dir must be the cifar-100-python "
                           f"folder holding meta, train and test")
    try:
        with open(path, 'rb') as stream:
            return pickle.load(stream, encoding='bytes')
    except (pickle.UnpicklingError, EOFError, ValueError) as err:
        raise DatasetError(f"Cifar100DataLoader: cannot read {path}: {err}") from None
