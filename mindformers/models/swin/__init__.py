"""Swin Transformer image classification."""
from mindformers.models.swin.swin_config import SwinConfig
from mindformers.models.swin.swin import SwinModel, SwinForImageClassification
from mindformers.models.swin.swin_processor import SwinImageProcessor, SwinProcessor

__all__ = ['SwinConfig', 'SwinModel', 'SwinForImageClassification', 'SwinImageProcessor', 'SwinProcessor']
