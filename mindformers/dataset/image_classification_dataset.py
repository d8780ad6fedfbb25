"""ImageCLSDataset: labelled images (an ImageFolderDataset layout, or any image source) -> transformed, shuffled,
sharded (image float32, label int32) batches."""
import os

import mindspore.dataset as ds

from mindformers.dataset.causal_language_model_dataset import CausalLanguageModelDataset, dataset_config_of
from mindformers.dataset.dataloader.build_dataloader import build_dataset_loader
from mindformers.dataset.transforms.mixup import Mixup
from mindformers.dataset.transforms.vision_transforms import build_vision_transforms
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister
from mindformers.tools.utils import IMAGE_EXTENSIONS

__all__ = ['ImageCLSDataset']

COLUMNS = ['image', 'label']


def class_folders(folder):
    """Sorted class sub-folders of an ImageFolderDataset root, each holding at least one image."""
    if not folder or not os.path.isdir(folder):
        raise DatasetError(f"image folder {folder!r} does not exist; the ImageFolderDataset layout is "
                           f"<dataset_dir>/<class name>/<image files>")
    classes = sorted(name for name in os.listdir(folder) if os.path.isdir(os.path.join(folder, name)))
    if not classes:
        raise DatasetError(f"image folder {folder} has no class sub-folders; the ImageFolderDataset layout is "
                           f"<dataset_dir>/<class name>/<image files>")
    if not any(name.lower().endswith(IMAGE_EXTENSIONS) for cls in classes
               for _, _, names in os.walk(os.path.join(folder, cls)) for name in names):
        raise DatasetError(f"image folder {folder} holds no image files ({', '.join(IMAGE_EXTENSIONS)})")
    return classes


@MindFormerRegister.register(MindFormerModuleType.DATASET)
class ImageCLSDataset(CausalLanguageModelDataset):
    """The image_classification task's dataset (upstream name; columns `image, label`).

    The `data_loader` (ImageFolderDataset: `<dataset_dir>/<class>/<image>`, classes numbered in sorted folder
    order) yields encoded images; the section's `transforms` list (mindspore.dataset.vision ops, starting with
    Decode) runs per image; batching, sharding and the label's int32 cast are CausalLanguageModelDataset's.
    The batched dataset carries `num_classes` and `class_names` (the folder names) for the trainer's checks.
    Upstream's `mixup_op` section (Mixup / CutMix, dataset/transforms/mixup.py) mixes whole batches after
    batching; the label column then holds (batch, num_classes) soft targets.
    """
    float_columns = ('image',)

    def __new__(cls, dataset_config=None, data_loader=None, transforms=None, input_columns=None,
                output_columns=None, batch_size=8, drop_remainder=True, **kwargs):
        config = dataset_config_of(dataset_config, data_loader=data_loader, transforms=transforms,
                                   input_columns=input_columns, output_columns=output_columns,
                                   batch_size=batch_size, drop_remainder=drop_remainder, **kwargs)
        config['input_columns'] = list(config.get('input_columns') or COLUMNS)
        mixup = dict(config.pop('mixup_op', None) or {})
        loader = dict(config.get('data_loader') or {})
        classes = class_folders(loader.get('dataset_dir')) if loader.get('type') == 'ImageFolderDataset' else None
        dataset = super().__new__(cls, dataset_config=config)
        if mixup:
            dataset = _with_mixup(dataset, mixup, classes, config)
        dataset.class_names = classes
        dataset.num_classes = len(classes) if classes else None
        return dataset

    @classmethod
    def _open_source(cls, config, loader_cfg, input_columns, shard):
        if len(input_columns) != 2:
            raise DatasetError(f"ImageCLSDataset: input_columns must be [image column, label column], got "
                               f"{input_columns}")
        dataset = image_source(config, loader_cfg, shard, 'ImageCLSDataset')
        columns = dataset.get_col_names()
        if columns != list(input_columns) and len(columns) == 2:
            dataset = dataset.rename(columns, list(input_columns))
        return dataset, None


def _with_mixup(dataset, section, classes, config):
    """The batched dataset with upstream's `mixup_op` (Mixup / CutMix) mapped over (image, label): labels become
    (batch, num_classes) float32 soft targets. num_classes: the section's, else the class folders'."""
    section = {key: value for key, value in section.items() if value is not None or key == 'cutmix_minmax'}
    section.setdefault('num_classes', len(classes) if classes else None)
    if section['num_classes'] is None:
        raise DatasetError("ImageCLSDataset: mixup_op needs num_classes (the data loader does not name its classes)")
    if config.get('seed') is not None:
        section.setdefault('seed', int(config['seed']))
    columns = list(dataset.model_input_columns)
    kept = {name: getattr(dataset, name, None) for name in ('record_length', 'record_files', 'label_names',
                                                            'model_input_columns')}
    mixed = dataset.map(operations=Mixup(**section), input_columns=columns[:2])
    for name, value in kept.items():
        setattr(mixed, name, value)
    return mixed


def image_source(config, loader_cfg, shard, owner):
    """The `data_loader` (sharded) with the section's `transforms` list mapped over its first column."""
    args = loader_cfg.to_dict()
    args.update(shard)
    if config.seed is not None:
        ds.config.set_seed(int(config.seed))
    dataset = build_dataset_loader(args)
    label_names = getattr(dataset, 'label_names', None)    # a loader's class names (CLIP's zero-shot prompts)
    operations = build_vision_transforms(config.transforms, owner)
    if operations:
        dataset = dataset.map(operations=operations, input_columns=dataset.get_col_names()[0],
                              num_parallel_workers=min(int(config.num_parallel_workers or 1), 2))
    dataset.label_names = label_names
    return dataset
