"""MAE (masked autoencoder) pre-training of a ViT."""
from mindformers.models.mae.mae_config import ViTMAEConfig
from mindformers.models.mae.mae import ViTMAEModel, ViTMAEForPreTraining

__all__ = ['ViTMAEConfig', 'ViTMAEModel', 'ViTMAEForPreTraining']
