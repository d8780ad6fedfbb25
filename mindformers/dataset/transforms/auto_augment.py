"""AutoAugment, RandAugment and AugMix on PIL images, with timm's config strings (upstream's transforms):
`auto_augment_transform('v0-mstd0.5', hparams)`, `rand_augment_transform('rand-m9-mstd0.5-inc1', hparams)`,
`augment_and_mix_transform('augmix-m5-w3-d2', hparams)`. hparams: translate_const (pixels at magnitude 10),
translate_pct, img_mean (fill colour), interpolation (a name or a PIL filter), magnitude_std (0: fixed magnitude,
inf: uniform in [0, m], else Gaussian around m). Positions and choices use Python's `random` and NumPy's RNG."""
import math
import random
import re

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['auto_augment_transform', 'rand_augment_transform', 'augment_and_mix_transform', 'AugmentOp',
           'AutoAugment', 'RandAugment', 'AugMixAugment']

_FILL = (128, 128, 128)
_MAX_LEVEL = 10.
_HPARAMS_DEFAULT = {'translate_const': 250, 'img_mean': _FILL}
_RESAMPLES = (Image.BILINEAR, Image.BICUBIC)
_FILTERS = {'nearest': Image.NEAREST, 'bilinear': Image.BILINEAR, 'linear': Image.BILINEAR,
            'bicubic': Image.BICUBIC, 'cubic': Image.BICUBIC, 'hamming': Image.HAMMING, 'lanczos': Image.LANCZOS}


def _resample_of(value):
    if isinstance(value, (list, tuple)):
        return tuple(_resample_of(v) for v in value)
    if isinstance(value, str):
        if value.lower() not in _FILTERS:
            raise DatasetError(f"augment hparams: unknown interpolation '{value}'; use one of {sorted(_FILTERS)}")
        return _FILTERS[value.lower()]
    return value


def _affine(img, coefficients, resample, fillcolor):
    return img.transform(img.size, Image.AFFINE, coefficients, resample=resample, fillcolor=fillcolor)


def _solarize_add(img, add, thresh=128):
    if img.mode not in ('L', 'RGB'):
        return img
    lut = [min(255, i + add) if i < thresh else i for i in range(256)]
    return img.point(lut * (3 if img.mode == 'RGB' else 1))


def _posterize(img, bits):
    return img if bits >= 8 else ImageOps.posterize(img, bits)


_OPS = {
    'AutoContrast': lambda img, **kw: ImageOps.autocontrast(img),
    'Equalize': lambda img, **kw: ImageOps.equalize(img),
    'Invert': lambda img, **kw: ImageOps.invert(img),
    'Rotate': lambda img, degrees, resample, fillcolor: img.rotate(degrees, resample=resample, fillcolor=fillcolor),
    'Posterize': lambda img, bits, **kw: _posterize(img, bits),
    'Solarize': lambda img, thresh, **kw: ImageOps.solarize(img, thresh),
    'SolarizeAdd': lambda img, add, **kw: _solarize_add(img, add),
    'Color': lambda img, factor, **kw: ImageEnhance.Color(img).enhance(factor),
    'Contrast': lambda img, factor, **kw: ImageEnhance.Contrast(img).enhance(factor),
    'Brightness': lambda img, factor, **kw: ImageEnhance.Brightness(img).enhance(factor),
    'Sharpness': lambda img, factor, **kw: ImageEnhance.Sharpness(img).enhance(factor),
    'ShearX': lambda img, f, resample, fillcolor: _affine(img, (1, f, 0, 0, 1, 0), resample, fillcolor),
    'ShearY': lambda img, f, resample, fillcolor: _affine(img, (1, 0, 0, f, 1, 0), resample, fillcolor),
    'TranslateX': lambda img, px, resample, fillcolor: _affine(img, (1, 0, px, 0, 1, 0), resample, fillcolor),
    'TranslateY': lambda img, px, resample, fillcolor: _affine(img, (1, 0, 0, 0, 1, px), resample, fillcolor),
}


def _negate(value):
    return -value if random.random() > 0.5 else value


