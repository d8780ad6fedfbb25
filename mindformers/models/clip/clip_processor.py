"""CLIPImageProcessor (CLIP's statistics; resize the shorter side to the crop size, bicubic, center crop) and
CLIPProcessor (images and texts in one call)."""
from mindformers.models.base_processor import TextProcessor
from mindformers.models.clip.clip_config import CLIP_NAMES
from mindformers.models.image_processor import BaseImageProcessor
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['CLIPImageProcessor', 'CLIPProcessor']

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class CLIPImageProcessor(BaseImageProcessor):
    """`CLIPImageProcessor(image_resolution=224)(images)` -> (b, 3, 224, 224) float32: the shorter side resized to
    `image_resolution` (bicubic), center-cropped, scaled to [0, 1], normalised with CLIP's mean and std."""
    _support_list = CLIP_NAMES
    default_mean = CLIP_MEAN
    default_std = CLIP_STD
    default_crop_ratio = 1.0


@MindFormerRegister.register(MindFormerModuleType.PROCESSOR)
class CLIPProcessor(TextProcessor):
    """`processor(image_input=images, text_input=texts)` -> {'image': (b, 3, s, s) float32, 'text': (n, 77) ids}
    (either may be left out); texts are padded to `max_length` (77, CLIP's context)."""
    _support_list = CLIP_NAMES

    def __init__(self, image_processor=None, tokenizer=None, max_length=77, padding='max_length',
                 return_tensors='ms'):
        super().__init__(tokenizer=tokenizer, max_length=max_length, padding=padding, return_tensors=return_tensors)
        if isinstance(image_processor, dict):
            image_processor = CLIPImageProcessor(**{k: v for k, v in image_processor.items() if k != 'type'})
        if image_processor is None:
            image_processor = CLIPImageProcessor()
        if not isinstance(image_processor, BaseImageProcessor):
            raise ConfigError(f"CLIPProcessor: image_processor must be an image processor, got "
                              f"{type(image_processor).__name__}")
        self.image_processor = image_processor

    def __call__(self, image_input=None, text_input=None):
        if image_input is None and text_input is None:
            raise ConfigError("CLIPProcessor: give image_input, text_input or both")
        output = super().__call__(text_input=text_input)
        if image_input is not None:
            output['image'] = self.image_processor(image_input)
        return output
