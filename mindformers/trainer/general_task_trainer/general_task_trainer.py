"""GeneralTaskTrainer: the `general` task. The caller brings the network (or a training wrapper holding it and its
optimizer) and the dataset; the trainer runs upstream's training loop (step logs, checkpoints, resume) and an
evaluation with the caller's metrics. There is no task model to build and no pipeline to predict with."""
from mindformers.mindformer_book import MindFormerBook
from mindformers.tools.errors import ConfigError, NotAvailableError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType, MindFormerConfig
from mindformers.trainer.base_trainer import BaseTrainer
from mindformers.trainer.config_args import ConfigArguments
from mindformers.trainer.training_args import TrainingArguments


@MindFormerRegister.register(MindFormerModuleType.TRAINER, alias='general')
@MindFormerRegister.register(MindFormerModuleType.TRAINER)
class GeneralTaskTrainer(BaseTrainer):
    """train(config, network, dataset, wrapper, optimizer, callbacks) / evaluate(config, network, dataset,
    callbacks, compute_metrics): `config` may be None (configs/general/run_general_task.yaml), a dict, a
    MindFormerConfig, ConfigArguments or TrainingArguments; `dataset` a MindSpore dataset (or the config's
    train_dataset / eval_dataset); `compute_metrics` a dict of metric name -> metric instance."""

    def __init__(self, model_name=None):
        super().__init__('general', model_name)
        self._given_metrics = None

    @staticmethod
    def _config(config):
        if isinstance(config, MindFormerConfig):
            return config
        base = MindFormerConfig(MindFormerBook.get_task_config_path('general', 'common'))
        if config is None:
            return base
        if isinstance(config, dict):
            base.merge_from_dict(config)
            return base
        if isinstance(config, ConfigArguments):
            return config.apply_to(base)
        if isinstance(config, TrainingArguments):
            return config.convert_args_to_mindformers_config(base)
        raise ConfigError(f"GeneralTaskTrainer: config must be a dict, a MindFormerConfig, ConfigArguments or "
                          f"TrainingArguments, got {type(config).__name__}")

    def train(self, config=None, network=None, dataset=None, optimizer=None, wrapper=None, callbacks=None,
              **kwargs):
        if network is None:
            network = getattr(wrapper, 'network', None)
        if network is None:
            raise ConfigError("GeneralTaskTrainer.train needs network= (or wrapper= holding one): the general task "
                              "builds no model")
        if optimizer is None and wrapper is not None:
            optimizer = getattr(wrapper, 'optimizer', None)
        return self.training_process(self._config(config), network=network, dataset=dataset, optimizer=optimizer,
                                     wrapper=wrapper, callbacks=callbacks, **kwargs)

    def evaluate(self, config=None, network=None, dataset=None, callbacks=None, compute_metrics=None, **kwargs):
        del callbacks                                     # evaluation runs no step callbacks here
        if network is None:
            raise ConfigError("GeneralTaskTrainer.evaluate needs network=: the general task builds no model")
        if compute_metrics is not None and not isinstance(compute_metrics, dict):
            raise ConfigError(f"GeneralTaskTrainer.evaluate: compute_metrics must be a dict of name -> metric, got "
                              f"{type(compute_metrics).__name__}")
        self._given_metrics = compute_metrics
        try:
            kwargs.setdefault('metric_name', None)
            return self.evaluate_process(self._config(config), network=network, dataset=dataset, **kwargs)
        finally:
            self._given_metrics = None

    def _metrics(self, config):
        if self._given_metrics:
            return dict(self._given_metrics)
        return super()._metrics(config)

    def predict(self, *args, **kwargs):
        raise NotAvailableError("the general task has no predict: run your network directly or write a pipeline")

    def export(self, *args, **kwargs):
        raise NotAvailableError("the general task has no export: export your network with mindspore.export")