def _translate_rel(axis):
    def op(img, pct, resample, fillcolor):
        pixels = pct * img.size[axis]
        return _OPS['TranslateX' if axis == 0 else 'TranslateY'](img, pixels, resample, fillcolor)
    return op


_OPS['TranslateXRel'] = _translate_rel(0)
_OPS['TranslateYRel'] = _translate_rel(1)
for _name in ('Posterize', 'Solarize', 'Color', 'Contrast', 'Brightness', 'Sharpness'):
    _OPS[f'{_name}Increasing'] = _OPS[_name]
_OPS['PosterizeOriginal'] = _OPS['Posterize']

# magnitude level (0..10) -> the op's arguments
_LEVELS = {
    'Rotate': lambda level, hp: (_negate(level / _MAX_LEVEL * 30.),),
    'ShearX': lambda level, hp: (_negate(level / _MAX_LEVEL * 0.3),),
    'ShearY': lambda level, hp: (_negate(level / _MAX_LEVEL * 0.3),),
    'TranslateX': lambda level, hp: (_negate(level / _MAX_LEVEL * hp['translate_const']),),
    'TranslateY': lambda level, hp: (_negate(level / _MAX_LEVEL * hp['translate_const']),),
    'TranslateXRel': lambda level, hp: (_negate(level / _MAX_LEVEL * hp.get('translate_pct', 0.45)),),
    'TranslateYRel': lambda level, hp: (_negate(level / _MAX_LEVEL * hp.get('translate_pct', 0.45)),),
    'Posterize': lambda level, hp: (int(level / _MAX_LEVEL * 4),),
    'PosterizeIncreasing': lambda level, hp: (4 - int(level / _MAX_LEVEL * 4),),
    'PosterizeOriginal': lambda level, hp: (int(level / _MAX_LEVEL * 4) + 4,),
    'Solarize': lambda level, hp: (int(level / _MAX_LEVEL * 256),),
    'SolarizeIncreasing': lambda level, hp: (256 - int(level / _MAX_LEVEL * 256),),
    'SolarizeAdd': lambda level, hp: (int(level / _MAX_LEVEL * 110),),
}
for _name in ('Color', 'Contrast', 'Brightness', 'Sharpness'):
    _LEVELS[_name] = lambda level, hp: (level / _MAX_LEVEL * 1.8 + 0.1,)
    _LEVELS[f'{_name}Increasing'] = lambda level, hp: (1.0 + _negate(level / _MAX_LEVEL * 0.9),)
_GEOMETRIC = {'Rotate', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'TranslateXRel', 'TranslateYRel'}


class AugmentOp:
    """One named op applied with probability `prob` at `magnitude` (0..10)."""

    def __init__(self, name, prob=0.5, magnitude=10, hparams=None):
        if name not in _OPS:
            raise DatasetError(f"augment: unknown op '{name}'; known: {sorted(_OPS)}")
        hparams = dict(hparams or _HPARAMS_DEFAULT)
        self.name = name
        self.op = _OPS[name]
        self.level_fn = _LEVELS.get(name)
        self.prob = prob
        self.magnitude = magnitude
        self.hparams = hparams
        self.kwargs = {}
        if name in _GEOMETRIC:
            self.kwargs = {'fillcolor': tuple(hparams.get('img_mean', _FILL)),
                           'resample': _resample_of(hparams.get('interpolation', _RESAMPLES))}
        self.magnitude_std = hparams.get('magnitude_std', 0)

    def __call__(self, img):
        if self.prob < 1.0 and random.random() > self.prob:
            return img
        magnitude = self.magnitude
        if self.magnitude_std == float('inf'):
            magnitude = random.uniform(0, magnitude)
        elif self.magnitude_std > 0:
            magnitude = random.gauss(magnitude, self.magnitude_std)
        magnitude = max(0., min(_MAX_LEVEL, magnitude))
        args = self.level_fn(magnitude, self.hparams) if self.level_fn is not None else ()
        kwargs = dict(self.kwargs)
        if isinstance(kwargs.get('resample'), tuple):
            kwargs['resample'] = random.choice(kwargs['resample'])
        return self.op(img, *args, **kwargs)


