"""TensorBoard event files and skip_nan_step through the Trainer: a tiny ViT trains on 16 images in 4 steps, one
image of the second batch holds a NaN. With skip_nan_step the second step's update is skipped (the weights stay
bit-identical, a warning names the step) and the run goes on; the event files of rank 0 hold upstream's scalars
at the logged values, read back with TensorBoard's own reader."""
import io
import logging
import os

import mindspore as ms
import numpy as np
import pytest
from mindspore.dataset import GeneratorDataset
from mindspore.train.callback import Callback

from mindformers.mindformer_book import MindFormerBook
from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger
from mindformers.utils import get_tensorboard_writer
from mindformers.utils.tensorboard import tensorboard_settings

YAML = os.path.join(MindFormerBook.get_project_path(), 'configs', 'vit', 'run_vit_tiny_p7_28_mnist.yaml')


class Snapshots(Callback):
    """Every trainable weight and the step's loss after each step."""

    def __init__(self, network):
        super().__init__()
        self.network = network
        self.weights = []
        self.losses = []

    def on_train_step_end(self, run_context):
        self.weights.append({p.name: p.asnumpy().copy() for p in self.network.trainable_params()})
        self.losses.append(float(run_context.original_args().net_outputs[0].asnumpy()))


def images_with_a_nan():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((16, 1, 28, 28)).astype(np.float32)
    images[5, 0, 3, 3] = np.nan                    # second batch of 4
    labels = (np.arange(16) % 10).astype(np.int32)
    return GeneratorDataset(list(zip(images, labels)), ['image', 'label'], shuffle=False).batch(4)


def make_trainer(tmp_path, skip_nan_step, tensorboard=None):
    from mindformers import Trainer  # pylint: disable=import-outside-toplevel
    trainer = Trainer(args=YAML, task='image_classification', train_dataset=images_with_a_nan())
    config = trainer.config
    config.output_dir = str(tmp_path / 'output')
    config.context.mode = 1
    config.runner_config.epochs = 1
    config.runner_config.batch_size = 4
    config.model.model_config.num_hidden_layers = 1
    config.callbacks = [{'type': 'MFLossMonitor'}]
    config.skip_nan_step = skip_nan_step
    if tensorboard is not None:
        config.tensorboard = tensorboard
    return trainer


@pytest.fixture(name='log_text')
def fixture_log_text():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    yield stream.getvalue
    logger.removeHandler(handler)


def test_a_nan_step_is_skipped_and_the_event_files_hold_the_logged_scalars(tmp_path, monkeypatch, log_text):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa  pylint: disable=C0415
    monkeypatch.chdir(tmp_path)
    trainer = make_trainer(tmp_path, True, {'tensorboard_dir': str(tmp_path / 'tb'), 'log_timers_to_tensorboard': True,
                                            'log_loss_scale_to_tensorboard': True})
    ms.set_seed(0)
    trainer.network = network = trainer.trainer.create_network(trainer.config)
    snapshots = Snapshots(network)
    trainer.callbacks.append(snapshots)
    trainer.train()

    assert len(snapshots.losses) == 4 and np.isnan(snapshots.losses[1])
    assert all(np.isfinite(snapshots.losses[i]) for i in (0, 2, 3))
    for name, value in snapshots.weights[1].items():          # the NaN step left every weight as it was
        np.testing.assert_array_equal(value, snapshots.weights[0][name], err_msg=name)
    assert any(not np.array_equal(value, snapshots.weights[1][name]) for name, value in snapshots.weights[2].items())
    assert all(np.isfinite(value).all() for value in snapshots.weights[3].values())
    assert "skip_nan_step: step 2 has loss nan and global norm nan; its update was skipped" in log_text()
    assert get_tensorboard_writer() is None                   # closed at the end of the run

    events = EventAccumulator(str(tmp_path / 'tb' / 'rank_0'), size_guidance={'scalars': 0, 'tensors': 0})
    events.Reload()
    scalars = events.Tags()['scalars']
    for tag in ('learning-rate', 'batch-size', 'loss', 'grad-norm', 'loss-scale', 'iteration-time', 'throughput'):
        assert tag in scalars and f'{tag}_vs_samples' in scalars, tag   # tensorboardX: ' ' -> '_'
    assert 'B-samples-per-day' in scalars
    loss = {event.step: event.value for event in events.Scalars('loss')}
    assert sorted(loss) == [1, 2, 3, 4]
    for step in (1, 3, 4):
        assert loss[step] == pytest.approx(snapshots.losses[step - 1], rel=1e-6)
    assert np.isnan(loss[2])
    assert [event.step for event in events.Scalars('loss_vs_samples')] == [4, 8, 12, 16]
    assert {event.value for event in events.Scalars('batch-size')} == {4.0}
    assert 'seed/text_summary' in events.Tags()['tensors']     # the config, one text entry per top-level key


def test_without_skip_nan_step_a_nan_loss_stops_the_run_naming_the_step(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trainer = make_trainer(tmp_path, False)
    with pytest.raises(ValueError, match=r"training loss is nan at step 2: .* or set skip_nan_step: True"):
        trainer.train()


@pytest.mark.parametrize('section, message', [
    ({'tensorboard_dir': 'tb', 'queue_size': 3}, "tensorboard.queue_size is not a key of the tensorboard section"),
    ({'tensorboard_dir': 'tb', 'tensorboard_queue_size': 0}, "tensorboard_queue_size must be a positive integer"),
    ({'tensorboard_dir': 'tb', 'log_timers_to_tensorboard': 'yes'}, "log_timers_to_tensorboard must be True or"),
    ({'tensorboard_dir': 3}, "tensorboard_dir must be a folder path, got 3"),
    ('tb', "tensorboard must be a mapping"),
])
def test_a_bad_tensorboard_section_is_one_config_error(section, message):
    with pytest.raises(ConfigError, match=message):
        tensorboard_settings({'tensorboard': section})


def test_without_a_tensorboard_section_the_modelarts_variable_names_the_folder(monkeypatch):
    monkeypatch.delenv('MA_SUMMARY_LOG_DIR', raising=False)
    assert tensorboard_settings({}) is None
    monkeypatch.setenv('MA_SUMMARY_LOG_DIR', '/tmp/summary')
    assert tensorboard_settings({})['tensorboard_dir'] == '/tmp/summary'
    assert tensorboard_settings({'tensorboard': {'tensorboard_dir': 'mine'}})['tensorboard_queue_size'] == 10


def test_skip_nan_step_with_a_wrapper_that_would_apply_the_update_is_one_config_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trainer = make_trainer(tmp_path, True)
    trainer.config.runner_wrapper = {'type': 'TrainOneStepCell'}
    with pytest.raises(ConfigError, match='skip_nan_step needs runner_wrapper MFTrainOneStepCell .*; '
                                          'TrainOneStepCell would apply it'):
        trainer.train()
