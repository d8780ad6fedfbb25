"""Upstream's generic dataset API: the batch image transforms against PIL/NumPy, RandomErasing's rectangles,
SimMask's blocks, CaptionTransform's text cleaning, the registry builders (transforms, samplers, masks),
BaseDataset's config from arguments and check_dataset_config's copies into the dataset sections."""
import numpy as np
import pytest
from PIL import Image
from mindspore.dataset import RandomSampler

from mindformers.dataset import (BCHW2BHWC, BaseDataset, BatchCenterCrop, BatchNormalize, BatchPILize, BatchResize,
                                 BatchToTensor, CaptionTransform, RandomErasing, RandomHorizontalFlip,
                                 RandomResizedCrop, Resize, SimMask, build_mask, build_sampler, build_transforms,
                                 check_dataset_config)
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerConfig

MEAN, STD = np.array([0.48145466, 0.4578275, 0.40821073]), np.array([0.26862954, 0.26130258, 0.27577711])


def test_batch_transforms_chain_like_pil_and_numpy():
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(2, 3, 20, 30)).astype(np.float32)          # BCHW, as a model input
    out = BCHW2BHWC()(batch)
    assert out.shape == (2, 20, 30, 3)
    images = BatchPILize()(out)
    images = BatchResize(16)(images)
    images = BatchCenterCrop(16)(images)
    tensors = np.stack(BatchToTensor()(images))
    normalized = BatchNormalize()(tensors)
    for index in range(2):
        pil = Image.fromarray(out[index].astype(np.uint8)).resize((24, 16), Image.BICUBIC)
        crop = np.asarray(pil)[:, 4:20].astype(np.float64) / 255.0
        expected = ((crop - MEAN) / STD).transpose(2, 0, 1)
        np.testing.assert_allclose(normalized[index], expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(DatasetError, match=r"^BatchNormalize: give arrays"):
        BatchNormalize()(images)
    with pytest.raises(DatasetError, match=r"^BatchResize: the rank of image_batch should be 3 or 4, but got 2"):
        BatchResize(8)(np.zeros((4, 4), np.uint8))


def test_resize_crop_and_flip_take_upstreams_string_interpolation():
    image = np.random.default_rng(1).integers(0, 256, size=(20, 30, 3)).astype(np.uint8)
    resized = Resize((10, 15), interpolation='cubic')(Image.fromarray(image))        # PIL in: PIL's bicubic
    np.testing.assert_array_equal(np.asarray(resized), np.asarray(Image.fromarray(image).resize((15, 10),
                                                                                                Image.BICUBIC)))
    assert RandomResizedCrop(12, interpolation='bilinear')(image).shape == (12, 12, 3)
    np.testing.assert_array_equal(RandomHorizontalFlip(prob=1.0)(image), image[:, ::-1])
    assert isinstance(build_transforms([{'type': 'Decode'}, {'type': 'Resize', 'size': 8}])[1], Resize)


def test_random_erasing_fills_one_rectangle_per_image_and_keeps_the_clean_split():
    base = np.random.default_rng(2).normal(size=(4, 3, 32, 32)).astype(np.float32)
    erased = RandomErasing(probability=1.0, mode='const', num_splits=2, seed=0)(base)
    np.testing.assert_array_equal(erased[:2], base[:2])                       # the clean split
    for index in (2, 3):
        zero = np.all(erased[index] == 0, axis=0)
        rows, cols = np.nonzero(zero)
        assert zero.sum() == (rows.ptp() + 1) * (cols.ptp() + 1)               # one filled rectangle
        assert 0.02 * 1024 * 0.5 <= zero.sum() <= 1024 / 3 * 1.5
        np.testing.assert_array_equal(erased[index][:, ~zero], base[index][:, ~zero])
    noisy = RandomErasing(probability=1.0, mode='pixel', min_area=0.2, max_area=0.3, seed=1)(base[0])
    changed = noisy != base[0]
    assert changed.any() and 0.5 < noisy[changed].std() < 1.5                  # unit normal noise
    np.testing.assert_array_equal(RandomErasing(probability=0.0)(base[0]), base[0])


def test_sim_mask_sets_whole_blocks():
    _, mask = SimMask(seed=0)(None)
    assert mask.shape == (48, 48) and mask.dtype == np.int32
    blocks = mask.reshape(6, 8, 6, 8)
    assert (blocks == blocks[:, :1, :, :1]).all()                              # constant 8 x 8 blocks
    assert blocks[:, 0, :, 0].sum() == 22                                      # ceil(36 * 0.6)
    assert repr(build_mask({'type': 'SimMask', 'input_size': 224, 'mask_patch_size': 32})) == \
        "Mask generator for simmin arch."
    with pytest.raises(DatasetError, match=r"^SimMask: input_size 100 is not divisible by mask_patch_size 32"):
        SimMask(input_size=100)


class _RecordingTokenizer:
    def __init__(self):
        self.texts = []

    def __call__(self, text, max_length, padding, truncation, add_special_tokens):
        self.texts.append(text)
        return {'input_ids': [len(text)] + [0] * (max_length - 1)}


def test_caption_transform_cleans_and_cuts_captions():
    tokenizer = _RecordingTokenizer()
    transform = CaptionTransform(tokenizer, prompt='A picture of ', max_words=6, max_length=4)
    ids = transform(np.array(['Two DOGS (playing) in the snow!!  Outside.', b'a cat: sleeping;']))
    assert tokenizer.texts == ['a picture of two dogs playing', 'a picture of a cat sleeping']
    assert [i.tolist() for i in ids] == [[29, 0, 0, 0], [27, 0, 0, 0]] and ids[0].dtype == np.int32


def test_builders_base_dataset_and_check_dataset_config():
    sampler = build_sampler({'type': 'RandomSampler', 'replacement': False})
    assert isinstance(sampler, RandomSampler) and isinstance(build_sampler(class_name='RandomSampler'), RandomSampler)

    def dataset_args(dataset_config=None, data_loader=None, batch_size=8, **kwargs):
        return BaseDataset.check_dataset_config(dataset_config, locals())
    config = dataset_args(data_loader={'type': 'MindDataset'}, batch_size=4, repeat=2)
    assert config.batch_size == 4 and config.repeat == 2 and config.data_loader.type == 'MindDataset'
    given = MindFormerConfig(batch_size=1)
    assert dataset_args(dataset_config=given) is given

    run = MindFormerConfig(seed=3, auto_tune=False, filepath_prefix='./autotune', autotune_per_step=10, profile=False,
                           runner_config={'batch_size': 16, 'num_classes': 10},
                           train_dataset={'input_columns': ['image', 'label'], 'mixup_op': {'mixup_alpha': 0.8}},
                           train_dataset_task={'type': 'ImageCLSDataset'},
                           eval_dataset={'input_columns': ['image']})
    check_dataset_config(run)
    assert run.train_dataset.batch_size == 16 and run.train_dataset.seed == 3 and not run.train_dataset.do_eval
    assert run.train_dataset.mixup_op.num_classes == 10 and run.train_dataset.output_columns == ['image', 'label']
    assert run.train_dataset_task.dataset_config is run.train_dataset and run.eval_dataset.do_eval
