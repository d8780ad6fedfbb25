"""TrainingArguments: Python-side overrides of a task YAML; only fields the user sets take effect."""
from dataclasses import dataclass, fields

from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerConfig


@dataclass
class TrainingArguments:
    """Every field defaults to None, meaning "keep the YAML value" (r1.0 semantics)."""
    output_dir: str = None
    use_parallel: bool = None
    use_cpu: bool = None
    mode: int = None
    profile: bool = None
    only_save_strategy: bool = None
    sink_mode: bool = None
    sink_size: int = None
    batch_size: int = None
    gradient_accumulation_steps: int = None
    per_device_train_batch_size: int = None
    per_device_eval_batch_size: int = None
    learning_rate: float = None
    lr_end: float = None
    weight_decay: float = None
    adam_beta1: float = None
    adam_beta2: float = None
    adam_epsilon: float = None
    max_grad_norm: float = None
    num_train_epochs: float = None
    lr_scheduler_type: str = None
    optim: str = None
    warmup_steps: int = None
    warmup_ratio: float = None
    save_strategy: str = None
    integrated_save: bool = None
    save_steps: int = None
    save_seconds: int = None
    save_total_limit: int = None
    save_prefix: str = None
    logging_steps: int = None
    seed: int = None
    data_seed: int = None
    resume_from_checkpoint: str = None
    auto_trans_ckpt: bool = None
    resume_training: bool = None
    do_eval: bool = None
    eval_step_interval: int = None
    eval_epoch_interval: int = None
    evaluation_strategy: str = None
    eval_steps: int = None
    eval_epochs: int = None
    dataloader_drop_last: bool = None
    shuffle: bool = None

    def __post_init__(self):
        if self.save_strategy not in (None, 'no', 'steps', 'seconds'):
            raise ConfigError(f"TrainingArguments.save_strategy must be 'no', 'steps' or 'seconds', got "
                              f"{self.save_strategy!r}")
        if self.evaluation_strategy not in (None, 'no', 'steps', 'epoch'):
            raise ConfigError(f"TrainingArguments.evaluation_strategy must be 'no', 'steps' or 'epoch', got "
                              f"{self.evaluation_strategy!r}")
        for name in ('batch_size', 'per_device_train_batch_size', 'per_device_eval_batch_size',
                     'gradient_accumulation_steps', 'save_steps', 'save_total_limit', 'logging_steps', 'eval_steps',
                     'eval_epochs'):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"TrainingArguments.{name} must be a positive integer, got {value!r}")

    def to_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def convert_args_to_mindformers_config(self, task_config=None):
        """Apply the set fields onto `task_config` (a MindFormerConfig) and return it."""
        config = task_config if task_config is not None else MindFormerConfig()
        options = {}

        def put(key, value):
            if value is not None:
                options[key] = value

        put('output_dir', self.output_dir)
        put('use_parallel', self.use_parallel)
        put('profile', self.profile)
        put('only_save_strategy', self.only_save_strategy)
        put('seed', self.seed)
        put('auto_trans_ckpt', self.auto_trans_ckpt)
        put('resume_training', self.resume_training)
        put('load_checkpoint', self.resume_from_checkpoint)
        put('do_eval', self.do_eval)
        put('eval_step_interval', self.eval_step_interval)
        put('eval_epoch_interval', self.eval_epoch_interval)
        put('eval_step_interval', self.eval_steps)
        put('eval_epoch_interval', self.eval_epochs)
        if self.evaluation_strategy == 'no':
            options['do_eval'] = False
        elif self.evaluation_strategy == 'steps':     # every eval_steps steps (default 100), never per epoch
            options.update({'do_eval': True, 'eval_epoch_interval': -1})
            put('eval_step_interval', self.eval_steps)
        elif self.evaluation_strategy == 'epoch':     # every eval_epochs epochs (default 1), never per step
            options.update({'do_eval': True, 'eval_step_interval': -1, 'eval_epoch_interval': self.eval_epochs or 1})
        put('context.mode', self.mode)
        if self.use_cpu:
            options['context.device_target'] = 'CPU'
            options['use_parallel'] = False
        put('runner_config.sink_mode', self.sink_mode)
        put('runner_config.sink_size', self.sink_size)
        put('runner_config.gradient_accumulation_steps', self.gradient_accumulation_steps)
        if self.num_train_epochs is not None:
            options['runner_config.epochs'] = int(self.num_train_epochs)
        batch = self.batch_size if self.batch_size is not None else self.per_device_train_batch_size
        put('runner_config.batch_size', batch)
        if config.eval_dataset is not None:
            put('eval_dataset.batch_size', self.per_device_eval_batch_size)
        if config.train_dataset is not None:
            put('train_dataset.seed', self.data_seed)
            put('train_dataset.drop_remainder', self.dataloader_drop_last)
            if self.shuffle is not None and config.train_dataset.data_loader is not None:
                options['train_dataset.data_loader.shuffle'] = self.shuffle
        put('lr_schedule.type', self.lr_scheduler_type)
        put('lr_schedule.learning_rate', self.learning_rate)
        put('lr_schedule.lr_end', self.lr_end)
        put('lr_schedule.warmup_steps', self.warmup_steps)
        put('lr_schedule.warmup_ratio', self.warmup_ratio)
        put('optimizer.type', self.optim)
        put('optimizer.learning_rate', self.learning_rate)
        put('optimizer.weight_decay', self.weight_decay)
        put('optimizer.eps', self.adam_epsilon)
        optim_type = self.optim or (config.optimizer or {}).get('type')
        if self.adam_beta1 is not None or self.adam_beta2 is not None:
            if optim_type == 'AdamW':
                betas = list((config.optimizer or {}).get('betas') or [0.9, 0.999])
                betas = [self.adam_beta1 if self.adam_beta1 is not None else betas[0],
                         self.adam_beta2 if self.adam_beta2 is not None else betas[1]]
                options['optimizer.betas'] = betas
            else:
                put('optimizer.beta1', self.adam_beta1)
                put('optimizer.beta2', self.adam_beta2)
        if self.max_grad_norm is not None:
            options['runner_wrapper.max_grad_norm'] = self.max_grad_norm
            options['runner_wrapper.use_clip_grad'] = True
        config.merge_from_dict(options)
        self._apply_callback_options(config)
        return config

    def _apply_callback_options(self, config):
        callbacks = [dict(c) for c in (config.callbacks or [])]
        if self.save_strategy == 'no':
            callbacks = [c for c in callbacks if c.get('type') not in ('CheckpointMonitor', 'CheckpointMointor')]
        for callback in callbacks:
            if callback.get('type') in ('CheckpointMonitor', 'CheckpointMointor'):
                for key, value in (('save_checkpoint_steps', self.save_steps),
                                   ('save_checkpoint_seconds', self.save_seconds),
                                   ('keep_checkpoint_max', self.save_total_limit),
                                   ('integrated_save', self.integrated_save), ('prefix', self.save_prefix)):
                    if value is not None:
                        callback[key] = value
            if callback.get('type') == 'MFLossMonitor' and self.logging_steps is not None:
                callback['per_print_times'] = self.logging_steps
        if config.callbacks is not None or callbacks:
            config.callbacks = callbacks
