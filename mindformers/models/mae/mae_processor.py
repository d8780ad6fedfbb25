"""ViTMAEImageProcessor (ImageNet statistics, 224 crop of a 256 resize, bicubic) and ViTMAEProcessor."""
from mindformers.models.image_processor import BaseImageProcessor, ImageOnlyProcessor
from mindformers.models.mae.mae_config import MAE_NAMES
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class ViTMAEImageProcessor(BaseImageProcessor):
    """Upstream's MAE evaluation transform: resize the shorter side to 256 (bicubic), center-crop 224, normalise
    with the ImageNet mean and std (every value configurable)."""
    _support_list = MAE_NAMES


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class ViTMAEProcessor(ImageOnlyProcessor):
    """`processor(image_input=images)` -> {'image': (b, c, s, s) float32 tensor}; holds `image_processor`."""
    _support_list = MAE_NAMES
    image_processor_class = ViTMAEImageProcessor
