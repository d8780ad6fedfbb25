"""ImageClassificationPipeline: images -> the image processor's batch -> classifier logits -> sorted
[{'score', 'label'}, ...] per image."""
import numpy as np

from mindformers.dataset.labels import labels as DATASET_LABELS
from mindformers.models.image_processor import BaseImageProcessor
from mindformers.pipeline.base_pipeline import BasePipeline, LabelScoresMixin
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['ImageClassificationPipeline']

_POSTPROCESS_KEYS = ('top_k', 'dataset')


@MindFormerRegister.register(MindFormerModuleType.PIPELINE, alias='image_classification')
class ImageClassificationPipeline(LabelScoresMixin, BasePipeline):
    """`pipeline('image_classification', model=<classifier>, image_processor=<ViTImageProcessor>)(images, top_k=3)`.

    images: an image file, a PIL image, an array, or a list of them (see BaseImageProcessor). Each image gives a
    list of `{'score': softmax probability, 'label': name}` sorted best first; `top_k` keeps the first k. Label
    names come from `dataset=` (mnist, cifar10, imagenet), else from the model config's `id2label`, else, for a
    1,000-class model, ImageNet's class names (as upstream names every prediction), else `LABEL_<id>`.
    """

    def __init__(self, model, image_processor=None, tokenizer=None, **kwargs):
        if image_processor is None:
            raise ConfigError("ImageClassificationPipeline needs an image processor: pass "
                              "image_processor=<ViTImageProcessor(...)>")
        if not isinstance(image_processor, BaseImageProcessor):
            raise ConfigError(f"ImageClassificationPipeline: image_processor must be an image processor, got "
                              f"{type(image_processor).__name__}")
        self.image_processor = image_processor
        super().__init__(model, tokenizer, **kwargs)

    def _sanitize_parameters(self, **kwargs):
        postprocess = {key: kwargs.pop(key) for key in _POSTPROCESS_KEYS if key in kwargs}
        if 'dataset' in postprocess and postprocess['dataset'] not in DATASET_LABELS:
            raise ConfigError(f"ImageClassificationPipeline: unknown dataset '{postprocess['dataset']}'; label names "
                              f"are known for {sorted(DATASET_LABELS)}")
        top_k = postprocess.get('top_k')
        if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
            raise ConfigError(f"ImageClassificationPipeline: top_k must be a positive integer, got {top_k!r}")
        if kwargs:
            raise ConfigError(f"ImageClassificationPipeline: unknown arguments {sorted(kwargs)}; it takes "
                              f"{list(_POSTPROCESS_KEYS)}")
        return {}, {}, postprocess

    def preprocess(self, inputs, **preprocess_params):
        if isinstance(inputs, dict):
            inputs = inputs['image']
        return {'image': self.image_processor(inputs)}

    def forward(self, model_inputs, **forward_params):
        logits = self.network(model_inputs['image'])
        logits = logits[0] if isinstance(logits, (tuple, list)) else logits
        return logits.asnumpy().astype(np.float64)

    def postprocess(self, model_outputs, top_k=None, dataset=None):
        named = getattr(getattr(self.network, 'config', None), 'id2label', None)
        if dataset is None and not named and model_outputs.shape[-1] == 1000:
            dataset = 'imagenet'        # upstream names every 1,000-class prediction with ImageNet's classes
        return self.label_scores(model_outputs, top_k, dataset)


# also reachable by its class name, as `type: ImageClassificationPipeline`
MindFormerRegister.register_cls(ImageClassificationPipeline, MindFormerModuleType.PIPELINE)

