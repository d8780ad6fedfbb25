"""AutoAugment / RandAugment / AugMix (upstream's timm port) on PIL images: each op's magnitude mapping against
PIL called directly, the config-string grammar (policies, increasing sets, weights), AugMix's mixing replayed
from the same random draws, and one-line errors for bad config strings."""
import random

import numpy as np
import pytest
from PIL import Image, ImageOps

from mindformers.dataset import augment_and_mix_transform, auto_augment_transform, rand_augment_transform
from mindformers.dataset.transforms.auto_augment import AugmentOp
from mindformers.tools.errors import DatasetError


@pytest.fixture(name='image')
def fixture_image():
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, size=(24, 32, 3)).astype(np.uint8))


def _equal(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_ops_map_their_magnitude_as_timm(image):
    _equal(AugmentOp('Posterize', 1.0, 5)(image), ImageOps.posterize(image, 2))
    _equal(AugmentOp('PosterizeIncreasing', 1.0, 5)(image), ImageOps.posterize(image, 2))
    _equal(AugmentOp('PosterizeOriginal', 1.0, 10)(image), image)                       # 8 bits: unchanged
    _equal(AugmentOp('Solarize', 1.0, 5)(image), ImageOps.solarize(image, 128))
    added = np.asarray(AugmentOp('SolarizeAdd', 1.0, 10)(image)).astype(int)
    pixels = np.asarray(image).astype(int)
    _equal(added, np.where(pixels < 128, np.minimum(pixels + 110, 255), pixels))
    hparams = {'translate_const': 100, 'img_mean': (1, 2, 3), 'interpolation': 'bicubic'}
    random.seed(3)
    rotated = AugmentOp('Rotate', 1.0, 5, hparams)(image)
    random.seed(3)
    sign = -1 if random.random() > 0.5 else 1
    _equal(rotated, image.rotate(sign * 15.0, resample=Image.BICUBIC, fillcolor=(1, 2, 3)))
    random.seed(4)
    shifted = AugmentOp('TranslateX', 1.0, 10, hparams)(image)
    random.seed(4)
    sign = -1 if random.random() > 0.5 else 1
    _equal(shifted, image.transform(image.size, Image.AFFINE, (1, 0, sign * 100, 0, 1, 0), resample=Image.BICUBIC,
                                    fillcolor=(1, 2, 3)))
    assert AugmentOp('Posterize', 0.0, 5)(image) is image                              # probability 0: skipped


def test_config_strings_build_the_policies(image):
    rand = rand_augment_transform('rand-m9-mstd0.5-inc1', {'translate_const': 100, 'interpolation': 'cubic'})
    assert [op.name for op in rand.ops][4:6] == ['PosterizeIncreasing', 'SolarizeIncreasing']
    assert {op.magnitude for op in rand.ops} == {9} and rand.ops[0].hparams['magnitude_std'] == 0.5
    assert rand(image).size == image.size and rand.num_layers == 2 and rand.choice_weights is None
    weighted = rand_augment_transform('rand-n3-w0', {})
    assert weighted.num_layers == 3 and abs(weighted.choice_weights.sum() - 1) < 1e-9
    assert weighted.choice_weights[2] == 0 and weighted.choice_weights[3] == pytest.approx(0.3)      # Invert, Rotate
    auto = auto_augment_transform('v0r-mstd0.5', {})
    assert len(auto.policy) == 25 and auto.policy[12][0].name == 'PosterizeIncreasing'
    assert auto(image).size == image.size
    assert auto_augment_transform('original', {}).policy[0][0].name == 'PosterizeOriginal'


def test_augmix_mixes_its_chains_with_the_drawn_weights(image):
    augmix = augment_and_mix_transform('augmix-m5-w3-a1.0', {})
    np.random.seed(5)
    random.seed(5)
    out = augmix(image)
    np.random.seed(5)
    random.seed(5)
    weights = np.float32(np.random.dirichlet([1.0] * 3))
    mix = np.float32(np.random.beta(1.0, 1.0))
    mixed = np.zeros((24, 32, 3), np.float32)
    for weight in weights:
        chained = image
        for index in np.random.choice(13, np.random.randint(1, 4), replace=True):
            chained = augmix.ops[index](chained)
        mixed += weight * np.asarray(chained, np.float32)
    expected = Image.blend(image, Image.fromarray(np.clip(mixed, 0, 255).astype(np.uint8)), float(mix))
    _equal(out, expected)
    assert augmix.ops[0].magnitude_std == float('inf')


@pytest.mark.parametrize('build, message', [
    (lambda: rand_augment_transform('rand-x3', {}), r"^rand_augment_transform: unknown config section 'x3'"),
    (lambda: rand_augment_transform('augment-m9', {}), r"^rand_augment_transform: the config string must start"),
    (lambda: auto_augment_transform('v9', {}), r"^auto_augment_transform: the config string must start with v0"),
    (lambda: rand_augment_transform('rand-w1', {}), r"^rand_augment_transform: only weight table 0 exists"),
    (lambda: AugmentOp('Rotate', 1.0, 5, {'interpolation': 'spline'}),
     r"^augment hparams: unknown interpolation 'spline'"),
])
def test_bad_config_strings_are_one_line(build, message):
    with pytest.raises(DatasetError, match=message):
        build()
