"""The Python API as a notebook user writes it: Trainer, TrainingArguments, init_context, run_check."""
import os

import numpy as np
import pytest
import mindspore as ms
from mindspore.dataset import GeneratorDataset

from conftest import ROOT, write_mindrecord, counting_rows

import mindformers
from mindformers import (Trainer, TrainingArguments, LlamaConfig, LlamaForCausalLM, MindFormerConfig,
                         init_context, ContextConfig, ParallelContextConfig)
from mindformers.tools.errors import ConfigError

SEQ, VOCAB = 16, 64


def _tiny_model():
    return LlamaForCausalLM(LlamaConfig(seq_length=SEQ, hidden_size=32, num_layers=2, num_heads=4, n_kv_heads=2,
                                        vocab_size=VOCAB, multiple_of=16, compute_dtype='float32',
                                        param_init_type='float32', max_decode_length=SEQ))


def _generator_dataset(rows, batch=4):
    data = [np.asarray(r, np.int32) for r in rows]
    return GeneratorDataset(lambda: ((row,) for row in data), column_names=['input_ids'], shuffle=False).batch(batch)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_trainer_with_model_instance_and_generator_datasets(in_tmp):
    """The README example: Trainer(task, model instance, TrainingArguments, MindSpore datasets)."""
    args = TrainingArguments(num_train_epochs=2, batch_size=4, learning_rate=2e-2, warmup_steps=1, sink_mode=True,
                             sink_size=2)
    model = _tiny_model()
    trainer = Trainer(task='text_generation', model=model, args=args,
                      train_dataset=_generator_dataset(counting_rows(32, SEQ, VOCAB)),
                      eval_dataset=_generator_dataset(counting_rows(8, SEQ, VOCAB, seed=1)))
    before = model.model.tok_embeddings.embedding_weight.asnumpy().copy()
    trainer.train()
    after = model.model.tok_embeddings.embedding_weight.asnumpy()
    assert not np.allclose(before, after)
    result = trainer.evaluate()
    assert set(result) == {'loss', 'PPL'} and result['loss'] < np.log(VOCAB)
    assert trainer.config.lr_schedule.warmup_steps == 1 and trainer.config.runner_config.epochs == 2
    ckpt = in_tmp / 'output' / 'checkpoint' / 'rank_0'
    assert any(f.endswith('.ckpt') for f in os.listdir(ckpt))
    assert trainer.get_last_checkpoint().startswith(str(ckpt))


def test_trainer_with_model_name_and_dataset_path(in_tmp):
    data = write_mindrecord(in_tmp / 'train.mindrecord', counting_rows(16, 128, 32000))
    args = TrainingArguments(num_train_epochs=1, batch_size=4, save_strategy='no')
    trainer = Trainer(task='text_generation', model='llama2_tiny', args=args, train_dataset=data)
    assert trainer.config.model.model_config.hidden_size == 128
    assert trainer.config.train_dataset.data_loader.dataset_dir == data
    assert [c['type'] for c in trainer.config.callbacks] == ['MFLossMonitor']
    trainer.train()
    assert not (in_tmp / 'output' / 'checkpoint').exists()


def test_trainer_with_yaml_path_finetune_from_checkpoint(in_tmp):
    data = write_mindrecord(in_tmp / 'train.mindrecord', counting_rows(8, 128, 32000))
    yaml_path = os.path.join(ROOT, 'configs', 'llama2', 'pretrain_llama2_tiny.yaml')
    model = _tiny_model()
    ms.save_checkpoint(model, str(in_tmp / 'init.ckpt'))
    with pytest.raises(ConfigError, match='finetune needs pretrained weights'):
        Trainer(args=yaml_path, task='text_generation', train_dataset=data).finetune()
    config = MindFormerConfig(yaml_path)
    config.runner_config.epochs = 1
    config.runner_config.batch_size = 4
    trainer = Trainer(args=config, task='text_generation', model=model, train_dataset=data)
    trainer.config.model.model_config.seq_length = 128
    with pytest.raises(Exception, match='records hold 129 tokens but the model'):
        trainer.finetune(finetune_checkpoint=str(in_tmp / 'init.ckpt'))


