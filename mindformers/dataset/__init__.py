"""Datasets and loaders."""
from .causal_language_model_dataset import CausalLanguageModelDataset
from .build_dataset import build_dataset
from .dataloader import build_dataset_loader

__all__ = ['CausalLanguageModelDataset', 'build_dataset', 'build_dataset_loader']
