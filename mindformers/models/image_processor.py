"""BaseImageProcessor: images (files, PIL images, arrays, tensors) -> one normalised float32 batch (b, c, s, s).

The steps are MindSpore's own `mindspore.dataset.vision` ops run eagerly (resize the shorter side, center crop,
to a [0, 1] CHW tensor, normalise), so an image gives the same numbers here as in an evaluation dataset whose
`transforms` list names the same steps. Each family sets its defaults (size, mean, std, interpolation).
"""
import os

import numpy as np
import mindspore as ms
from mindspore.dataset import vision
from PIL import Image, UnidentifiedImageError

from mindformers.models.base_config import SupportListMixin
from mindformers.models.base_processor import BaseProcessor
from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.tools.utils import IMAGE_EXTENSIONS

IMAGENET_DEFAULT_MEAN = (0.485, 0.456, 0.406)
IMAGENET_DEFAULT_STD = (0.229, 0.224, 0.225)
_INTERPOLATIONS = {'cubic': vision.Inter.BICUBIC, 'bicubic': vision.Inter.BICUBIC,
                   'linear': vision.Inter.BILINEAR, 'bilinear': vision.Inter.BILINEAR,
                   'nearest': vision.Inter.NEAREST, 'area': vision.Inter.AREA}


def interpolation_of(name):
    if isinstance(name, vision.Inter):
        return name
    if str(name).lower() not in _INTERPOLATIONS:
        raise ConfigError(f"unknown interpolation '{name}'; use one of {sorted(_INTERPOLATIONS)}")
    return _INTERPOLATIONS[str(name).lower()]


def open_image(path):
    """A file -> a PIL image; a file that cannot be read or decoded is a one-line DatasetError naming it."""
    if not os.path.isfile(path):
        raise DatasetError(f"image file {path} does not exist")
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except (UnidentifiedImageError, OSError) as err:
        raise DatasetError(f"cannot decode image {path}: {err}") from None


def images_in(folder):
    """The image files directly or recursively under `folder`, sorted; none is a one-line DatasetError."""
    files = sorted(os.path.join(root, name) for root, _, names in os.walk(folder) for name in names
                   if name.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise DatasetError(f"folder {folder} holds no image files ({', '.join(IMAGE_EXTENSIONS)})")
    return files


class BaseImageProcessor(SupportListMixin):
    """`processor(images)` -> ms.Tensor (b, num_channels, size, size) float32.

    images: a path (an image file or a folder of them), a PIL image, an HWC uint8 array (or CHW when the first
    axis is 1 or 3 and the last is not), a batch array (b, ...) or ms.Tensor, or a list of these. Each is
    converted to RGB (num_channels 3) or grey (1), its shorter side resized to `resize` (default
    size / 0.875, as the ImageNet evaluation recipe), center-cropped to `size`, scaled to [0, 1] and normalised
    with `mean` / `std`. With `do_center_crop: False` it is resized to size x size instead (Hugging Face's ViT).
    """
    default_size = 224
    default_mean = IMAGENET_DEFAULT_MEAN
    default_std = IMAGENET_DEFAULT_STD
    default_interpolation = 'cubic'
    default_crop_ratio = 0.875        # the shorter side is resized to size / ratio before the center crop
    _saved_fields = ('size', 'resize', 'interpolation', 'mean', 'std', 'num_channels', 'do_center_crop')

    def __init__(self, image_resolution=None, size=None, resize=None, interpolation=None, mean=None, std=None,
                 num_channels=3, do_center_crop=True, **kwargs):
        if kwargs:
            raise ConfigError(f"{type(self).__name__}: unknown arguments {sorted(kwargs)}; it takes "
                              f"{['image_resolution'] + list(self._saved_fields)}")
        size = size if size is not None else image_resolution if image_resolution is not None else self.default_size
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ConfigError(f"{type(self).__name__}: size must be a positive integer, got {size!r}")
        if num_channels not in (1, 3):
            raise ConfigError(f"{type(self).__name__}: num_channels must be 1 (grey) or 3 (RGB), got {num_channels!r}")
        self.size = size
        self.resize = int(resize) if resize is not None else int(round(size / self.default_crop_ratio))
        if self.resize < size:
            raise ConfigError(f"{type(self).__name__}: resize {self.resize} is smaller than the crop size {size}")
        self.interpolation = interpolation or self.default_interpolation
        self.num_channels = num_channels
        self.mean = [float(v) for v in (mean if mean is not None else self.default_mean)]
        self.std = [float(v) for v in (std if std is not None else self.default_std)]
        for name, values in (('mean', self.mean), ('std', self.std)):
            if len(values) != num_channels:
                raise ConfigError(f"{type(self).__name__}: {name} has {len(values)} values but num_channels is "
                                  f"{num_channels}")
        if min(self.std) <= 0:
            raise ConfigError(f"{type(self).__name__}: std values must be positive, got {self.std}")
        self.do_center_crop = bool(do_center_crop)
        interpolation = interpolation_of(self.interpolation)
        # without the crop every image is resized to size x size, its aspect ratio not kept (Hugging Face's ViT)
        resize_ops = [vision.Resize(self.resize, interpolation), vision.CenterCrop(size)] if self.do_center_crop \
            else [vision.Resize((size, size), interpolation)]
        self._ops = resize_ops + [vision.ToTensor(), vision.Normalize(self.mean, self.std, is_hwc=False)]

    def to_dict(self):
        return {'type': type(self).__name__, **{name: getattr(self, name) for name in self._saved_fields}}

    def _pil_images(self, images):
        """Every input image as a PIL image of this processor's mode."""
        if isinstance(images, ms.Tensor):
            images = images.asnumpy()
        if isinstance(images, str):
            images = images_in(images) if os.path.isdir(images) else [images]
        elif isinstance(images, (Image.Image, np.ndarray)):
            images = list(images) if isinstance(images, np.ndarray) and images.ndim == 4 else [images]
        elif not isinstance(images, (list, tuple)):
            raise ConfigError(f"{type(self).__name__}: images must be a path, a PIL image, a numpy array, an "
                              f"ms.Tensor or a list of them, got {type(images).__name__}")
        mode = 'RGB' if self.num_channels == 3 else 'L'
        result = []
        for image in images:
            if isinstance(image, ms.Tensor):
                image = image.asnumpy()
            if isinstance(image, str):
                image = open_image(image)
            elif isinstance(image, np.ndarray):
                image = Image.fromarray(_hwc_uint8(image, type(self).__name__))
            elif not isinstance(image, Image.Image):
                raise ConfigError(f"{type(self).__name__}: cannot read an image from a {type(image).__name__}")
            result.append(image.convert(mode))
        if not result:
            raise ConfigError(f"{type(self).__name__}: no images given")
        return result

    def preprocess(self, images):
        batch = []
        for image in self._pil_images(images):
            for operation in self._ops:
                image = operation(image)
            batch.append(np.asarray(image, np.float32).reshape(self.num_channels, self.size, self.size))
        return ms.Tensor(np.stack(batch), ms.float32)

    def __call__(self, images, **kwargs):
        return self.preprocess(images)


def _hwc_uint8(array, owner):
    """An image array (HW, HWC or CHW; uint8, or floats in [0, 1]) -> HW / HWC uint8 for PIL."""
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
        array = np.transpose(array, (1, 2, 0))
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3):
        raise ConfigError(f"{owner}: an image array must be HW, HWC or CHW, got shape {array.shape}")
    if array.dtype != np.uint8:
        scale = 255.0 if array.size and float(np.max(array)) <= 1.0 else 1.0
        array = np.clip(np.asarray(array, np.float64) * scale, 0, 255).round().astype(np.uint8)
    return array