def test_model_name_resolves_to_its_yaml_without_allocating():
    trainer = Trainer(task='text_generation', model='llama2_7b', args=TrainingArguments(use_parallel=False))
    cfg = trainer.config.model.model_config
    assert (cfg.hidden_size, cfg.num_layers, cfg.seq_length) == (4096, 32, 4096)
    assert trainer.network is None


def test_unknown_task_and_model_name_list_close_matches():
    with pytest.raises(ConfigError, match="did you mean"):
        Trainer(task='text_generaton')
    with pytest.raises(ConfigError, match=r"llama2_7b"):
        Trainer(task='text_generation', model='llama2_7')
    with pytest.raises(ConfigError, match='not available yet'):
        Trainer(task='image_to_text_retrieval')


def test_training_arguments_only_override_what_is_set():
    config = MindFormerConfig(os.path.join(ROOT, 'configs', 'llama2', 'pretrain_llama2_tiny.yaml'))
    original = config.to_dict()
    TrainingArguments().convert_args_to_mindformers_config(config)
    assert config.to_dict() == original
    TrainingArguments(learning_rate=3e-4, num_train_epochs=5, adam_beta2=0.9, max_grad_norm=0.5,
                      save_total_limit=7).convert_args_to_mindformers_config(config)
    assert config.lr_schedule.learning_rate == 3e-4 and config.optimizer.learning_rate == 3e-4
    assert config.runner_config.epochs == 5
    assert config.optimizer.betas == [0.9, 0.9]  # AdamW takes betas; beta1 kept from the YAML
    assert config.runner_wrapper.max_grad_norm == 0.5
    ckpt_cb = [c for c in config.callbacks if c['type'] == 'CheckpointMonitor'][0]
    assert ckpt_cb['keep_checkpoint_max'] == 7
    assert config.runner_config.batch_size == original['runner_config']['batch_size']


def test_set_parallel_and_recompute_config_reach_the_model(in_tmp):
    trainer = Trainer(task='text_generation', model='llama2_tiny')
    trainer.set_parallel_config(data_parallel=1, model_parallel=1, pipeline_stage=1, micro_batch_num=2)
    trainer.set_recompute_config(recompute=True)
    assert trainer.config.parallel_config.micro_batch_num == 2
    assert trainer.config.parallel_config.recompute.recompute is True
    network = trainer.trainer.create_network(trainer.config)
    assert all(layer._has_config_recompute for layer in network.model.layers)  # pylint: disable=protected-access
    plain = Trainer(task='text_generation', model='llama2_tiny').trainer.create_network(trainer.config.__class__(
        MindFormerConfig(os.path.join(ROOT, 'configs', 'llama2', 'pretrain_llama2_tiny.yaml'))))
    assert not any(getattr(layer, '_has_config_recompute', False) for layer in plain.model.layers)


def test_init_context_and_config_classes():
    rank, device_num = init_context(use_parallel=False, context_config=ContextConfig(mode=1, device_target='CPU'),
                                    parallel_config=ParallelContextConfig())
    assert (rank, device_num) == (0, 1)
    assert ms.get_context('mode') == ms.PYNATIVE_MODE
    with pytest.raises(ConfigError, match='unknown key'):
        ContextConfig(not_a_key=1)
    init_context(context_config={'mode': 0, 'device_target': 'CPU'})
    assert ms.get_context('mode') == ms.GRAPH_MODE


def test_run_check_runs_forward_and_backward():
    assert mindformers.run_check() is True


def test_a_yaml_given_as_model_is_the_base_and_training_arguments_override_it(in_tmp):
    tiny = os.path.join(ROOT, 'configs', 'gpt2', 'run_gpt2_tiny.yaml')
    trainer = Trainer(task='text_generation', model=tiny,
                      args=TrainingArguments(num_train_epochs=3, batch_size=2, learning_rate=0.001))
    assert trainer.config.model.model_config.hidden_size == 64             # the YAML's, not run_gpt2.yaml's 768
    assert (trainer.config.runner_config.epochs, trainer.config.runner_config.batch_size) == (3, 2)
    assert trainer.config.trainer.model_name == MindFormerConfig(tiny).trainer.model_name


