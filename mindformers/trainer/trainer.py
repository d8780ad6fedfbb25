"""Trainer: the Python entry point; resolves config, model and datasets, then runs a task trainer."""
import copy
import os

from mindspore import nn
from mindspore.dataset import Dataset

from mindformers.core.context.build_context import build_context, context_is_built
from mindformers.core.parallel_config import (TransformerOpParallelConfig, TransformerRecomputeConfig,
                                              build_parallel_config)
from mindformers.mindformer_book import MindFormerBook
from mindformers.tools.checkpoint import list_checkpoints, write_error
from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerConfig
from mindformers.tools.register.research import register_research_classes
from mindformers.tools.utils import (set_output_path, get_output_root_path, get_real_rank, get_real_group_size,
                                     set_seed)
from mindformers.trainer.build_trainer import build_trainer
from mindformers.trainer.training_args import TrainingArguments
from mindformers.trainer.config_args import ConfigArguments

_TASK_TRAINERS = {'text_generation': 'CausalLanguageModelingTrainer',
                  'text_classification': 'TextClassificationTrainer',
                  'token_classification': 'TokenClassificationTrainer',
                  'question_answering': 'QuestionAnsweringTrainer',
                  'fill_mask': 'MaskedLanguageModelingTrainer',
                  'translation': 'TranslationTrainer',
                  'image_classification': 'ImageClassificationTrainer',
                  'masked_image_modeling': 'MaskedImageModelingTrainer',
                  'contrastive_language_image_pretrain': 'ContrastiveLanguageImagePretrainTrainer',
                  'zero_shot_image_classification': 'ZeroShotImageClassificationTrainer'}


