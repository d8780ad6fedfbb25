"""ViTImageProcessor (ImageNet statistics, 224 crop of a 256 resize, bicubic) and ViTProcessor."""
from mindformers.models.base_processor import BaseProcessor
from mindformers.models.image_processor import BaseImageProcessor
from mindformers.models.vit.vit_config import VIT_NAMES
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class ViTImageProcessor(BaseImageProcessor):
    """Upstream's ViT evaluation transform: resize the shorter side to 256 (bicubic), center-crop 224, normalise
    with the ImageNet mean and std (every value configurable; `image_resolution` is upstream's name of `size`)."""
    _support_list = VIT_NAMES


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class ViTProcessor(BaseProcessor):
    """`processor(image_input=images)` -> {'image': (b, c, s, s) float32 tensor}; holds `image_processor`."""
    _support_list = VIT_NAMES

    def __init__(self, image_processor=None, return_tensors='ms'):
        if isinstance(image_processor, dict):
            image_processor = ViTImageProcessor(**{k: v for k, v in image_processor.items() if k != 'type'})
        if image_processor is None:
            image_processor = ViTImageProcessor()
        if not isinstance(image_processor, BaseImageProcessor):
            raise ConfigError(f"ViTProcessor: image_processor must be an image processor, got "
                              f"{type(image_processor).__name__}")
        self.image_processor = image_processor
        self.tokenizer = None
        self.return_tensors = return_tensors

    def __call__(self, image_input=None, text_input=None):
        if text_input is not None:
            raise ConfigError("ViTProcessor has no tokenizer; it takes image_input only")
        if image_input is None:
            raise ConfigError("ViTProcessor: give image_input (image files, PIL images or arrays)")
        return {'image': self.image_processor(image_input)}


# upstream r1.0 spells them VitImageProcessor / VitProcessor
MindFormerRegister.register_cls(ViTImageProcessor, MindFormerModuleType.PROCESSOR, alias='VitImageProcessor')
MindFormerRegister.register_cls(ViTProcessor, MindFormerModuleType.PROCESSOR, alias='VitProcessor')
