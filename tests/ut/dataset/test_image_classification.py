"""Image classification data: the MNIST folder tool, ImageCLSDataset over an ImageFolderDataset layout (images,
labels, transforms from YAML), the ViT image processor against a hand computation, and one-line errors."""
import os

import numpy as np
import pytest
from PIL import Image

from mindformers import ImageCLSDataset, ViTImageProcessor
from mindformers.dataset.transforms.mixup import Mixup, smoothed_one_hot
from mindformers.dataset.transforms.vision_transforms import build_vision_transforms
from mindformers.tools.errors import ConfigError, DatasetError
from tests.repo_scripts import load_script

TOOL = load_script('scripts/examples/image_classification/mnist_to_folders.py', 'mnist_to_folders')
MEAN, STD = 0.1307, 0.3081
GREY = [{'type': 'Decode'}, {'type': 'ConvertColor', 'convert_mode': 'COLOR_RGB2GRAY'}, {'type': 'ToTensor'},
        {'type': 'Normalize', 'mean': [MEAN], 'std': [STD], 'is_hwc': False}]


def digit_csv(path, per_class=4, label_last=True):
    """A small MNIST-style CSV: every pixel of a row holds (label * 20 + row index within the class)."""
    rows = []
    for label in range(3):
        for index in range(per_class):
            pixels = [label * 20 + index] * 784
            rows.append(pixels + [label] if label_last else [label] + pixels)
    path.write_text('\n'.join(','.join(str(v) for v in row) for row in rows) + '\n')
    return str(path)


@pytest.fixture(name='folders')
def fixture_folders(tmp_path):
    csv = digit_csv(tmp_path / 'digits.csv')
    assert TOOL.main(['--csv', csv, '--output_dir', str(tmp_path / 'out'), '--val_per_class', '1']) == 0
    return tmp_path / 'out'


def test_tool_splits_the_last_rows_of_each_digit_into_val(folders):
    assert sorted(os.listdir(folders / 'train')) == ['0', '1', '2']
    assert sorted(os.listdir(folders / 'val' / '2')) == ['00011.png']
    assert len(os.listdir(folders / 'train' / '1')) == 3
    pixels = np.asarray(Image.open(folders / 'train' / '1' / '00005.png'))
    assert pixels.shape == (28, 28) and set(np.unique(pixels)) == {21}


def test_tool_rejects_a_row_that_is_not_a_digit_in_one_line(tmp_path, capsys):
    csv = digit_csv(tmp_path / 'digits.csv', label_last=False)   # the label is first: the last value is a pixel
    text = (tmp_path / 'digits.csv').read_text().replace('\n', ',99\n', 1)
    (tmp_path / 'bad.csv').write_text(text)
    assert TOOL.main(['--csv', str(tmp_path / 'bad.csv'), '--output_dir', str(tmp_path / 'o')]) == 2
    assert 'bad.csv:1: 786 values' in capsys.readouterr().err
    assert TOOL.main(['--csv', csv, '--output_dir', str(tmp_path / 'o'), '--label_column', 'first',
                      '--val_per_class', '1']) == 0


def make_dataset(folder, batch_size=4, **overrides):
    config = dict(data_loader={'type': 'ImageFolderDataset', 'dataset_dir': str(folder), 'shuffle': False},
                  transforms=GREY, input_columns=['image', 'label'], batch_size=batch_size, drop_remainder=False)
    config.update(overrides)
    return ImageCLSDataset(dataset_config=config)


def test_dataset_gives_normalised_chw_images_and_folder_labels(folders):
    dataset = make_dataset(folders / 'train', batch_size=9)
    assert dataset.num_classes == 3 and dataset.class_names == ['0', '1', '2']
    image, label = next(dataset.create_tuple_iterator(num_epochs=1, output_numpy=True))
    assert image.shape == (9, 1, 28, 28) and image.dtype == np.float32 and label.dtype == np.int32
    assert label.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    raw = np.array([0, 1, 2, 20, 21, 22, 40, 41, 42], np.float32)      # the files' pixel values, sorted by name
    np.testing.assert_allclose(image[:, 0, 5, 5], (raw / 255 - MEAN) / STD, atol=1e-5)


@pytest.mark.parametrize('make, message', [
    (lambda root: str(root / 'nowhere'), "image folder .*nowhere' does not exist"),
    (lambda root: str(root / 'train' / '0'), 'has no class sub-folders'),
])
def test_dataset_folder_errors_are_one_line(folders, make, message):
    with pytest.raises(DatasetError, match=message):
        make_dataset(make(folders))


