"""Datasets and loaders."""
from .causal_language_model_dataset import CausalLanguageModelDataset
from .text_classification_dataset import TextClassificationDataset
from .keyword_gen_dataset import KeyWordGenDataset
from .dataloader import ADGenDataLoader
from .build_dataset import build_dataset
from .dataloader import build_dataset_loader

__all__ = ['CausalLanguageModelDataset', 'TextClassificationDataset', 'KeyWordGenDataset', 'ADGenDataLoader',
           'build_dataset', 'build_dataset_loader']