_V0 = [
    [('Equalize', 0.8, 1), ('ShearY', 0.8, 4)], [('Color', 0.4, 9), ('Equalize', 0.6, 3)],
    [('Color', 0.4, 1), ('Rotate', 0.6, 8)], [('Solarize', 0.8, 3), ('Equalize', 0.4, 7)],
    [('Solarize', 0.4, 2), ('Solarize', 0.6, 2)], [('Color', 0.2, 0), ('Equalize', 0.8, 8)],
    [('Equalize', 0.4, 8), ('SolarizeAdd', 0.8, 3)], [('ShearX', 0.2, 9), ('Rotate', 0.6, 8)],
    [('Color', 0.6, 1), ('Equalize', 1.0, 2)], [('Invert', 0.4, 9), ('Rotate', 0.6, 0)],
    [('Equalize', 1.0, 9), ('ShearY', 0.6, 3)], [('Color', 0.4, 7), ('Equalize', 0.6, 0)],
    [('Posterize', 0.4, 6), ('AutoContrast', 0.4, 7)], [('Solarize', 0.6, 8), ('Color', 0.6, 9)],
    [('Solarize', 0.2, 4), ('Rotate', 0.8, 9)], [('Rotate', 1.0, 7), ('TranslateYRel', 0.8, 9)],
    [('ShearX', 0.0, 0), ('Solarize', 0.8, 4)], [('ShearY', 0.8, 0), ('Color', 0.6, 4)],
    [('Color', 1.0, 0), ('Rotate', 0.6, 2)], [('Equalize', 0.8, 4), ('Equalize', 0.0, 8)],
    [('Equalize', 1.0, 4), ('AutoContrast', 0.6, 2)], [('ShearY', 0.4, 7), ('SolarizeAdd', 0.6, 7)],
    [('Posterize', 0.8, 2), ('Solarize', 0.6, 10)], [('Solarize', 0.6, 8), ('Equalize', 0.6, 1)],
    [('Color', 0.8, 6), ('Rotate', 0.4, 5)]]
_ORIGINAL = [
    [('PosterizeOriginal', 0.4, 8), ('Rotate', 0.6, 9)], [('Solarize', 0.6, 5), ('AutoContrast', 0.6, 5)],
    [('Equalize', 0.8, 8), ('Equalize', 0.6, 3)], [('PosterizeOriginal', 0.6, 7), ('PosterizeOriginal', 0.6, 6)],
    [('Equalize', 0.4, 7), ('Solarize', 0.2, 4)], [('Equalize', 0.4, 4), ('Rotate', 0.8, 8)],
    [('Solarize', 0.6, 3), ('Equalize', 0.6, 7)], [('PosterizeOriginal', 0.8, 5), ('Equalize', 1.0, 2)],
    [('Rotate', 0.2, 3), ('Solarize', 0.6, 8)], [('Equalize', 0.6, 8), ('PosterizeOriginal', 0.4, 6)],
    [('Rotate', 0.8, 8), ('Color', 0.4, 0)], [('Rotate', 0.4, 9), ('Equalize', 0.6, 2)],
    [('Equalize', 0.0, 7), ('Equalize', 0.8, 8)], [('Invert', 0.6, 4), ('Equalize', 1.0, 8)],
    [('Color', 0.6, 4), ('Contrast', 1.0, 8)], [('Rotate', 0.8, 8), ('Color', 1.0, 2)],
    [('Color', 0.8, 8), ('Solarize', 0.8, 7)], [('Sharpness', 0.4, 7), ('Invert', 0.6, 8)],
    [('ShearX', 0.6, 5), ('Equalize', 1.0, 9)], [('Color', 0.4, 0), ('Equalize', 0.6, 3)],
    [('Equalize', 0.4, 7), ('Solarize', 0.2, 4)], [('Solarize', 0.6, 5), ('AutoContrast', 0.6, 5)],
    [('Invert', 0.6, 4), ('Equalize', 1.0, 8)], [('Color', 0.6, 4), ('Contrast', 1.0, 8)],
    [('Equalize', 0.8, 8), ('Equalize', 0.6, 3)]]