def test_dataset_mixes_batches_with_upstream_mixup_op(folders):
    """Upstream's mixup_op section: every batch's images are a blend (or a patch) of the batch and its reverse, and
    the labels the same blend of smoothed one-hot rows; num_classes comes from the class folders."""
    plain = next(make_dataset(folders / 'train', batch_size=9).create_tuple_iterator(output_numpy=True))
    mixed = make_dataset(folders / 'train', batch_size=9, seed=3,
                         mixup_op={'mixup_alpha': 0.8, 'cutmix_alpha': 0.0, 'prob': 1.0, 'label_smoothing': 0.1})
    image, target = next(mixed.create_tuple_iterator(output_numpy=True))
    assert target.shape == (9, 3) and target.dtype == np.float32
    np.testing.assert_allclose(target.sum(-1), 1.0, atol=1e-6)
    one_hot = smoothed_one_hot(plain[1], 3, 0.1)
    lam = (target[0, 0] - one_hot[::-1][0, 0]) / (one_hot[0, 0] - one_hot[::-1][0, 0])
    assert 0.0 < lam < 1.0
    np.testing.assert_allclose(target, lam * one_hot + (1 - lam) * one_hot[::-1], atol=1e-6)
    np.testing.assert_allclose(image, lam * plain[0] + (1 - lam) * plain[0][::-1], atol=1e-5)
    with pytest.raises(DatasetError, match='mixup_op.prob must be within'):
        make_dataset(folders / 'train', mixup_op={'mixup_alpha': 0.8, 'prob': 2})


def test_cutmix_patches_a_box_from_the_reversed_batch_and_weights_targets_by_its_area():
    images = np.arange(4 * 1 * 8 * 8, dtype=np.float32).reshape(4, 1, 8, 8)
    labels = np.array([0, 1, 2, 3])
    mixed, target = Mixup(mixup_alpha=0.0, cutmix_alpha=1.0, label_smoothing=0.0, num_classes=4, seed=5)(images,
                                                                                                        labels)
    changed = mixed != images
    rows, cols = np.nonzero(changed[0, 0])
    box = (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1)
    assert changed[0, 0].sum() == (box[1] - box[0]) * (box[3] - box[2])          # one solid box
    np.testing.assert_array_equal(mixed[:, :, box[0]:box[1], box[2]:box[3]],
                                  images[::-1][:, :, box[0]:box[1], box[2]:box[3]])
    lam = 1 - changed[0, 0].mean()
    np.testing.assert_allclose(target[0], [lam, 0, 0, 1 - lam], atol=1e-6)
    untouched, plain = Mixup(prob=0.0, label_smoothing=0.1, num_classes=4)(images, labels)
    np.testing.assert_array_equal(untouched, images)
    np.testing.assert_allclose(plain[2], [0.025, 0.025, 0.925, 0.025], atol=1e-6)


def test_soft_targets_train_a_classifier_through_the_loss():
    """A ViT trains on mixed batches: SoftTargetCrossEntropy reads the (batch, classes) targets."""
    from mindformers import ViTConfig, ViTForImageClassification  # pylint: disable=import-outside-toplevel
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    model = ViTForImageClassification(ViTConfig(image_size=8, patch_size=4, num_channels=1, hidden_size=16,
                                                num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
                                                num_labels=4, drop_path_rate=0.0))
    images, target = Mixup(mixup_alpha=0.8, num_classes=4, seed=0)(np.ones((4, 1, 8, 8), np.float32),
                                                                   np.array([0, 1, 2, 3]))
    model.set_train(True)
    loss = float(model(ms.Tensor(images), ms.Tensor(target)))
    model.set_train(False)
    logits = model(ms.Tensor(images)).asnumpy().astype(np.float64)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert abs(loss - float(-(target * log_probs).sum(-1).mean())) < 1e-5


@pytest.mark.parametrize('section, message', [
    ({'type': 'rand_augment_transform', 'config_str': 'rand-m9'}, "'rand_augment_transform' .* is not available"),
    ({'type': 'Sharpen'}, "unknown image transform 'Sharpen'"),
    ({'type': 'Resize', 'sise': 4}, "transform Resize: unknown key 'sise'"),
    ({'type': 'Resize', 'size': 4, 'interpolation': 'fancy'}, "unknown interpolation 'fancy'"),
    ({'type': 'ConvertColor', 'convert_mode': 'RGB2GREY'}, "unknown convert_mode 'RGB2GREY'"),
])
def test_transform_errors_are_one_line(section, message):
    with pytest.raises(ConfigError, match=message):
        build_vision_transforms([section])


def test_upstream_transform_keys_are_translated():
    erase, resize = build_vision_transforms([{'type': 'RandomErasing', 'probability': 0.25, 'mode': 'pixel',
                                              'max_count': 1},
                                             {'type': 'Resize', 'size': 8, 'interpolation': 'cubic'}])
    assert type(erase).__name__ == 'RandomErasing' and erase.prob == 0.25
    assert resize.interpolation.name == 'BICUBIC'