class Trainer:
    """Train, fine-tune, evaluate and predict with a task's default YAML, a YAML/config, or an instance.

    `args` may be a YAML path, a MindFormerConfig, TrainingArguments or ConfigArguments (applied on top of the task
    YAML of `model`). `model` may be a supported name (e.g. 'llama2_7b'), or a model instance.
    Datasets may be a MindRecord file/folder path, a MindSpore dataset, or come from the YAML.
    """

    def __init__(self, args=None, task='general', model=None, model_name=None, tokenizer=None,
                 train_dataset=None, eval_dataset=None, data_collator=None, optimizers=None, compute_metrics=None,
                 callbacks=None, eval_callbacks=None, pet_method='', image_processor=None, audio_processor=None,
                 save_config=False, reset_model=False, wrapper=None, **kwargs):
        MindFormerBook.check_task(task)
        self.task = task
        self.network = None
        model_yaml = None
        if isinstance(model, nn.Cell):
            self.network = model
            model_name = model_name or 'common'
        elif isinstance(model, str):
            if model.endswith(('.yaml', '.yml')):
                model_yaml = model            # the base config; TrainingArguments in `args` override it
                model_name = model_name or 'common'
            else:
                model_name = f"{model}_{pet_method}" if pet_method else model
        elif model is not None:
            raise ConfigError(f"model must be a model name, a YAML path or a model instance, got "
                              f"{type(model).__name__}")
        self.model_name = model_name or 'common'
        if model_yaml is not None and (args is None or isinstance(args, (TrainingArguments, ConfigArguments))):
            training_args, args = args, model_yaml
            self.config = self._resolve_config(args)
            if training_args is not None:
                self.config = _apply_args(training_args, self.config)
        else:
            self.config = self._resolve_config(args)
        register_research_classes(self.config, args if isinstance(args, str) else None)
        if self.config.trainer is None or self.config.trainer.type is None:
            if task not in _TASK_TRAINERS:
                raise ConfigError(f"task '{task}' needs a YAML with a trainer section (trainer.type)")
            self.config.trainer = {'type': _TASK_TRAINERS[task], 'model_name': self.model_name}
        if self.config.run_mode is None:
            self.config.run_mode = 'train'
        set_output_path(self.config.output_dir)
        if not context_is_built():
            build_context(self.config)
        else:
            _record_live_parallel_context(self.config)
        if self.config.seed is not None:
            set_seed(int(self.config.seed))
        self.config.rank_id = get_real_rank()
        self.config.device_num = get_real_group_size()
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.train_dataset = self._dataset_arg(train_dataset, 'train')
        self.eval_dataset = self._dataset_arg(eval_dataset, 'eval')
        self.optimizer = optimizers[0] if isinstance(optimizers, (tuple, list)) else optimizers
        self.wrapper = wrapper
        self.callbacks = list(callbacks or [])
        if data_collator is not None or compute_metrics is not None or eval_callbacks:
            logger.warning("Trainer: data_collator, compute_metrics and eval_callbacks are not used by the "
                           "text_generation trainer")
        if reset_model and self.network is not None:
            logger.info("reset_model: the given model instance is used as is")
        trainer_cfg = dict(self.config.trainer)
        trainer_cfg.setdefault('model_name', self.model_name)
        self.trainer = build_trainer(trainer_cfg)
        if save_config:
            self._save_config()

    # -------------------------------------------------------------- config
    def _resolve_config(self, args):
        if isinstance(args, MindFormerConfig):
            return copy.deepcopy(args)
        if isinstance(args, str):
            if not os.path.isfile(args):
                raise ConfigError(f"config file not found: {args}")
            return MindFormerConfig(args)
        if args is not None and not isinstance(args, (TrainingArguments, ConfigArguments)):
            raise ConfigError(f"args must be a YAML path, a MindFormerConfig, TrainingArguments or ConfigArguments, "
                              f"got {type(args).__name__}")
        task_name = self.task if self.task != 'general' else 'text_generation'
        config = MindFormerConfig(MindFormerBook.get_task_config_path(task_name, self.model_name))
        if args is not None:
            config = _apply_args(args, config)
        return config

    def _dataset_arg(self, dataset, section):
        if dataset is None:
            return None
        if isinstance(dataset, str):
            data_cfg = self.config.get(f'{section}_dataset')
            if data_cfg is None or data_cfg.data_loader is None:
                raise ConfigError(f"{section}_dataset path given but the config has no {section}_dataset.data_loader")
            data_cfg.data_loader.dataset_dir = dataset
            return None
        if isinstance(dataset, Dataset):
            return dataset
        raise ConfigError(f"{section}_dataset must be a path or a MindSpore dataset, got {type(dataset).__name__}")

    def _save_config(self):
        from mindformers.tools.register.config import ordered_yaml_dump  # pylint: disable=import-outside-toplevel
        path = os.path.join('configs', f'{self.model_name}_new', f'run_{self.model_name}.yaml')
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'w', encoding='utf-8') as stream:
                ordered_yaml_dump(self.config, stream)
        except OSError as err:
            raise write_error('config copy', path, err) from None

    def _checkpoint_arg(self, checkpoint, allow_name=True):
        """True -> newest checkpoint of this rank in <output>/checkpoint; str -> as given."""
        if checkpoint is True:
            folder = os.path.join(get_output_root_path(), 'checkpoint')
            if not os.path.isdir(folder):
                raise ConfigError(f"no checkpoint to resume from: {folder} does not exist")
            self.config.load_checkpoint = folder
        elif isinstance(checkpoint, str) and checkpoint:
            self.config.load_checkpoint = checkpoint

    def _auto_trans_arg(self, auto_trans_ckpt):
        """`auto_trans_ckpt=True/False` of train/finetune/evaluate/predict overrides the config's."""
        if auto_trans_ckpt is not None:
            if not isinstance(auto_trans_ckpt, bool):
                raise ConfigError(f"auto_trans_ckpt must be True or False, got {auto_trans_ckpt!r}")
            self.config.auto_trans_ckpt = auto_trans_ckpt

    # ------------------------------------------------------------ actions
    def train(self, train_checkpoint=False, resume_from_checkpoint=None, resume_training=None,
              auto_trans_ckpt=None, do_eval=False, **kwargs):
        checkpoint = resume_from_checkpoint if resume_from_checkpoint is not None else train_checkpoint
        if checkpoint is False or checkpoint is None:
            if self.config.model and self.config.model.model_config:
                self.config.model.model_config.checkpoint_name_or_path = None
        self._checkpoint_arg(checkpoint)
        return self._train(resume_training, auto_trans_ckpt, do_eval)

    def finetune(self, finetune_checkpoint=False, resume_from_checkpoint=None, resume_training=None,
                 auto_trans_ckpt=None, do_eval=False, **kwargs):
        checkpoint = resume_from_checkpoint if resume_from_checkpoint is not None else finetune_checkpoint
        self._checkpoint_arg(checkpoint)
        model_cfg = self.config.model.model_config if self.config.model else None
        if not self.config.load_checkpoint and model_cfg is not None and model_cfg.checkpoint_name_or_path:
            self.config.load_checkpoint = model_cfg.checkpoint_name_or_path
        if model_cfg is not None:
            model_cfg.checkpoint_name_or_path = None
        if not self.config.load_checkpoint and self.network is None:
            raise ConfigError("finetune needs pretrained weights: give finetune_checkpoint=<.ckpt file or checkpoint "
                              "folder> (command line: --load_checkpoint) or set "
                              "load_checkpoint (or model.model_config.checkpoint_name_or_path) in the YAML")
        return self._train(resume_training, auto_trans_ckpt, do_eval)

    def _train(self, resume_training, auto_trans_ckpt, do_eval):
        if resume_training is not None:
            self.config.resume_training = resume_training
        self._auto_trans_arg(auto_trans_ckpt)
        self.config.do_eval = bool(do_eval or self.config.do_eval)
        return self.trainer.train(config=self.config, network=self.network, dataset=self.train_dataset,
                                  optimizer=self.optimizer, wrapper=self.wrapper, callbacks=self.callbacks,
                                  eval_dataset=self.eval_dataset)

    def evaluate(self, eval_dataset=None, eval_checkpoint=False, auto_trans_ckpt=None, **kwargs):
        if eval_dataset is not None:
            self.eval_dataset = self._dataset_arg(eval_dataset, 'eval')
        self._checkpoint_arg(eval_checkpoint)
        self._auto_trans_arg(auto_trans_ckpt)
        return self.trainer.evaluate(config=self.config, network=self.network, dataset=self.eval_dataset, **kwargs)

    def predict(self, predict_checkpoint=None, auto_trans_ckpt=None, input_data=None, batch_size=None, **kwargs):
        self._checkpoint_arg(predict_checkpoint)
        self._auto_trans_arg(auto_trans_ckpt)
        if self.image_processor is not None:
            kwargs['image_processor'] = self.image_processor
        return self.trainer.predict(config=self.config, input_data=input_data, network=self.network,
                                    tokenizer=self.tokenizer, batch_size=batch_size, **kwargs)

    # ---------------------------------------------------------- settings
    def set_parallel_config(self, data_parallel=1, model_parallel=1, context_parallel=1, expert_parallel=1,
                            pipeline_stage=1, micro_batch_interleave_num=1, micro_batch_num=1,
                            use_seq_parallel=False, optimizer_shard=False, gradient_aggregation_group=4,
                            vocab_emb_dp=True):
        recompute = self.config.recompute_config
        self.config.parallel_config = TransformerOpParallelConfig(
            data_parallel=data_parallel, model_parallel=model_parallel, context_parallel=context_parallel,
            expert_parallel=expert_parallel, pipeline_stage=pipeline_stage, micro_batch_num=micro_batch_num,
            use_seq_parallel=use_seq_parallel, optimizer_shard=optimizer_shard,
            gradient_aggregation_group=gradient_aggregation_group, vocab_emb_dp=vocab_emb_dp,
            recompute=recompute if recompute is not None else None)
        self.config.micro_batch_interleave_num = micro_batch_interleave_num

    def set_recompute_config(self, recompute=False, parallel_optimizer_comm_recompute=False, select_recompute=False,
                             mp_comm_recompute=True, recompute_slice_activation=False):
        self.config.recompute_config = TransformerRecomputeConfig(
            recompute=recompute, parallel_optimizer_comm_recompute=parallel_optimizer_comm_recompute,
            select_recompute=select_recompute, mp_comm_recompute=mp_comm_recompute,
            recompute_slice_activation=recompute_slice_activation)
        if isinstance(self.config.parallel_config, TransformerOpParallelConfig):
            self.config.parallel_config.recompute = self.config.recompute_config
        else:
            build_parallel_config(self.config)
            self.config.parallel_config.recompute = self.config.recompute_config

    def get_train_dataloader(self):
        return self.trainer.create_dataset(self.config, 'train', self.train_dataset)

    def get_eval_dataloader(self):
        return self.trainer.create_dataset(self.config, 'eval', self.eval_dataset)

    def get_last_checkpoint(self):
        folder = os.path.join(get_output_root_path(), 'checkpoint', f'rank_{get_real_rank()}')
        if not os.path.isdir(folder):
            return None
        files = list_checkpoints(folder)
        return max(files, key=os.path.getmtime) if files else None


def _record_live_parallel_context(config):
    """The user started the context (init_context) before building the Trainer: the YAML's `parallel` section is not
    what runs, so record the live mode (semi-auto runs as data parallel on CPU) for the parallel checks."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    mode = ms.get_auto_parallel_context('parallel_mode')
    if mode in (None, 'stand_alone'):
        return
    config.parallel = config.parallel or MindFormerConfig()
    config.parallel.parallel_mode = mode
    config.parallel.full_batch = bool(ms.get_auto_parallel_context('full_batch'))
    config.use_parallel = True


def _apply_args(args, config):
    """TrainingArguments or ConfigArguments on top of a task config."""
    if isinstance(args, ConfigArguments):
        return args.apply_to(config)
    return args.convert_args_to_mindformers_config(config)
