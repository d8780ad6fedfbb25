"""Trainer, TrainingArguments and the task trainers."""
from .trainer import Trainer
from .training_args import TrainingArguments
from .config_args import (BaseArgsConfig, ContextConfig, ParallelContextConfig, CloudConfig, RunnerConfig,
                          CheckpointConfig, LRConfig, OptimizerConfig, WrapperConfig, DataLoaderConfig, DatasetConfig,
                          ConfigArguments)
from .base_trainer import BaseTrainer
from .build_trainer import build_trainer
from .causal_language_modeling import CausalLanguageModelingTrainer
from .text_classfication import TextClassificationTrainer
from .token_classification import TokenClassificationTrainer
from .question_answering import QuestionAnsweringTrainer
from .masked_language_modeling import MaskedLanguageModelingTrainer
from .translation import TranslationTrainer
from .image_classification import ImageClassificationTrainer, ZeroShotImageClassificationTrainer
from .masked_image_modeling import MaskedImageModelingTrainer
from .contrastive_language_image_pretrain import ContrastiveLanguageImagePretrainTrainer
from .general_task_trainer import GeneralTaskTrainer

__all__ = ['Trainer', 'TrainingArguments', 'BaseArgsConfig', 'ContextConfig', 'ParallelContextConfig', 'CloudConfig',
           'RunnerConfig', 'CheckpointConfig', 'LRConfig', 'OptimizerConfig', 'WrapperConfig', 'DataLoaderConfig',
           'DatasetConfig', 'ConfigArguments', 'BaseTrainer', 'build_trainer',
           'CausalLanguageModelingTrainer', 'TextClassificationTrainer', 'TokenClassificationTrainer',
           'QuestionAnsweringTrainer', 'MaskedLanguageModelingTrainer', 'TranslationTrainer',
           'ImageClassificationTrainer', 'MaskedImageModelingTrainer', 'ZeroShotImageClassificationTrainer',
           'ContrastiveLanguageImagePretrainTrainer', 'GeneralTaskTrainer']
