"""BaseTrainer: wires dataset, network, optimizer, wrapper and callbacks together and runs the loops."""
import os
import time
from functools import partial

import mindspore as ms
from mindspore import nn
from mindspore.train.callback import RunContext, _InternalCallbackParam, _CallbackManager, Callback

from mindformers.core.callback import build_callback, EvalCallBack, ProfileMonitor
from mindformers.core.context.parallel_check import check_parallel_config
from mindformers.core.lr import build_lr
from mindformers.core.metric import build_metric
from mindformers.core.metric.distributed import check_metrics_combinable, evaluate_metrics
from mindformers.core.metric.text_generation_metrics import GENERATION_METRICS
from mindformers.generation.text_generator import strip_trailing_pad
from mindformers.core.optim import build_optim
from mindformers.core.optim.param_groups import get_optimizer_grouped_parameters
from mindformers.core.parallel_config import build_parallel_config
from mindformers.dataset import build_dataset
from mindformers.mindformer_book import MindFormerBook
from mindformers.models.build_model import build_network
from mindformers.models.build_tokenizer import build_tokenizer
from mindformers.tools.checkpoint import load_param_dict, write_error
from mindformers.tools.ckpt_transform.strategy import save_strategy_files
from mindformers.tools.errors import ConfigError, DatasetError, dataset_errors
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerConfig, MindFormerModuleType, MindFormerRegister, ordered_yaml_dump
from mindformers.tools.utils import (communication_group_size, get_output_root_path, get_real_rank,
                                     get_real_group_size, lock_output_dir, unlock_output_dir)
from mindformers.utils.tensorboard import (set_tensorboard_writer, tensorboard_settings, unset_tensorboard_writer,
                                           write_args_to_tensorboard)
from mindformers.trainer.auto_trans_ckpt import auto_transform_checkpoint, write_run_strategy
from mindformers.trainer.utils import (resolve_checkpoint_files, read_checkpoint_files, resume_state,
                                       get_common_resume_checkpoint)
from mindformers.wrapper import build_wrapper
from mindformers.wrapper.wrapper import MFTrainOneStepCell