def test_processor_matches_a_hand_computation(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (40, 30, 3)).astype(np.uint8)
    path = str(tmp_path / 'a.png')
    Image.fromarray(rgb).save(path)
    processor = ViTImageProcessor(size=30, resize=30, interpolation='nearest')
    out = processor([path, rgb]).asnumpy()
    # shorter side 30 already: no resize; center crop 40 -> 30 rows (5 off the top); ImageNet normalisation
    crop = rgb[5:35].astype(np.float32) / 255
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    ref = ((crop - mean) / std).transpose(2, 0, 1)
    assert out.shape == (2, 3, 30, 30)
    np.testing.assert_allclose(out[0], ref, atol=1e-5)
    np.testing.assert_allclose(out[1], ref, atol=1e-5)
    assert processor.resize == 30 and ViTImageProcessor(size=224).resize == 256   # upstream's 256 -> 224


def test_processor_errors_are_one_line(tmp_path):
    (tmp_path / 'broken.png').write_bytes(b'not a png')
    with pytest.raises(DatasetError, match='cannot decode image .*broken.png'):
        ViTImageProcessor()(str(tmp_path / 'broken.png'))
    os.makedirs(tmp_path / 'empty')
    with pytest.raises(DatasetError, match='holds no image files'):
        ViTImageProcessor()(str(tmp_path / 'empty'))
    with pytest.raises(ConfigError, match='mean has 3 values but num_channels is 1'):
        ViTImageProcessor(num_channels=1)
    with pytest.raises(ConfigError, match='resize 20 is smaller than the crop size 28'):
        ViTImageProcessor(size=28, resize=20)


def test_an_undecodable_image_is_a_one_line_error_naming_the_file(folders):
    from mindformers.tools.errors import dataset_errors  # pylint: disable=import-outside-toplevel
    (folders / 'train' / '1' / 'zz_broken.png').write_bytes(b'garbage')
    dataset = make_dataset(folders / 'train', batch_size=2)
    with pytest.raises(DatasetError, match=r'^data pipeline: .*Decode.* data file is: .*zz_broken.png'):
        with dataset_errors():
            for _ in dataset.create_tuple_iterator(num_epochs=1):
                pass
    with pytest.raises(RuntimeError, match='not a pipeline error'):
        with dataset_errors():
            raise RuntimeError('not a pipeline error')


class _Network:   # what ImageClassificationTrainer's checks read of a model: its config
    def __init__(self, **config):
        from mindformers import ViTConfig  # pylint: disable=import-outside-toplevel
        self.config = ViTConfig(**dict(dict(image_size=28, patch_size=7, num_channels=1, hidden_size=16,
                                            num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                                            num_labels=3), **config))


@pytest.mark.parametrize('config, message', [
    (dict(num_labels=2), r"train data has 3 classes \(0, 1, 2\) but the model has num_labels 2; set "
                         r"model.model_config.num_labels 3"),
    (dict(image_size=32, patch_size=8), r"train images come as \(1, 28, 28\) .* but the model takes \(1, 32, 32\)"),
    (dict(num_channels=3), r"train images come as \(1, 28, 28\) .* but the model takes \(3, 28, 28\)"),
])
def test_trainer_rejects_data_the_model_cannot_take(folders, config, message):
    from mindformers import ImageClassificationTrainer  # pylint: disable=import-outside-toplevel
    with pytest.raises(DatasetError, match=message):
        ImageClassificationTrainer()._check_record_length(make_dataset(folders / 'train'), _Network(**config), 'train')
    ImageClassificationTrainer()._check_record_length(make_dataset(folders / 'train'), _Network(), 'train')


def test_csv_loader_gives_the_folder_tools_images_and_split(folders, tmp_path):
    """ImageCsvDataLoader reads the CSV the folder tool read: the same held-out rows, the same pixels."""
    csv = str(tmp_path / 'digits.csv')
    tensor = [{'type': 'ToTensor'}, {'type': 'Normalize', 'mean': [MEAN], 'std': [STD], 'is_hwc': False}]
    for stage, count in (('train', 9), ('val', 3)):
        dataset = ImageCLSDataset(dataset_config=dict(
            data_loader={'type': 'ImageCsvDataLoader', 'dataset_dir': csv, 'stage': stage, 'val_per_class': 1,
                         'shuffle': False},
            transforms=tensor, input_columns=['image', 'label'], batch_size=count, drop_remainder=False))
        image, label = next(dataset.create_tuple_iterator(num_epochs=1, output_numpy=True))
        from_folders = make_dataset(folders / stage, batch_size=count)
        folder_image, folder_label = next(from_folders.create_tuple_iterator(num_epochs=1, output_numpy=True))
        assert image.shape == (count, 1, 28, 28)
        np.testing.assert_array_equal(label, folder_label)
        np.testing.assert_allclose(image, folder_image, atol=1e-6)
    with pytest.raises(DatasetError, match="stage must be 'train', 'val' or None"):
        ImageCLSDataset(dataset_config=dict(data_loader={'type': 'ImageCsvDataLoader', 'dataset_dir': csv,
                                                         'stage': 'test'}, input_columns=['image', 'label']))
