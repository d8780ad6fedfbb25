"""Datasets and loaders."""
from .causal_language_model_dataset import CausalLanguageModelDataset
from .text_classification_dataset import TextClassificationDataset
from .token_classification_dataset import TokenClassificationDataset
from .question_answering_dataset import QuestionAnsweringDataset
from .mask_language_model_dataset import MaskLanguageModelDataset
from .keyword_gen_dataset import KeyWordGenDataset
from .translation_dataset import TranslationDataset
from .image_classification_dataset import ImageCLSDataset
from .mim_dataset import MIMDataset, MaeMask
from .contrastive_language_image_pretrain_dataset import ContrastiveLanguageImagePretrainDataset, \
    ZeroShotImageClassificationDataset
from .dataloader import ADGenDataLoader, CLUENERDataLoader, SQuADDataLoader, WMT16DataLoader, ImageCsvDataLoader, \
    Flickr8kDataLoader, Cifar100DataLoader
from .transforms import TokenizeWithLabel, LabelPadding, RandomChoiceTokenizerForward, TokenizerForward
from .build_dataset import build_dataset
from .dataloader import build_dataset_loader

__all__ = ['CausalLanguageModelDataset', 'TextClassificationDataset', 'TokenClassificationDataset',
           'QuestionAnsweringDataset', 'MaskLanguageModelDataset', 'KeyWordGenDataset', 'TranslationDataset',
           'ImageCLSDataset', 'MIMDataset', 'MaeMask', 'ContrastiveLanguageImagePretrainDataset',
           'ZeroShotImageClassificationDataset', 'ADGenDataLoader', 'CLUENERDataLoader', 'SQuADDataLoader',
           'WMT16DataLoader', 'ImageCsvDataLoader', 'Flickr8kDataLoader', 'Cifar100DataLoader', 'TokenizeWithLabel',
           'LabelPadding', 'RandomChoiceTokenizerForward', 'TokenizerForward', 'build_dataset', 'build_dataset_loader']
