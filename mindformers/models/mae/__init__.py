"""MAE (masked autoencoder) pre-training of a ViT."""
from mindformers.models.mae.mae_config import ViTMAEConfig
from mindformers.models.mae.mae import ViTMAEModel, ViTMAEForPreTraining
from mindformers.models.mae.mae_processor import ViTMAEImageProcessor, ViTMAEProcessor

__all__ = ['ViTMAEConfig', 'ViTMAEModel', 'ViTMAEForPreTraining', 'ViTMAEImageProcessor', 'ViTMAEProcessor']
