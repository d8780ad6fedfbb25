"""mindformers: pre-train, fine-tune, evaluate and run transformer models from YAML on MindSpore."""
__version__ = '1.0.0'

from mindformers.tools import logger as _logger_module  # noqa: F401  (creates the logger first)
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType, MindFormerConfig
from mindformers.core import *  # noqa: F401,F403
from mindformers.core.context import build_context, init_context
from mindformers.dataset import *  # noqa: F401,F403
from mindformers.models import *  # noqa: F401,F403
from mindformers.generation import *  # noqa: F401,F403
from mindformers.wrapper import MFTrainOneStepCell, build_wrapper
from mindformers.trainer import (Trainer, TrainingArguments, ContextConfig, ParallelContextConfig,
                                 CausalLanguageModelingTrainer, TextClassificationTrainer, TokenClassificationTrainer,
                                 QuestionAnsweringTrainer, MaskedLanguageModelingTrainer, TranslationTrainer,
                                 ImageClassificationTrainer, MaskedImageModelingTrainer,
                                 ZeroShotImageClassificationTrainer, ContrastiveLanguageImagePretrainTrainer,
                                 build_trainer)
from mindformers.mindformer_book import MindFormerBook
from mindformers.auto_class import AutoConfig, AutoModel, AutoTokenizer, AutoProcessor
from mindformers.pipeline import (pipeline, TextGenerationPipeline, TextClassificationPipeline, FillMaskPipeline,
                                 TokenClassificationPipeline, QuestionAnsweringPipeline, TranslationPipeline,
                                 ImageClassificationPipeline, MaskedImageModelingPipeline,
                                 ZeroShotImageClassificationPipeline)
from mindformers.run_check import run_check
from mindformers.tools import logger, ActionDict, cloud_monitor, Local2ObsMonitor, Obs2Local, mox_adapter
from mindformers.pet import LoraConfig, get_pet_model
