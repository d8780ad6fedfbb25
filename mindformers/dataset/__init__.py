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
    Flickr8kDataLoader, Cifar100DataLoader, MultiImgCapDataLoader, MultiSourceDataLoader, SFTDataLoader, \
    TrainingDataLoader
from .transforms import (TokenizeWithLabel, LabelPadding, RandomChoiceTokenizerForward, TokenizerForward,
                         CaptionTransform, build_transforms, Mixup, auto_augment_transform, rand_augment_transform,
                         augment_and_mix_transform, RandomErasing, BatchResize, BCHW2BHWC, BatchPILize,
                         BatchNormalize, BatchCenterCrop, BatchToTensor, RandomCropDecodeResize, RandomResizedCrop,
                         Resize, RandomHorizontalFlip)
from .mask import build_mask, SimMask
from .sampler import build_sampler
from .base_dataset import BaseDataset
from .reward_model_dataset import RewardModelDataset
from .utils import check_dataset_config
from .build_dataset import build_dataset
from .dataloader import build_dataset_loader

__all__ = ['CausalLanguageModelDataset', 'TextClassificationDataset', 'TokenClassificationDataset',
           'QuestionAnsweringDataset', 'MaskLanguageModelDataset', 'KeyWordGenDataset', 'TranslationDataset',
           'ImageCLSDataset', 'MIMDataset', 'MaeMask', 'ContrastiveLanguageImagePretrainDataset',
           'ZeroShotImageClassificationDataset', 'ADGenDataLoader', 'CLUENERDataLoader', 'SQuADDataLoader',
           'WMT16DataLoader', 'ImageCsvDataLoader', 'Flickr8kDataLoader', 'Cifar100DataLoader', 'TokenizeWithLabel',
           'LabelPadding', 'RandomChoiceTokenizerForward', 'TokenizerForward', 'build_dataset', 'build_dataset_loader',
           'CaptionTransform', 'build_transforms', 'Mixup', 'RandomErasing', 'BatchResize', 'BCHW2BHWC', 'BatchPILize',
           'BatchNormalize', 'BatchCenterCrop', 'BatchToTensor', 'RandomCropDecodeResize', 'RandomResizedCrop',
           'Resize', 'RandomHorizontalFlip', 'build_mask', 'SimMask', 'build_sampler', 'BaseDataset',
           'check_dataset_config', 'auto_augment_transform', 'rand_augment_transform', 'augment_and_mix_transform',
           'MultiImgCapDataLoader', 'MultiSourceDataLoader', 'SFTDataLoader', 'TrainingDataLoader',
           'RewardModelDataset']