class BaseTrainer:
    """Task trainers subclass this and call `training_process`, `evaluate_process`, `predict_process`."""

    default_metric = 'PerplexityMetric'  # used when the YAML has no `metric` section
    metric_name = None                   # how the evaluation log line names the result (upstream's names)

    def __init__(self, task='general', model_name=None):
        self.task = task
        self.model_name = model_name
        logger.info("Now Running Task is: %s, Model is: %s", task, model_name)

    def train(self, config=None, network=None, dataset=None, optimizer=None, wrapper=None, callbacks=None,
              **kwargs):
        return self.training_process(config, network=network, dataset=dataset, optimizer=optimizer,
                                     wrapper=wrapper, callbacks=callbacks, **kwargs)

    def evaluate(self, config=None, network=None, dataset=None, **kwargs):
        if self.metric_name is not None:
            kwargs.setdefault('metric_name', self.metric_name)
        return self.evaluate_process(config, network=network, dataset=dataset, **kwargs)

    # ----------------------------------------------------------------- checks
    @staticmethod
    def check_parallel(config):
        """Parallel sizes must multiply to the device count; CPU runs data parallel only."""
        device_num = config.device_num or get_real_group_size()
        if communication_group_size() > 1 and not config.use_parallel:
            config.use_parallel = True      # communication was started by the user's init_context(use_parallel=True)
        check_parallel_config(config, device_num, ms.get_context('device_target'))

    @staticmethod
    def _grad_accumulation(config):
        steps = config.runner_config.gradient_accumulation_steps or 1
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise ConfigError(f"runner_config.gradient_accumulation_steps must be an integer >= 1, got {steps!r}")
        return steps

    # --------------------------------------------------------------- builders
    def create_dataset(self, config, section='train', dataset=None):
        """A user dataset as given, else the YAML `<section>_dataset_task` built with runner batch size."""
        if dataset is not None:
            return dataset
        task = config.get(f'{section}_dataset_task')
        data_cfg = config.get(f'{section}_dataset')
        if task is None or data_cfg is None:
            raise ConfigError(f"no {section} dataset: set {section}_dataset and {section}_dataset_task in the YAML "
                              f"or pass one to the Trainer")
        data_cfg = MindFormerConfig(data_cfg.to_dict())
        if data_cfg.seed is None:
            data_cfg.seed = config.seed if config.seed is not None else 0
        return build_dataset({'type': task.type}, {'dataset_config': data_cfg})

    def build_task_tokenizer(self, config):
        """The YAML's processor.tokenizer; without vocabulary files in it, the files cached for the model name
        (checkpoint_download/<family>/, downloaded when absent), as AutoTokenizer.from_pretrained(name) does."""
        section = (config.processor or {}).get('tokenizer')
        if not section or not section.get('type'):
            raise ConfigError("predict needs a tokenizer: set processor.tokenizer (type, vocab_file) in the YAML "
                              "or pass tokenizer= to the Trainer")
        section = dict(section.to_dict() if hasattr(section, 'to_dict') else section)
        tokenizer_class = MindFormerRegister.get_cls(MindFormerModuleType.TOKENIZER, section['type']) \
            if MindFormerRegister.is_exist(MindFormerModuleType.TOKENIZER, section['type']) else None
        file_keys = set(getattr(tokenizer_class, 'vocab_files_names', {})) | {'tokenizer_file'}
        model_name = self.model_name or (config.trainer or {}).get('model_name')
        if tokenizer_class is None or any(section.get(key) for key in file_keys) or not model_name or \
                model_name == 'common' or model_name not in MindFormerBook.get_model_name_support_list():
            return build_tokenizer(section)
        from mindformers.auto_class import AutoTokenizer  # pylint: disable=import-outside-toplevel
        folder = AutoTokenizer.named_vocab_folder(model_name, tokenizer_class)
        logger.info("tokenizer files of %s: %s", model_name, folder)
        return tokenizer_class.from_pretrained(folder, **{k: v for k, v in section.items() if k != 'type'})

    def create_network(self, config):
        return build_network(config.model, {'parallel_config': config.parallel_config,
                                            'moe_config': config.moe_config})

    @staticmethod
    def _check_record_length(dataset, network, section):
        record_length = getattr(dataset, 'record_length', None)
        seq_length = getattr(getattr(network, 'config', None), 'seq_length', None)
        if record_length is None or seq_length is None:
            return
        needed = network.record_length(seq_length) if hasattr(network, 'record_length') else seq_length + 1
        if record_length == needed or (section == 'eval' and record_length == seq_length):
            return  # eval also takes records of seq_length tokens (upstream GPT-2 evaluation data)
        if getattr(network, 'shorter_records', False) and record_length <= needed:
            return  # GLM: any row length up to seq_length (masks and positions are made per row)
        how = "seq_length + 1 = " if needed == seq_length + 1 else "seq_length = "
        raise DatasetError(f"{section} records hold {record_length} tokens but the model's seq_length "
                           f"{seq_length} needs {how}{needed}; re-run preprocessing with "
                           f"--seq_length {seq_length} or set model.model_config.seq_length "
                           f"{record_length - (needed - seq_length)}")

    def create_optimizer(self, config, network, total_steps):
        lr_cfg = MindFormerConfig(config.lr_schedule.to_dict()) if config.lr_schedule else None
        learning_rate = None
        if lr_cfg is not None:
            if lr_cfg.total_steps in (None, -1):
                lr_cfg.total_steps = total_steps
            if lr_cfg.warmup_epochs is not None and lr_cfg.warmup_ratio is None:
                epochs = max(config.runner_config.epochs, 1)
                lr_cfg.warmup_steps = int(lr_cfg.pop('warmup_epochs') * total_steps / epochs)
            lr_cfg.pop('warmup_epochs', None)
            if config.lr_scale:
                self._scale_learning_rate(config, lr_cfg)
            learning_rate = build_lr(lr_cfg)
        optim_cfg = MindFormerConfig(config.optimizer.to_dict())
        if learning_rate is None:
            learning_rate = optim_cfg.learning_rate if optim_cfg.learning_rate is not None else 1e-4
        weight_decay = optim_cfg.weight_decay or 0.0
        groups = get_optimizer_grouped_parameters(network, weight_decay, dynamic_lr_schedule=learning_rate,
                                                  layer_scale=bool(config.layer_scale),
                                                  layer_decay=config.layer_decay if config.layer_decay is not None
                                                  else 1.0)
        return build_optim(optim_cfg, {'params': groups, 'learning_rate': learning_rate})

    @staticmethod
    def _scale_learning_rate(config, lr_cfg):
        """Upstream's `lr_scale`: the schedule's learning_rate times global batch / lr_scale_factor (default 256,
        the linear scaling rule of the ViT / MAE recipes)."""
        factor = config.lr_scale_factor or 256
        if not isinstance(factor, (int, float)) or isinstance(factor, bool) or factor <= 0:
            raise ConfigError(f"lr_scale_factor must be a positive number, got {factor!r}")
        device_num = config.device_num or get_real_group_size()
        global_batch = int(config.runner_config.batch_size or 1) * device_num * BaseTrainer._grad_accumulation(config)
        scaled = float(lr_cfg.learning_rate) * global_batch / factor
        logger.info("lr_scale: learning_rate %s x global batch %d / lr_scale_factor %s = %s", lr_cfg.learning_rate,
                    global_batch, factor, scaled)
        lr_cfg.learning_rate = scaled

    # ------------------------------------------------------------- checkpoint
    @staticmethod
    def load_weights(config, network, train_cell=None, resume=False):
        """Load `config.load_checkpoint` into the network (into the whole train cell when resuming)."""
        resume_name = config.resume_training if resume else None
        device_num = config.device_num or get_real_group_size()
        path = config.load_checkpoint
        if config.auto_trans_ckpt:
            states = None if train_cell is None else {p.name: tuple(p.shape) for p in train_cell.get_parameters()}
            path, resume_name = auto_transform_checkpoint(config, network, states, resume_name)
        elif resume_name is True and device_num > 1 and os.path.isdir(os.path.join(str(path), 'rank_0')):
            # every rank restarts from the same step: the newest one all ranks saved (upstream meta.json rule)
            resume_name = get_common_resume_checkpoint(str(path), device_num) or True
        files = resolve_checkpoint_files(path, get_real_rank(), resume_name)
        logger.info("loading checkpoint %s", files if len(files) > 1 else files[0])
        params = read_checkpoint_files(files)
        if callable(getattr(network, 'convert_state_dict', None)):  # upstream MindFormers names -> ours
            params = network.convert_state_dict(params, files[0])
        target = train_cell if (resume and train_cell is not None) else network
        model_config = getattr(network, 'config', None)
        load_param_dict(target, params, source=files[0],
                        optional_keys=getattr(network, 'checkpoint_optional_keys', ()),
                        allow_partial=bool(getattr(model_config, 'allow_partial_checkpoint', False)))
        return params

    # ---------------------------------------------------------------- training
    def training_process(self, config, network=None, dataset=None, optimizer=None, wrapper=None,
                         callbacks=None, eval_dataset=None, **kwargs):
        build_parallel_config(config)
        self.check_parallel(config)
        lock = lock_output_dir()  # checkpoints of this rank go to output_dir: one run at a time
        try:
            return self._training_process(config, network, dataset, optimizer, wrapper, callbacks, eval_dataset)
        finally:
            unlock_output_dir(lock)

    def _training_process(self, config, network, dataset, optimizer, wrapper, callbacks, eval_dataset):
        runner = config.runner_config
        tensorboard_settings(config)          # a bad tensorboard section stops before anything is built
        if config.skip_nan_step not in (None, True, False):
            raise ConfigError(f"skip_nan_step must be True or False, got {config.skip_nan_step!r}")
        accumulation = self._grad_accumulation(config)
        device_num = config.device_num or get_real_group_size()
        per_device_batch = int(runner.batch_size or 1)
        global_batch = per_device_batch * accumulation * device_num
        runner.global_batch_size = global_batch
        logger.info("global_batch_size = batch_size %d x gradient_accumulation_steps %d x data parallel %d = %d",
                    per_device_batch, accumulation, device_num, global_batch)
        if runner.sink_mode:
            logger.info("sink_mode is not available on CPU-style host loops; each epoch is one pass over the data "
                        "and sink_size does not change the number of steps")
        if config.train_dataset is not None and dataset is None:
            config.train_dataset.batch_size = per_device_batch * accumulation
        train_dataset = self.create_dataset(config, 'train', dataset)
        steps_per_epoch = train_dataset.get_dataset_size()
        epochs = int(runner.epochs or 1)
        total_steps = epochs * steps_per_epoch

        if network is None:
            network = self.create_network(config)
        self._check_record_length(train_dataset, network, 'train')
        if getattr(getattr(network, 'config', None), 'use_past', False):
            logger.warning("use_past is an inference setting; training runs without a KV cache")
        network.set_train(True)
        logger.info("Network Parameters: %.3f M.", sum(p.size for p in network.trainable_params()) / 1e6)

        if optimizer is None:
            optimizer = self.create_optimizer(config, network, total_steps)
        if config.only_save_strategy:
            return self._save_strategy_and_exit(config, network, optimizer)
        if wrapper is None:
            wrapper_cfg = config.runner_wrapper or MindFormerConfig({'type': 'MFTrainOneStepCell'})
            wrapper = build_wrapper(wrapper_cfg, {'network': network, 'optimizer': optimizer,
                                                  'parallel_config': config.parallel_config,
                                                  'gradient_accumulation_steps': accumulation})
        wrapper.set_train(True)
        if config.skip_nan_step and not isinstance(wrapper, MFTrainOneStepCell):
            raise ConfigError(f"skip_nan_step needs runner_wrapper MFTrainOneStepCell (it skips the update of a "
                              f"non-finite step); {type(wrapper).__name__} would apply it")

        initial_step = 0
        if config.load_checkpoint:
            params = self.load_weights(config, network, wrapper, resume=bool(config.resume_training))
            if config.resume_training:
                state = resume_state(params)
                initial_step = int(state['step_num'])
                saved_batch = state.get('global_batch_size')
                if saved_batch and saved_batch != global_batch:
                    initial_step = initial_step * int(saved_batch) // global_batch
                logger.info("resuming from global step %d (epoch %d)", initial_step,
                            initial_step // steps_per_epoch + 1)
        elif config.resume_training:
            raise ConfigError("resume_training needs load_checkpoint (the checkpoint folder, e.g. output/checkpoint)")
        if communication_group_size() > 1:      # as a compiled parallel run does: its layout, for transform_ckpt
            # (after loading: auto_trans_ckpt may have read the previous run's files in this folder)
            write_run_strategy(network, communication_group_size(),
                               {param.name: tuple(param.shape) for param in wrapper.get_parameters()})

        callback_list = self._train_callbacks(config, callbacks, steps_per_epoch, epochs, initial_step,
                                              global_batch, accumulation, network)
        if config.do_eval:
            eval_ds = self.create_dataset(config, 'eval', eval_dataset)
            metrics = self._metrics(config)
            callback_list.append(EvalCallBack(partial(self._evaluate_in_training, config, network, eval_ds, metrics),
                                              step_interval=config.eval_step_interval or 100,
                                              epoch_interval=config.eval_epoch_interval or -1,
                                              save_best_metric=config.save_best_metric,
                                              greater_is_better=config.greater_is_better,
                                              early_stop_patience=config.early_stop_patience,
                                              metric_type=next(iter(metrics))))
        if get_real_rank() % 8 == 0:
            logger.info("run config:\n%s", ordered_yaml_dump(_printable(config)))
        if set_tensorboard_writer(config, get_real_rank()) is not None:
            write_args_to_tensorboard(_printable(config))
        logger.info(".........Model Compiling, Please Wait a Moment...........")
        try:
            self._train_loop(wrapper, network, optimizer, train_dataset, callback_list, epochs, steps_per_epoch,
                             initial_step, runner.stop_step)
        finally:
            unset_tensorboard_writer()
        logger.info(".........Training Over!.............")
        return wrapper

    @staticmethod
    def _save_strategy_and_exit(config, network, optimizer):
        """only_save_strategy: the per-rank strategy files of parallel_config (derived from the layers' shard
        declarations: semi-auto parallel does not compile on CPU), then stop before training."""
        directory = os.path.join(get_output_root_path(), 'strategy')
        states = {param.name: tuple(param.shape) for param in optimizer.get_parameters()}
        paths = save_strategy_files(network, config.parallel_config, directory, states)
        logger.info("only_save_strategy: wrote %d strategy file(s) for data_parallel %s x model_parallel %s%s to %s; "
                    "split or merge checkpoints with mindformers/tools/transform_ckpt.py", len(paths),
                    config.parallel_config.data_parallel, config.parallel_config.model_parallel,
                    f' x pipeline_stage {config.parallel_config.pipeline_stage}'
                    if (config.parallel_config.pipeline_stage or 1) > 1 else '', directory)
        return None

    def _train_callbacks(self, config, callbacks, steps_per_epoch, epochs, initial_step, global_batch,
                         accumulation, network):
        flops = getattr(network, 'training_flops_per_sample', None)
        defaults = {
            'MFLossMonitor': {'origin_epochs': epochs, 'dataset_size': steps_per_epoch,
                              'initial_epoch': initial_step // steps_per_epoch, 'initial_step': initial_step,
                              'global_batch_size': global_batch, 'gradient_accumulation_steps': accumulation,
                              **({'skip_nan_step': config.skip_nan_step} if config.skip_nan_step is not None else {}),
                              'model_flops_per_sample': flops() if callable(flops) else None},
            'CheckpointMonitor': {'global_batch_size': global_batch},
        }
        built = build_callback(list(config.callbacks or []), defaults) or []
        if config.profile:                  # upstream puts the profiler first
            built.insert(0, ProfileMonitor(
                start_step=config.profile_start_step or 1, stop_step=config.profile_stop_step or 10,
                start_profile=bool(config.init_start_profile), profile_communication=bool(config.profile_communication),
                profile_memory=config.profile_memory is not False))
        for callback in callbacks or []:
            if not isinstance(callback, Callback):
                raise ConfigError(f"callbacks must be MindSpore Callback instances, got {type(callback).__name__}")
            built.append(callback)
        return built

    @staticmethod
    def _train_loop(train_cell, network, optimizer, dataset, callbacks, epochs, steps_per_epoch, initial_step,
                    stop_step=None):
        """Epochs over one dataset iterator; resuming skips exactly the batches already trained on."""
        cb_params = _InternalCallbackParam()
        cb_params.train_network = train_cell
        cb_params.network = network
        cb_params.optimizer = optimizer
        cb_params.loss_fn = None                  # the network computes its own loss (SummaryCollector reads this)
        cb_params.epoch_num = epochs
        cb_params.batch_num = steps_per_epoch
        cb_params.train_dataset = dataset
        cb_params.mode = 'train'
        cb_params.dataset_sink_mode = False
        cb_params.device_number = get_real_group_size()
        cb_params.parallel_mode = ms.get_auto_parallel_context('parallel_mode')
        cb_params.cur_step_num = initial_step
        cb_params.cur_epoch_num = initial_step // steps_per_epoch
        cb_params.net_outputs = None
        cb_params.list_callback = callbacks
        run_context = RunContext(cb_params)
        if initial_step >= epochs * steps_per_epoch:
            logger.info("the checkpoint already covers all %d steps; nothing to train", epochs * steps_per_epoch)
            return
        if initial_step:
            dataset.set_init_step(initial_step)
        iterator = dataset.create_tuple_iterator(num_epochs=epochs)
        with dataset_errors(), _CallbackManager(callbacks) as manager:
            manager.on_train_begin(run_context)
            for epoch in range(initial_step // steps_per_epoch, epochs):
                cb_params.cur_epoch_num = epoch + 1
                manager.on_train_epoch_begin(run_context)
                for batch in iterator:
                    cb_params.cur_step_num += 1
                    cb_params.train_dataset_element = batch
                    manager.on_train_step_begin(run_context)
                    cb_params.net_outputs = train_cell(*batch)
                    manager.on_train_step_end(run_context)
                    if stop_step and cb_params.cur_step_num >= stop_step:
                        run_context.request_stop()
                    if run_context.get_stop_requested():
                        break
                manager.on_train_epoch_end(run_context)
                if run_context.get_stop_requested():
                    break
            manager.on_train_end(run_context)

    def save_predict_results(self, config, results):
        """Log the results and write str(results) to `save_file` (default <task>_result.txt) on rank 0."""
        logger.info("output result is: %s", results)
        if get_real_rank() == 0:
            save_file = config.save_file or f'{self.task}_result.txt'
            try:
                with open(save_file, 'w', encoding='utf-8') as stream:
                    stream.write(str(results))
            except OSError as err:
                raise write_error('prediction results', save_file, err) from None
            logger.info("output result is saved at: %s", os.path.abspath(save_file))

    # -------------------------------------------------------------- evaluation
    def _metrics(self, config):
        metric_cfg = config.metric or {'type': self.default_metric}
        metric_cfgs = metric_cfg if isinstance(metric_cfg, list) else [metric_cfg]
        metrics = {m['type']: build_metric(m) for m in metric_cfgs}
        check_metrics_combinable(metrics, communication_group_size())   # before any evaluation runs
        return metrics

    def _evaluate_in_training(self, config, network, dataset, metrics):
        """The task's evaluation (the loss metrics, or generation for ADGENMetric / EmF1Metric) between steps."""
        was_training = network.training
        network.set_train(False)
        try:
            return self._evaluate_with(config, network, dataset, metrics)
        finally:
            network.set_train(was_training)

    @staticmethod
    def _run_eval(network, dataset, metrics):
        for metric in metrics.values():
            metric.clear()
        with dataset_errors():
            for batch in dataset.create_tuple_iterator(num_epochs=1):
                outputs = network(*batch)
                for metric in metrics.values():
                    metric.update(*outputs)
        results = evaluate_metrics(metrics, communication_group_size())   # one result from every rank's shard
        return results[next(iter(results))] if len(results) == 1 else results

    def _evaluate_with(self, config, network, dataset, metrics):  # pylint: disable=unused-argument
        """One pass of `metrics` over `dataset`; tasks whose metrics score generated text override this."""
        return self._run_eval(network, dataset, metrics)

    def evaluate_by_generation(self, config, network, dataset, metrics):
        """Generate for every row's prompt (`input_ids` without its padding; an encoder-decoder's source) up to
        model_config.max_decode_length (or seq_length), decode, and score the text against the decoded `labels`
        with every metric (ADGENMetric, EmF1Metric, BleuMetric)."""
        generating = [name for name in metrics if name in GENERATION_METRICS]
        if len(generating) != len(metrics):
            raise ConfigError(f"metric: {generating} score generated text and {sorted(set(metrics) - set(generating))} "
                              f"the loss; evaluate them in separate runs")
        tokenizer = self.build_task_tokenizer(config)
        model_config = config.model.model_config
        max_length = int(model_config.max_decode_length or model_config.seq_length)
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        seq2seq = getattr(network, 'is_encoder_decoder', False)   # its outputs are the decoder rows alone
        for metric in metrics.values():
            metric.clear()
        for step, batch in enumerate(dataset.create_tuple_iterator(num_epochs=1, output_numpy=True)):
            input_ids, labels = batch[0], batch[-1]
            prompts = [[int(t) for t in strip_trailing_pad(row, pad_id)] for row in input_ids]
            outputs = network.generate(prompts, max_length=max_length, eos_token_id=tokenizer.eos_token_id,
                                       pad_token_id=pad_id)
            predictions = [tokenizer.decode(out[0 if seq2seq else len(prompt):].tolist(), skip_special_tokens=True)
                           for out, prompt in zip(outputs, prompts)]
            references = [tokenizer.decode([int(t) for t in row if t >= 0], skip_special_tokens=True)
                          for row in labels]
            for metric in metrics.values():
                metric.update(predictions, references)
            logger.info("evaluated batch %d (%d prompts)", step + 1, len(prompts))
        results = evaluate_metrics(metrics, communication_group_size())   # one result from every rank's shard
        return results[next(iter(results))] if len(results) == 1 else results

    def evaluate_process(self, config, network=None, dataset=None, metric_name=None, **kwargs):
        build_parallel_config(config)
        self.check_parallel(config)
        if config.eval_dataset is not None and dataset is None:
            config.eval_dataset.batch_size = int(config.runner_config.batch_size or 1)
        eval_dataset = self.create_dataset(config, 'eval', dataset)
        if network is None:
            network = self.create_network(config)
        self._check_record_length(eval_dataset, network, 'eval')
        if config.load_checkpoint:
            self.load_weights(config, network)
        metrics = self._metrics(config)
        network.set_train(False)
        start = time.time()
        result = self._evaluate_with(config, network, eval_dataset, metrics)
        for name in metrics:
            logger.info("%s = %s", metric_name or name, result if len(metrics) == 1 else result[name])
        logger.info("evaluation took %.2f s", time.time() - start)
        return result


def read_predict_inputs(input_data):
    """A string, a list of strings, or a .txt file (one input per line) -> the list of inputs."""
    if input_data is None:
        raise ConfigError("predict needs input data: --predict_data \"text\" or a .txt file with one input per line")
    if isinstance(input_data, str):
        if input_data.endswith('.txt') and os.path.isfile(input_data):
            with open(input_data, encoding='utf-8') as stream:
                # one prompt per line; a literal backslash-n inside a line stands for a newline
                prompts = [line.rstrip('\n').replace('\\n', '\n') for line in stream if line.strip()]
            if not prompts:
                raise ConfigError(f"predict data file {input_data} has no non-empty line")
            return prompts
        if input_data.endswith('.txt') and ' ' not in input_data:
            raise ConfigError(f"predict data file does not exist: {input_data}")
        return [input_data]
    if isinstance(input_data, (list, tuple)) and all(isinstance(p, str) for p in input_data):
        return list(input_data)
    raise ConfigError(f"predict input must be a string, a list of strings or a .txt file, got "
                      f"{type(input_data).__name__}")


def _printable(config):
    """Config for logging: drop live objects, keep YAML-able values."""
    out = {}
    for key, value in config.items():
        if hasattr(value, 'to_dict') and not isinstance(value, dict):
            value = value.to_dict()
        if isinstance(value, dict):
            value = _printable(value if isinstance(value, MindFormerConfig) else MindFormerConfig(value))
        elif isinstance(value, (nn.Cell, ms.Tensor)) or callable(value):
            value = repr(type(value).__name__)
        out[key] = value
    return out
