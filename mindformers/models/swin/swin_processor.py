"""SwinImageProcessor (ImageNet statistics, 224 crop of a 256 resize, bicubic) and SwinProcessor."""
from mindformers.models.image_processor import BaseImageProcessor, ImageOnlyProcessor
from mindformers.models.swin.swin_config import SWIN_NAMES
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class SwinImageProcessor(BaseImageProcessor):
    """Upstream's Swin evaluation transform: resize the shorter side to 256 (bicubic), center-crop 224, normalise
    with the ImageNet mean and std (every value configurable)."""
    _support_list = SWIN_NAMES


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class SwinProcessor(ImageOnlyProcessor):
    """`processor(image_input=images)` -> {'image': (b, c, s, s) float32 tensor}; holds `image_processor`."""
    _support_list = SWIN_NAMES
    image_processor_class = SwinImageProcessor
