"""CLIP: contrastive language-image pre-training and zero-shot image classification."""
from mindformers.models.clip.clip_config import CLIPConfig, CLIPTextConfig, CLIPVisionConfig
from mindformers.models.clip.clip import CLIPModel
from mindformers.models.clip.clip_tokenizer import CLIPTokenizer
from mindformers.models.clip.clip_processor import CLIPImageProcessor, CLIPProcessor

__all__ = ['CLIPConfig', 'CLIPTextConfig', 'CLIPVisionConfig', 'CLIPModel', 'CLIPTokenizer', 'CLIPImageProcessor',
           'CLIPProcessor']
