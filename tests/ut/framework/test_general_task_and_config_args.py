"""Upstream's config-argument classes and the `general` task: ConfigArguments on top of a task YAML through
Trainer(args=...), one-line errors for unknown keys, and GeneralTaskTrainer training a caller's network with the
caller's wrapper (weights checked against plain SGD computed here) and evaluating it with the caller's metrics."""
import numpy as np
import pytest
import mindspore as ms
from mindspore import nn, Tensor
from mindspore.dataset import GeneratorDataset

from mindformers import Trainer
from mindspore.train import Accuracy
from mindformers.tools.errors import ConfigError, NotAvailableError
from mindformers.trainer import (CheckpointConfig, CloudConfig, ConfigArguments, DataLoaderConfig, DatasetConfig,
                                 GeneralTaskTrainer, LRConfig, OptimizerConfig, RunnerConfig, WrapperConfig)


def test_config_arguments_replace_or_merge_the_task_yamls_sections(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ConfigArguments(seed=2022, output_dir=str(tmp_path / 'out'),
                           runner_config=RunnerConfig(epochs=10, batch_size=2),
                           optimizer=OptimizerConfig(optim_type='AdamWeightDecay', beta1=0.009, learning_rate=0.001),
                           runner_wrapper=WrapperConfig(wrapper_type='MFTrainOneStepCell', scale_sense=2.0),
                           train_dataset=DatasetConfig(data_loader=DataLoaderConfig('MindDataset', 'data/train'),
                                                       batch_size=2))
    trainer = Trainer(args=args, task='text_generation', model='gpt2_tiny')
    config = trainer.config
    assert config.seed == 2022 and config.runner_config.epochs == 10 and config.runner_config.batch_size == 2
    assert config.runner_config.sink_mode is not None                 # merged: the YAML's other keys stay
    assert dict(config.optimizer) == {'type': 'AdamWeightDecay', 'learning_rate': 0.001, 'beta1': 0.009}
    assert config.lr_schedule is None                # the optimizer's learning rate replaces the YAML schedule
    assert config.runner_wrapper.scale_sense == 2.0 and config.runner_wrapper.type == 'MFTrainOneStepCell'
    assert config.train_dataset.data_loader.dataset_dir == 'data/train'
    assert config.train_dataset.input_columns == ['input_ids', 'attention_mask']      # same loader type: merged
    assert CheckpointConfig(save_checkpoint_steps=5).to_dict()['save_checkpoint_steps'] == 5
    assert CloudConfig().to_dict() == {'root_path': '/cache', 'upload_frequence': 1, 'keep_last': False}
    assert LRConfig('CosineWithWarmUpLR', learning_rate=0.1, warmup_ratio=0.1).to_dict() == \
        {'type': 'CosineWithWarmUpLR', 'learning_rate': 0.1, 'warmup_ratio': 0.1}


@pytest.mark.parametrize('build, message', [
    (lambda: RunnerConfig(epoch=3), r"^RunnerConfig: unknown key 'epoch'; allowed keys are \["),
    (lambda: OptimizerConfig('AdamWeightDecay', betas=0.9), r"^OptimizerConfig: unknown key 'betas'"),
    (lambda: LRConfig('NoSuchLR'), r"^Can't find class type lr class name NoSuchLR in class registry"),
])
def test_unknown_keys_and_types_are_one_line(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


class _Regression(nn.Cell):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(3, 1, weight_init='zeros', bias_init='zeros')

    def construct(self, x, y):
        return ((self.dense(x) - y) ** 2).mean()


class _Classifier(nn.Cell):
    def __init__(self, weight):
        super().__init__()
        self.weight = ms.Parameter(Tensor(weight, ms.float32))

    def construct(self, x, label):
        return ms.ops.matmul(x, self.weight), label


def test_general_task_trains_the_callers_network_with_its_wrapper_and_evaluates_its_metrics(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.3).astype(np.float32)[:, None]
    dataset = GeneratorDataset(list(zip(x, y)), ['x', 'y'], shuffle=False).batch(4)
    network = _Regression()
    wrapper = nn.TrainOneStepCell(network, nn.SGD(network.trainable_params(), learning_rate=0.1))
    GeneralTaskTrainer(model_name='common').train(
        config={'runner_config': {'epochs': 2}, 'output_dir': str(tmp_path / 'output'), 'callbacks': []},
        wrapper=wrapper, dataset=dataset)
    weight, bias = np.zeros(3), 0.0                       # the same 4 SGD steps (2 epochs x 2 batches) here
    for _ in range(2):
        for rows in (slice(0, 4), slice(4, 8)):
            error = x[rows] @ weight + bias - y[rows, 0]
            weight = weight - 0.1 * 2 * (x[rows] * error[:, None]).mean(0)
            bias = bias - 0.1 * 2 * error.mean()
    np.testing.assert_allclose(network.dense.weight.asnumpy()[0], weight, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(network.dense.bias.asnumpy()[0], bias, rtol=1e-5, atol=1e-6)

    labels = np.array([0, 1, 1, 0, 1, 0], np.int32)
    features = np.eye(2, dtype=np.float32)[labels]
    features[[2, 5]] = features[[2, 5]][:, ::-1]                 # two of six rows score the wrong class
    eval_set = GeneratorDataset(list(zip(features, labels)), ['x', 'label'], shuffle=False).batch(3)
    result = GeneralTaskTrainer().evaluate(config={'output_dir': str(tmp_path / 'output')},
                                           network=_Classifier(np.eye(2)), dataset=eval_set,
                                           compute_metrics={'Accuracy': Accuracy(eval_type='classification')})
    assert result == pytest.approx(4 / 6)
    with pytest.raises(ConfigError, match=r"^GeneralTaskTrainer.train needs network="):
        GeneralTaskTrainer().train(dataset=dataset)
    with pytest.raises(NotAvailableError, match=r"^the general task has no predict"):
        GeneralTaskTrainer().predict()
