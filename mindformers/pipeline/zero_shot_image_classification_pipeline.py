"""ZeroShotImageClassificationPipeline: images and free-text candidate labels -> CLIP's image-text similarities ->
sorted [{'score', 'label'}, ...] per image."""
import numpy as np
import mindspore as ms

from mindformers.models.base_tokenizer import PreTrainedTokenizer
from mindformers.models.image_processor import BaseImageProcessor
from mindformers.pipeline.base_pipeline import BasePipeline, sorted_label_scores
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['ZeroShotImageClassificationPipeline']

_FORWARD_KEYS = ('candidate_labels', 'hypothesis_template')
_POSTPROCESS_KEYS = ('top_k',)
DEFAULT_TEMPLATE = 'a picture of {}.'


@MindFormerRegister.register(MindFormerModuleType.PIPELINE, alias='zero_shot_image_classification')
class ZeroShotImageClassificationPipeline(BasePipeline):
    """`pipeline('zero_shot_image_classification', model=<CLIPModel>, tokenizer=..., image_processor=...)(
    images, candidate_labels=['cat', 'dog'], hypothesis_template='a picture of {}.', top_k=None)`.

    Every label becomes the sentence `hypothesis_template.format(label)`; each image gets the softmax over its
    scaled cosine similarities with those sentences, as `[{'score', 'label'}, ...]` sorted best first (`top_k`
    keeps the first k). The sentences are padded to the text encoder's context (max_position_embeddings).
    """

    def __init__(self, model, image_processor=None, tokenizer=None, **kwargs):
        if not isinstance(image_processor, BaseImageProcessor):
            raise ConfigError("ZeroShotImageClassificationPipeline needs image_processor=<CLIPImageProcessor(...)>, "
                              f"got {type(image_processor).__name__}")
        if not isinstance(tokenizer, PreTrainedTokenizer):
            raise ConfigError("ZeroShotImageClassificationPipeline needs tokenizer=<CLIPTokenizer(...)>, got "
                              f"{type(tokenizer).__name__}")
        self.image_processor = image_processor
        text_config = getattr(getattr(model, 'config', None), 'text_config', None)
        self.max_length = getattr(text_config, 'max_position_embeddings', 77)
        super().__init__(model, tokenizer, **kwargs)

    def _sanitize_parameters(self, **kwargs):
        forward = {key: kwargs.pop(key) for key in _FORWARD_KEYS if key in kwargs}
        postprocess = {key: kwargs.pop(key) for key in _POSTPROCESS_KEYS if key in kwargs}
        if kwargs:
            raise ConfigError(f"ZeroShotImageClassificationPipeline: unknown arguments {sorted(kwargs)}; it takes "
                              f"{list(_FORWARD_KEYS + _POSTPROCESS_KEYS)}")
        if 'candidate_labels' in forward:
            labels = forward['candidate_labels']
            if isinstance(labels, str):
                labels = forward['candidate_labels'] = [labels]
            if not isinstance(labels, (list, tuple)) or not labels or not all(isinstance(x, str) for x in labels):
                raise ConfigError(f"ZeroShotImageClassificationPipeline: candidate_labels must be a non-empty list "
                                  f"of strings, got {labels!r}")
        template = forward.get('hypothesis_template')
        if template is not None and (not isinstance(template, str) or '{}' not in template):
            raise ConfigError(f"ZeroShotImageClassificationPipeline: hypothesis_template must be a string with {{}} "
                              f"where the label goes, got {template!r}")
        top_k = postprocess.get('top_k')
        if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
            raise ConfigError(f"ZeroShotImageClassificationPipeline: top_k must be a positive integer, got {top_k!r}")
        return {}, forward, postprocess

    def preprocess(self, inputs, **preprocess_params):
        if isinstance(inputs, dict):
            inputs = inputs['image']
        return {'image': self.image_processor(inputs)}

    def prompts(self, candidate_labels, hypothesis_template=DEFAULT_TEMPLATE):
        """The tokenized sentences (num_labels, max_length) int32 for the labels."""
        sentences = [hypothesis_template.format(label) for label in candidate_labels]
        ids = self.tokenizer(sentences, max_length=self.max_length, padding='max_length', truncation=True)['input_ids']
        return ms.Tensor(np.asarray(ids, np.int32))

    def forward(self, model_inputs, candidate_labels=None, hypothesis_template=DEFAULT_TEMPLATE):
        if candidate_labels is None:
            raise ConfigError("ZeroShotImageClassificationPipeline: give candidate_labels=[...] (the classes to "
                              "choose from)")
        logits_per_image, _ = self.network(model_inputs['image'], self.prompts(candidate_labels, hypothesis_template))
        return {'logits': logits_per_image.asnumpy().astype(np.float64), 'labels': list(candidate_labels)}

    def postprocess(self, model_outputs, top_k=None):
        return sorted_label_scores(model_outputs['logits'], model_outputs['labels'], top_k)


# also reachable by its class name, as `type: ZeroShotImageClassificationPipeline`
MindFormerRegister.register_cls(ZeroShotImageClassificationPipeline, MindFormerModuleType.PIPELINE)