_PIL_RESAMPLE = {0: 'nearest', 2: 'bilinear', 3: 'bicubic', 4: 'bilinear', 5: 'bicubic'}


def hf_image_processor_kwargs(path):
    """A Hugging Face preprocessor_config.json -> BaseImageProcessor keyword arguments: ViTImageProcessor's resize to
    size x size, or CLIPImageProcessor's resize of the shorter side (`size.shortest_edge`) and center crop
    (`crop_size`); then rescale 1/255 and normalise."""
    hf = read_hf_preprocessor_config(path)
    size = hf.get('size', 224)
    if isinstance(size, dict) and 'shortest_edge' in size:
        crop = hf.get('crop_size', size['shortest_edge'])
        crop = _square(crop, path) if hf.get('do_center_crop', True) else int(size['shortest_edge'])
        geometry = dict(size=crop, resize=int(size['shortest_edge']), do_center_crop=bool(hf.get('do_center_crop',
                                                                                                    True)))
    else:
        size = _square(size, path)
        geometry = dict(size=size, resize=size, do_center_crop=False)
    mean = hf.get('image_mean') if hf.get('do_normalize', True) else None
    std = hf.get('image_std') if hf.get('do_normalize', True) else None
    mean = mean if mean is not None else [0.0] * (len(std) if std else 3)
    std = std if std is not None else [1.0] * len(mean)
    return dict(geometry, mean=list(mean), std=list(std), num_channels=len(mean),
                interpolation=_PIL_RESAMPLE.get(hf.get('resample', 2), 'bilinear'))


def read_hf_preprocessor_config(path):
    import json  # pylint: disable=import-outside-toplevel
    try:
        with open(path, encoding='utf-8') as stream:
            return json.load(stream)
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from None


def _square(size, path):
    if isinstance(size, dict):
        if size.get('height') != size.get('width') or size.get('height') is None:
            raise ConfigError(f"{path}: size {size} is not a square height x width; only square sizes are supported")
        size = size['height']
    return int(size)


class ImageOnlyProcessor(BaseProcessor):
    """A processor of an image-only model: `processor(image_input=images)` -> {'image': (b, c, s, s) float32};
    holds `image_processor` (a config dict, an instance, or None for the family's defaults)."""
    image_processor_class = BaseImageProcessor

    def __init__(self, image_processor=None, return_tensors='ms'):
        if isinstance(image_processor, dict):
            image_processor = self.image_processor_class(**{k: v for k, v in image_processor.items() if k != 'type'})
        if image_processor is None:
            image_processor = self.image_processor_class()
        if not isinstance(image_processor, BaseImageProcessor):
            raise ConfigError(f"{type(self).__name__}: image_processor must be an image processor, got "
                              f"{type(image_processor).__name__}")
        self.image_processor = image_processor
        self.tokenizer = None
        self.return_tensors = return_tensors

    def __call__(self, image_input=None, text_input=None):
        if text_input is not None:
            raise ConfigError(f"{type(self).__name__} has no tokenizer; it takes image_input only")
        if image_input is None:
            raise ConfigError(f"{type(self).__name__}: give image_input (image files, PIL images or arrays)")
        return {'image': self.image_processor(image_input)}
