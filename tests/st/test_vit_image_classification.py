"""ViT image classification end to end on real digits, as a user types it: mnist_to_folders.py writes the
ImageFolderDataset layout from ../shared's 5,000 MNIST digits (4,000 train, 1,000 held out), run_mindformer.py
trains configs/vit/run_vit_tiny_p7_28_mnist.yaml from scratch, evaluates Top1 accuracy on the held-out digits
(>= 95 % asked) and classifies image files with --run_mode predict. The logged accuracy must be the one computed
here from the checkpoint, and predict must write the pipeline's answers. Bad input is one line, exit 2."""
import ast
import os
import re

import numpy as np
import pytest

from conftest import ROOT, model_from_yaml, losses, run_cli, run_script

TOOL = os.path.join(ROOT, 'scripts', 'examples', 'image_classification', 'mnist_to_folders.py')
YAML = os.path.join(ROOT, 'configs', 'vit', 'run_vit_tiny_p7_28_mnist.yaml')
EPOCHS = 30
STEPS = 4000 // 64


@pytest.fixture(name='work', scope='module')
def fixture_work(tmp_path_factory):
    shared = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'images', 'mnist_5k.csv.gz')
    if not os.path.isfile(shared):
        pytest.skip(f"../shared's MNIST sample (real data for this test) is not present at {shared}")
    work = tmp_path_factory.mktemp('vit_mnist')
    result = run_script(TOOL, ['--csv', shared, '--output_dir', work / 'mnist'], work)
    assert result.returncode == 0, result.stderr[-2000:]
    return work


@pytest.fixture(name='trained', scope='module')
def fixture_trained(work):
    result = run_cli(['--config', YAML, '--run_mode', 'train', '--train_dataset_dir', work / 'mnist' / 'train'], work)
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoint = work / 'output' / 'checkpoint' / 'rank_0' / f'vit_tiny_rank_0-{EPOCHS}_{STEPS}.ckpt'
    return result.stdout + result.stderr, checkpoint


def test_training_loss_falls(trained):
    log, checkpoint = trained
    values = losses(log)
    assert checkpoint.is_file()
    assert len(values) == EPOCHS * STEPS
    assert values[0] > 2.0                          # about ln(10) at the start
    assert np.mean(values[-STEPS:]) < 0.3


def test_eval_accuracy_on_held_out_digits_is_the_checkpoints_and_at_least_95(work, trained):
    _, checkpoint = trained
    result = run_cli(['--config', YAML, '--run_mode', 'eval', '--eval_dataset_dir', work / 'mnist' / 'val',
                      '--load_checkpoint', checkpoint], work)
    assert result.returncode == 0, result.stderr[-3000:]
    logged = float(re.search(r"Top1 Accuracy = ([0-9.]+)", result.stdout + result.stderr).group(1))
    assert logged >= 0.95

    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers import ViTImageProcessor  # pylint: disable=import-outside-toplevel
    from mindformers.models.image_processor import images_in  # pylint: disable=import-outside-toplevel
    model = model_from_yaml(YAML, checkpoint)
    processor = ViTImageProcessor(size=28, resize=28, num_channels=1, mean=[0.1307], std=[0.3081])
    files = images_in(str(work / 'mnist' / 'val'))
    correct = 0
    for start in range(0, len(files), 200):
        chunk = files[start:start + 200]
        predicted = model(processor(chunk)).asnumpy().argmax(-1)
        correct += sum(int(p) == int(os.path.basename(os.path.dirname(f))) for p, f in zip(predicted, chunk))
    ms.set_context(mode=ms.GRAPH_MODE)
    assert len(files) == 1000
    assert correct / 1000 == pytest.approx(logged, abs=1e-9)


def test_predict_writes_the_pipelines_answers(work, trained):
    _, checkpoint = trained
    folder = work / 'predict'
    os.makedirs(folder, exist_ok=True)
    for digit in range(10):                            # one held-out image of every digit
        source = sorted((work / 'mnist' / 'val' / str(digit)).iterdir())[0]
        (folder / f'{digit}.png').write_bytes(source.read_bytes())
    result = run_cli(['--config', YAML, '--run_mode', 'predict', '--predict_data', folder,
                      '--load_checkpoint', checkpoint], work)
    assert result.returncode == 0, result.stderr[-3000:]
    written = ast.literal_eval((work / 'image_classification_result.txt').read_text(encoding='utf-8'))
    assert len(written) == 10 and all(len(scores) == 10 for scores in written)
    assert all(abs(sum(s['score'] for s in scores) - 1) < 1e-5 for scores in written)
    assert all(scores[0]['score'] >= scores[1]['score'] for scores in written)
    right = sum(scores[0]['label'] == str(digit) for digit, scores in enumerate(written))
    assert right >= 9


def test_bad_input_is_one_line(work):
    # (the trainer's class-count and image-size checks are unit tests: tests/ut/dataset/test_image_classification.py)
    result = run_cli(['--config', YAML, '--run_mode', 'train', '--train_dataset_dir', 'no_such_folder'], work)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(
        "image folder 'no_such_folder' does not exist; the ImageFolderDataset layout is <dataset_dir>/<class name>/"
        "<image files>"), result.stderr[-1500:]
