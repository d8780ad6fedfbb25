"""pipeline(): one call from a task name and a model (name or instance) to predictions."""
from .base_pipeline import BasePipeline
from .text_generation_pipeline import TextGenerationPipeline
from .text_classification_pipeline import TextClassificationPipeline
from .fill_mask_pipeline import FillMaskPipeline
from .token_classification_pipeline import TokenClassificationPipeline
from .question_answering_pipeline import QuestionAnsweringPipeline
from .translation_pipeline import TranslationPipeline
from .image_classification_pipeline import ImageClassificationPipeline
from .masked_image_modeling_pipeline import MaskedImageModelingPipeline
from .zero_shot_image_classification_pipeline import ZeroShotImageClassificationPipeline
from .pipeline import pipeline

__all__ = ['pipeline', 'BasePipeline', 'TextGenerationPipeline', 'TextClassificationPipeline', 'FillMaskPipeline',
           'TokenClassificationPipeline', 'QuestionAnsweringPipeline', 'TranslationPipeline',
           'ImageClassificationPipeline', 'MaskedImageModelingPipeline', 'ZeroShotImageClassificationPipeline']
