"""Dataset loaders."""
from .build_dataloader import build_dataset_loader

__all__ = ['build_dataset_loader']
