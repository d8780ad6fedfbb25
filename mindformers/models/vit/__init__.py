"""ViT (Vision Transformer) image classification."""
from mindformers.models.vit.vit_config import ViTConfig
from mindformers.models.vit.vit import ViTModel, ViTForImageClassification
from mindformers.models.vit.vit_processor import ViTImageProcessor, ViTProcessor

__all__ = ['ViTConfig', 'ViTModel', 'ViTForImageClassification', 'ViTImageProcessor', 'ViTProcessor']