class _EpochWeights(ms.train.callback.Callback):
    def __init__(self, model):
        super().__init__()
        self.model, self.weights = model, []

    def on_train_epoch_end(self, run_context):
        self.weights.append(self.model.model.tok_embeddings.embedding_weight.asnumpy().copy())


def _eval_each_epoch(epochs, **best):
    """evaluation_strategy='epoch' over 8 counting rows; -> (trainer, logged eval losses, weights after each epoch)."""
    args = TrainingArguments(num_train_epochs=epochs, batch_size=4, learning_rate=2e-2, warmup_steps=1,
                             evaluation_strategy='epoch', save_strategy='no')
    model = _tiny_model()
    trainer = Trainer(task='text_generation', model=model, args=args,
                      train_dataset=_generator_dataset(counting_rows(16, SEQ, VOCAB)),
                      eval_dataset=_generator_dataset(counting_rows(8, SEQ, VOCAB, seed=1)))
    trainer.config.update(best)
    record = _EpochWeights(model)
    trainer.callbacks.append(record)
    with _captured_log() as lines:
        trainer.train()
    evals = [float(line.split("'loss': ", 1)[1].split(',')[0]) for line in lines() if 'Eval result: ' in line]
    return trainer, evals, record.weights


def _captured_log():
    import contextlib  # pylint: disable=import-outside-toplevel
    import io  # pylint: disable=import-outside-toplevel
    import logging  # pylint: disable=import-outside-toplevel
    from mindformers.tools.logger import logger  # pylint: disable=import-outside-toplevel

    @contextlib.contextmanager
    def capture():
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        logger.addHandler(handler)
        try:
            yield lambda: stream.getvalue().splitlines()
        finally:
            logger.removeHandler(handler)
    return capture()


def test_the_best_evaluation_keeps_its_weights_and_early_stop_ends_training(in_tmp):
    import json  # pylint: disable=import-outside-toplevel
    # lower PPL is better by default: each epoch improves on counting rows, so the last epoch's weights are kept
    _, evals, weights = _eval_each_epoch(3, save_best_metric='PPL')
    assert len(evals) == len(weights) == 3 and evals[0] > evals[1] > evals[2]
    folder = in_tmp / 'output' / 'checkpoint_best' / 'rank_0'
    best = json.loads((folder / 'best.json').read_text())
    assert (best['metric'], best['step'], best['epoch']) == ('PPL', 12, 3)
    assert best['value'] == pytest.approx(np.exp(evals[2]), rel=1e-9)
    saved = ms.load_checkpoint(str(folder / 'best_rank_0.ckpt'))
    np.testing.assert_array_equal(saved['model.tok_embeddings.embedding_weight'].asnumpy(), weights[2])

    # "higher is better" makes the first evaluation the best; patience 1 stops after the second, at epoch 2 of 5
    _, evals, weights = _eval_each_epoch(5, save_best_metric='PPL', greater_is_better=True, early_stop_patience=1)
    assert len(evals) == len(weights) == 2
    best = json.loads((folder / 'best.json').read_text())
    assert (best['step'], best['epoch']) == (4, 1)
    saved = ms.load_checkpoint(str(folder / 'best_rank_0.ckpt'))
    np.testing.assert_array_equal(saved['model.tok_embeddings.embedding_weight'].asnumpy(), weights[0])


def test_a_best_metric_the_result_does_not_have_is_one_config_error(in_tmp):  # pylint: disable=unused-argument
    with pytest.raises(ConfigError, match="save_best_metric 'Acc' is not in the eval result; it has: loss, PPL"):
        _eval_each_epoch(1, save_best_metric='Acc')
    with pytest.raises(ConfigError, match="early_stop_patience needs save_best_metric"):
        _eval_each_epoch(1, early_stop_patience=2)
