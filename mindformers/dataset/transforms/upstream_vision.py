"""Upstream's own image transforms: the batch transforms image processors chain (BCHW2BHWC -> BatchPILize ->
BatchResize -> BatchCenterCrop -> BatchToTensor -> BatchNormalize), MindSpore's crop/resize/flip ops with
upstream's string interpolation, and timm-style RandomErasing on normalised CHW images."""
import math
import random

import numpy as np
from PIL import Image
from mindspore import Tensor
from mindspore.dataset import vision

from mindformers.models.image_processor import interpolation_of
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['BCHW2BHWC', 'BatchResize', 'BatchCenterCrop', 'BatchToTensor', 'BatchNormalize', 'BatchPILize',
           'RandomCropDecodeResize', 'RandomResizedCrop', 'Resize', 'RandomHorizontalFlip', 'RandomErasing']


def _per_image(op, batch, owner):
    """Apply `op` to one image (HWC numpy, CHW for the Normalize/ToTensor outputs, or PIL), each image of a list,
    or each item of a rank-4 array (stacked again)."""
    if isinstance(batch, Tensor):
        batch = batch.asnumpy()
    if isinstance(batch, Image.Image):
        return op(batch)
    if isinstance(batch, list):
        return [op(item) for item in batch]
    if isinstance(batch, np.ndarray):
        if batch.ndim == 4:
            return np.stack([op(item) for item in batch])
        if batch.ndim == 3:
            return op(batch)
        raise DatasetError(f"{owner}: the rank of image_batch should be 3 or 4, but got {batch.ndim}")
    raise DatasetError(f"{owner}: unsupported input {type(batch).__name__}; give numpy arrays, PIL images or a "
                       f"list of them")


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class BCHW2BHWC:
    """(b, c, h, w) -> (b, h, w, c) (a (c, h, w) image -> (h, w, c)); PIL images pass unchanged."""

    def __call__(self, image_batch):
        if isinstance(image_batch, Tensor):
            image_batch = image_batch.asnumpy()
        if isinstance(image_batch, list):
            return [self(item) for item in image_batch]
        if isinstance(image_batch, Image.Image):
            return image_batch
        if isinstance(image_batch, np.ndarray) and image_batch.ndim in (3, 4):
            return np.moveaxis(image_batch, -3, -1)
        raise DatasetError(f"BCHW2BHWC: expected a (b, c, h, w) or (c, h, w) array, got {type(image_batch).__name__}"
                           f"{getattr(image_batch, 'shape', '')}")


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class BatchResize:
    """Resize every image: an int sets the shorter side (aspect kept), (h, w) the exact size."""

    def __init__(self, image_resolution, interpolation='cubic'):
        self.resize = vision.Resize(image_resolution, interpolation_of(interpolation))

    def __call__(self, image_batch):
        return _per_image(self.resize, image_batch, 'BatchResize')


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class BatchCenterCrop:
    """Center-crop every image to image_resolution x image_resolution."""

    def __init__(self, image_resolution):
        self.crop = vision.CenterCrop(image_resolution)

    def __call__(self, image_batch):
        return _per_image(self.crop, image_batch, 'BatchCenterCrop')


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class BatchToTensor:
    """HWC uint8 (or PIL) images -> CHW float32 in [0, 1]."""

    def __init__(self):
        self.to_tensor = vision.ToTensor()

    def __call__(self, image_batch):
        return _per_image(self.to_tensor, image_batch, 'BatchToTensor')


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class BatchNormalize:
    """(x - mean[c]) / std[c] per channel of CHW images (HWC with is_hwc=True); CLIP's statistics by default."""

    def __init__(self, mean=(0.48145466, 0.4578275, 0.40821073), std=(0.26862954, 0.26130258, 0.27577711),
                 is_hwc=False):
        self.normalize = vision.Normalize(mean=list(mean), std=list(std), is_hwc=is_hwc)

    def __call__(self, image_batch):
        if isinstance(image_batch, Image.Image) or (isinstance(image_batch, list) and image_batch and
                                                    isinstance(image_batch[0], Image.Image)):
            raise DatasetError("BatchNormalize: give arrays (after BatchToTensor), not PIL images")
        return _per_image(lambda image: self.normalize(np.asarray(image, np.float32)), image_batch, 'BatchNormalize')


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class BatchPILize:
    """Arrays -> PIL images (a rank-4 batch -> a list); PIL images and lists of them pass unchanged."""

    def __call__(self, image_batch):
        if isinstance(image_batch, Image.Image):
            return image_batch
        if isinstance(image_batch, list):
            if not all(isinstance(item, Image.Image) for item in image_batch):
                raise DatasetError("BatchPILize: a list must hold PIL images only")
            return image_batch
        if isinstance(image_batch, Tensor):
            image_batch = image_batch.asnumpy()
        if isinstance(image_batch, np.ndarray):
            if image_batch.ndim == 4:
                return [Image.fromarray(item.astype(np.uint8)) for item in image_batch]
            if image_batch.ndim == 3:
                return Image.fromarray(image_batch.astype(np.uint8))
            raise DatasetError(f"BatchPILize: the rank of image_batch should be 3 or 4, but got {image_batch.ndim}")
        raise DatasetError(f"BatchPILize: unsupported input type {type(image_batch).__name__}")


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class RandomCropDecodeResize(vision.RandomCropDecodeResize):
    """MindSpore's RandomCropDecodeResize (encoded bytes -> a random crop of area share `scale` and aspect
    `ratio`, decoded and resized to `size`) with upstream's string interpolation."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3. / 4., 4. / 3.), interpolation='cubic', max_attempts=10):
        super().__init__(size, tuple(scale), tuple(ratio), interpolation_of(interpolation), max_attempts)


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class RandomResizedCrop(vision.RandomResizedCrop):
    """MindSpore's RandomResizedCrop on a decoded image, with upstream's string interpolation."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3. / 4., 4. / 3.), interpolation='cubic', max_attempts=10):
        super().__init__(size, tuple(scale), tuple(ratio), interpolation_of(interpolation), max_attempts)


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class Resize(vision.Resize):
    """MindSpore's Resize with upstream's string interpolation."""

    def __init__(self, size, interpolation='cubic'):
        super().__init__(size, interpolation_of(interpolation))
        self.random = False


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class RandomHorizontalFlip(vision.RandomHorizontalFlip):
    """MindSpore's RandomHorizontalFlip: flips with probability `prob`."""

    def __init__(self, prob=0.5):
        super().__init__(prob)


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class RandomErasing:
    """timm's RandomErasing on normalised images (CHW, or a batch NCHW): with `probability`, between min_count and
    max_count rectangles of area share [min_area, max_area] / count and aspect [min_aspect, max_aspect] (log
    uniform) are filled with zeros ('const'), one normal colour per rectangle ('rand') or normal noise per pixel
    ('pixel'). With num_splits > 1 the first batch / num_splits images (the clean split) are left as they are.
    Draws come from Python's `random` (positions) and NumPy (noise), seeded with `seed` if given."""

    def __init__(self, probability=0.5, min_area=0.02, max_area=1 / 3, min_aspect=0.3, max_aspect=None, mode='const',
                 min_count=1, max_count=None, num_splits=0, seed=None):
        if not 0 <= probability <= 1:
            raise DatasetError(f"RandomErasing: probability must be in [0, 1], got {probability!r}")
        if not 0 < min_area <= max_area <= 1:
            raise DatasetError(f"RandomErasing: need 0 < min_area <= max_area <= 1, got {min_area}, {max_area}")
        mode = str(mode).lower()
        if mode not in ('const', 'rand', 'pixel'):
            raise DatasetError(f"RandomErasing: mode must be 'const', 'rand' or 'pixel', got {mode!r}")
        self.probability = probability
        self.min_area, self.max_area = min_area, max_area
        max_aspect = max_aspect or 1 / min_aspect
        self.log_aspect_ratio = (math.log(min_aspect), math.log(max_aspect))
        self.min_count = min_count
        self.max_count = max_count or min_count
        self.mode = mode
        self.num_splits = num_splits
        self.random = random.Random(seed)
        self.noise = np.random.default_rng(seed)

    def _fill(self, channels, height, width, dtype):
        if self.mode == 'pixel':
            return self.noise.normal(size=(channels, height, width)).astype(dtype)
        if self.mode == 'rand':
            return self.noise.normal(size=(channels, 1, 1)).astype(dtype)
        return np.zeros((channels, 1, 1), dtype)

    def _erase(self, image):
        if self.random.random() > self.probability:
            return image
        channels, height, width = image.shape
        area = height * width
        count = self.min_count if self.min_count == self.max_count else \
            self.random.randint(self.min_count, self.max_count)
        for _ in range(count):
            for _ in range(10):
                target = self.random.uniform(self.min_area, self.max_area) * area / count
                aspect = math.exp(self.random.uniform(*self.log_aspect_ratio))
                h = int(round(math.sqrt(target * aspect)))
                w = int(round(math.sqrt(target / aspect)))
                if w < width and h < height:
                    top = self.random.randint(0, height - h)
                    left = self.random.randint(0, width - w)
                    image[:, top:top + h, left:left + w] = self._fill(channels, h, w, image.dtype)
                    break
        return image

    def __call__(self, x):
        x = np.array(x.asnumpy() if isinstance(x, Tensor) else x, copy=True)
        if x.ndim == 3:
            return self._erase(x)
        if x.ndim != 4:
            raise DatasetError(f"RandomErasing: expected a (c, h, w) image or an (n, c, h, w) batch, got {x.shape}")
        start = x.shape[0] // self.num_splits if self.num_splits > 1 else 0
        for index in range(start, x.shape[0]):
            x[index] = self._erase(x[index])
        return x
