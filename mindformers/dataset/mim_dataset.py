"""MIMDataset: images -> transformed, shuffled, sharded batches with MAE masks (masked image modeling)."""
import numpy as np

from mindformers.dataset.causal_language_model_dataset import CausalLanguageModelDataset, dataset_config_of
from mindformers.dataset.image_classification_dataset import class_folders, image_source
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['MIMDataset', 'MaeMask']

COLUMNS = ['image', 'mask', 'ids_restore', 'unmask_index']


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class MaeMask:
    """Upstream's MAE mask policy: per image, a random `1 - mask_ratio` share of the (input_size / patch_size)^2
    patches stays visible. `__call__(image)` -> (image, mask (n,) float32 with 1 on masked patches, ids_restore (n,)
    int32 the position of each patch in the shuffled order, unmask_index (visible,) int32 the kept patches)."""

    def __init__(self, input_size=224, patch_size=16, mask_ratio=0.75, seed=None):
        for name, value in (('input_size', input_size), ('patch_size', patch_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DatasetError(f"MaeMask: {name} must be a positive integer, got {value!r}")
        if input_size % patch_size:
            raise DatasetError(f"MaeMask: input_size {input_size} is not divisible by patch_size {patch_size}")
        if not isinstance(mask_ratio, (int, float)) or not 0 < mask_ratio < 1:
            raise DatasetError(f"MaeMask: mask_ratio must be a number in (0, 1), got {mask_ratio!r}")
        self.num_patches = (input_size // patch_size) ** 2
        self.num_visible = int(self.num_patches * (1 - mask_ratio))
        if self.num_visible < 1:
            raise DatasetError(f"MaeMask: mask_ratio {mask_ratio} leaves no visible patch of {self.num_patches}")
        self.rng = np.random.default_rng(seed)

    def __call__(self, image):
        ids_shuffle = np.argsort(self.rng.random(self.num_patches)).astype(np.int32)
        ids_restore = np.argsort(ids_shuffle).astype(np.int32)
        mask = np.ones(self.num_patches, np.float32)
        mask[:self.num_visible] = 0
        return image, mask[ids_restore], ids_restore, ids_shuffle[:self.num_visible]


@MindFormerRegister.register(MindFormerModuleType.DATASET)
class MIMDataset(CausalLanguageModelDataset):
    """The masked_image_modeling task's dataset (upstream name): the `data_loader` images (labels dropped) through
    the `transforms` list, then the `mask_policy` (MaeMask: input_size, patch_size, mask_ratio) adds the mask
    columns; batches of `image, mask, ids_restore, unmask_index` (ViTMAEForPreTraining's argument order)."""
    float_columns = ('image', 'mask')

    def __new__(cls, dataset_config=None, data_loader=None, transforms=None, mask_policy=None, input_columns=None,
                output_columns=None, batch_size=8, drop_remainder=True, **kwargs):
        config = dataset_config_of(dataset_config, data_loader=data_loader, transforms=transforms,
                                   mask_policy=mask_policy, input_columns=input_columns,
                                   output_columns=output_columns, batch_size=batch_size,
                                   drop_remainder=drop_remainder, **kwargs)
        policy = dict(config.get('mask_policy') or {})
        if policy.get('type', 'MaeMask') != 'MaeMask':
            raise DatasetError(f"MIMDataset: mask_policy type '{policy.get('type')}' is not available; use MaeMask "
                               f"(upstream's SimMask belongs to SimMIM, which this build does not include)")
        loader = dict(config.get('data_loader') or {})
        if loader.get('type') == 'ImageFolderDataset':
            class_folders(loader.get('dataset_dir'))       # a missing or empty folder is one line here
        config['input_columns'] = list(config.get('output_columns') or COLUMNS)
        if config['input_columns'] != COLUMNS:
            raise DatasetError(f"MIMDataset: output_columns must be {COLUMNS}, got {config['input_columns']}")
        return super().__new__(cls, dataset_config=config)

    @classmethod
    def _open_source(cls, config, loader_cfg, input_columns, shard):
        policy = {k: v for k, v in dict(config.mask_policy or {}).items() if k != 'type'}
        policy.setdefault('seed', int(config.seed) if config.seed is not None else None)
        masker = MaeMask(**policy)
        dataset = image_source(config, loader_cfg, shard, 'MIMDataset')
        dataset = dataset.project(['image'])
        return dataset.map(operations=masker, input_columns=['image'], output_columns=list(input_columns)), None