def _policy(name):
    if name in ('v0', 'v0r'):
        policy = _V0
        if name == 'v0r':
            policy = [[('PosterizeIncreasing' if op == 'Posterize' else op, p, m) for op, p, m in sub]
                      for sub in policy]
        return policy
    if name in ('original', 'originalr'):
        policy = _ORIGINAL
        if name == 'originalr':
            policy = [[('PosterizeIncreasing' if op == 'PosterizeOriginal' else op, p, m) for op, p, m in sub]
                      for sub in policy]
        return policy
    raise DatasetError(f"auto_augment_transform: unknown AutoAugment policy '{name}'; use v0, v0r, original or "
                       f"originalr")


class AutoAugment:
    """Each call applies one sub-policy (two ops) chosen at random."""

    def __init__(self, policy):
        self.policy = policy

    def __call__(self, img):
        for op in random.choice(self.policy):
            img = op(img)
        return img


def _sections(config_str, first, owner):
    fields = str(config_str).split('-')
    if fields[0] not in first:
        raise DatasetError(f"{owner}: the config string must start with {' or '.join(first)}, got '{config_str}'")
    parsed = []
    for section in fields[1:]:
        match = re.match(r'([a-zA-Z]*)(\d.*)', section)
        if match:
            parsed.append((match.group(1), match.group(2)))
    return fields[0], parsed


def _hparams(hparams):
    hparams = dict(_HPARAMS_DEFAULT if hparams is None else hparams)
    if 'interpolation' in hparams:
        hparams['interpolation'] = _resample_of(hparams['interpolation'])
    return hparams


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
def auto_augment_transform(config_str, hparams=None):
    """'<policy>[-mstd<float>]', policy v0 | v0r | original | originalr."""
    hparams = _hparams(hparams)
    name, sections = _sections(config_str, ('v0', 'v0r', 'original', 'originalr'), 'auto_augment_transform')
    for key, value in sections:
        if key != 'mstd':
            raise DatasetError(f"auto_augment_transform: unknown config section '{key}{value}' in '{config_str}'")
        hparams.setdefault('magnitude_std', float(value))
    return AutoAugment([[AugmentOp(op, prob, magnitude, hparams) for op, prob, magnitude in sub]
                        for sub in _policy(name)])


_RAND_TRANSFORMS = ['AutoContrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize', 'SolarizeAdd', 'Color',
                    'Contrast', 'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel']
