"""SimMask: SimMIM's random block mask. MaeMask lives with MIMDataset and is registered here as a mask policy."""
import math

import numpy as np

from mindformers.dataset.mim_dataset import MaeMask
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['SimMask', 'MaeMask']

MindFormerRegister.register_cls(MaeMask, MindFormerModuleType.MASK_POLICY)


@MindFormerRegister.register(MindFormerModuleType.MASK_POLICY)
class SimMask:
    """`__call__(image)` -> (image, mask (input_size / model_patch_size)^2 grid, int32): ceil(mask_ratio * n) of the
    n = (input_size / mask_patch_size)^2 blocks, drawn at random, are 1 (masked); each block covers
    (mask_patch_size / model_patch_size)^2 model patches."""

    def __init__(self, input_size=192, mask_patch_size=32, model_patch_size=4, mask_ratio=0.6, seed=None):
        if input_size % mask_patch_size:
            raise DatasetError(f"SimMask: input_size {input_size} is not divisible by mask_patch_size "
                               f"{mask_patch_size}")
        if mask_patch_size % model_patch_size:
            raise DatasetError(f"SimMask: mask_patch_size {mask_patch_size} is not divisible by model_patch_size "
                               f"{model_patch_size}")
        if not 0 < mask_ratio < 1:
            raise DatasetError(f"SimMask: mask_ratio must be in (0, 1), got {mask_ratio!r}")
        self.rand_size = input_size // mask_patch_size
        self.scale = mask_patch_size // model_patch_size
        self.token_count = self.rand_size ** 2
        self.mask_count = int(math.ceil(self.token_count * mask_ratio))
        self.rng = np.random.default_rng(seed)

    def __call__(self, image):
        mask = np.zeros(self.token_count, np.int32)
        mask[self.rng.permutation(self.token_count)[:self.mask_count]] = 1
        mask = mask.reshape(self.rand_size, self.rand_size)
        return image, mask.repeat(self.scale, axis=0).repeat(self.scale, axis=1)

    def __repr__(self):
        return "Mask generator for simmin arch."
