"""ViTImageProcessor (ImageNet statistics, 224 crop of a 256 resize, bicubic) and ViTProcessor."""
from mindformers.models.image_processor import BaseImageProcessor, ImageOnlyProcessor
from mindformers.models.vit.vit_config import VIT_NAMES
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class ViTImageProcessor(BaseImageProcessor):
    """Upstream's ViT evaluation transform: resize the shorter side to 256 (bicubic), center-crop 224, normalise
    with the ImageNet mean and std (every value configurable; `image_resolution` is upstream's name of `size`)."""
    _support_list = VIT_NAMES


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class ViTProcessor(ImageOnlyProcessor):
    """`processor(image_input=images)` -> {'image': (b, c, s, s) float32 tensor}; holds `image_processor`."""
    _support_list = VIT_NAMES
    image_processor_class = ViTImageProcessor


# upstream r1.0 spells them VitImageProcessor / VitProcessor
MindFormerRegister.register_cls(ViTImageProcessor, MindFormerModuleType.PROCESSOR, alias='VitImageProcessor')
MindFormerRegister.register_cls(ViTProcessor, MindFormerModuleType.PROCESSOR, alias='VitProcessor')