_RAND_INCREASING = ['AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing', 'SolarizeIncreasing',
                    'SolarizeAdd', 'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing',
                    'SharpnessIncreasing', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel']
_RAND_WEIGHTS = {'Rotate': 0.3, 'ShearX': 0.2, 'ShearY': 0.2, 'TranslateXRel': 0.1, 'TranslateYRel': 0.1,
                 'Color': .025, 'Sharpness': 0.025, 'AutoContrast': 0.025, 'Solarize': .005, 'SolarizeAdd': .005,
                 'Contrast': .005, 'Brightness': .005, 'Equalize': .005, 'Posterize': 0, 'Invert': 0}


class RandAugment:
    """Each call applies `num_layers` ops drawn from `ops` (uniformly with replacement, or by `choice_weights`
    without)."""

    def __init__(self, ops, num_layers=2, choice_weights=None):
        self.ops = ops
        self.num_layers = num_layers
        self.choice_weights = choice_weights

    def __call__(self, img):
        chosen = np.random.choice(len(self.ops), self.num_layers, replace=self.choice_weights is None,
                                  p=self.choice_weights)
        for index in chosen:
            img = self.ops[index](img)
        return img


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
def rand_augment_transform(config_str, hparams=None):
    """'rand[-m<int>][-n<int>][-w<int>][-mstd<float>][-inc<int>]': magnitude (10), layers (2), weight table 0
    (timm's), magnitude std, the increasing op set (inc1)."""
    hparams = _hparams(hparams)
    magnitude, num_layers, weight_index, names = 10, 2, None, _RAND_TRANSFORMS
    _, sections = _sections(config_str, ('rand',), 'rand_augment_transform')
    for key, value in sections:
        if key == 'mstd':
            hparams.setdefault('magnitude_std', float(value))
        elif key == 'inc':
            names = _RAND_INCREASING if int(value) else _RAND_TRANSFORMS
        elif key == 'm':
            magnitude = int(value)
        elif key == 'n':
            num_layers = int(value)
        elif key == 'w':
            weight_index = int(value)
        else:
            raise DatasetError(f"rand_augment_transform: unknown config section '{key}{value}' in '{config_str}'")
    weights = None
    if weight_index is not None:
        if weight_index != 0:
            raise DatasetError(f"rand_augment_transform: only weight table 0 exists, got w{weight_index}")
        raw = np.array([_RAND_WEIGHTS[name] for name in _RAND_TRANSFORMS])
        weights = raw / raw.sum()
    return RandAugment([AugmentOp(name, 0.5, magnitude, hparams) for name in names], num_layers, weights)


_AUGMIX_OPS = ['AutoContrast', 'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing',
               'SharpnessIncreasing', 'Equalize', 'Rotate', 'PosterizeIncreasing', 'SolarizeIncreasing', 'ShearX',
               'ShearY', 'TranslateXRel', 'TranslateYRel']


class AugMixAugment:
    """AugMix: `width` chains of 1-3 (or `depth`) random ops, mixed with Dirichlet(alpha) weights and blended
    with the original by Beta(alpha, alpha); `blended` mixes by successive blends instead."""

    def __init__(self, ops, alpha=1., width=3, depth=-1, blended=False):
        self.ops = ops
        self.alpha = alpha
        self.width = width
        self.depth = depth
        self.blended = blended

    def _chain(self, img):
        depth = self.depth if self.depth > 0 else np.random.randint(1, 4)
        for index in np.random.choice(len(self.ops), depth, replace=True):
            img = self.ops[index](img)
        return img

    def __call__(self, img):
        weights = np.float32(np.random.dirichlet([self.alpha] * self.width))
        mix = np.float32(np.random.beta(self.alpha, self.alpha))
        if self.blended:
            weights = weights * mix
            alphas, remaining = [], 1.
            for weight in weights[::-1]:
                alpha = weight / remaining
                remaining *= (1. - alpha)
                alphas.append(alpha)
            original = img
            for alpha in alphas[::-1]:
                img = Image.blend(img, self._chain(original), float(alpha))
            return img
        mixed = np.zeros(np.asarray(img).shape, np.float32)
        for weight in weights:
            mixed += weight * np.asarray(self._chain(img), np.float32)
        mixed = Image.fromarray(np.clip(mixed, 0, 255).astype(np.uint8))
        return Image.blend(img, mixed, float(mix))


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
def augment_and_mix_transform(config_str, hparams=None):
    """'augmix[-m<int>][-w<int>][-d<int>][-a<float>][-b<int>]': magnitude (3, each op draws uniformly in
    [0, m]), width (3), depth (-1: 1-3), alpha (1.0), blended (b1)."""
    hparams = _hparams(hparams)
    hparams['magnitude_std'] = math.inf
    magnitude, width, depth, alpha, blended = 3, 3, -1, 1., False
    _, sections = _sections(config_str, ('augmix',), 'augment_and_mix_transform')
    for key, value in sections:
        if key == 'mstd':
            hparams.setdefault('magnitude_std', float(value))
        elif key == 'm':
            magnitude = int(value)
        elif key == 'w':
            width = int(value)
        elif key == 'd':
            depth = int(value)
        elif key == 'a':
            alpha = float(value)
        elif key == 'b':
            blended = bool(int(value))
        else:
            raise DatasetError(f"augment_and_mix_transform: unknown config section '{key}{value}' in "
                               f"'{config_str}'")
    return AugMixAugment([AugmentOp(name, 1.0, magnitude, hparams) for name in _AUGMIX_OPS], alpha, width, depth,
                         blended)
