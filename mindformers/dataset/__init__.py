"""Datasets and loaders."""
from .causal_language_model_dataset import CausalLanguageModelDataset
from .text_classification_dataset import TextClassificationDataset
from .build_dataset import build_dataset
from .dataloader import build_dataset_loader

__all__ = ['CausalLanguageModelDataset', 'TextClassificationDataset', 'build_dataset', 'build_dataset_loader']
