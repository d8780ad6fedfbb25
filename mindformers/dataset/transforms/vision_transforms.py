"""Image transforms a dataset YAML names by `type` in its `transforms` list (upstream's image datasets).

Each name is MindSpore's own `mindspore.dataset.vision` op (Decode, Resize, CenterCrop, RandomResizedCrop,
RandomHorizontalFlip, ToTensor, Normalize, HWC2CHW, Rescale, RandomErasing, ...), built with the YAML's keys;
upstream spellings are translated (`interpolation: cubic`, `probability` for `prob`). A name that is neither a
vision op nor one of ours is a one-line error naming it.
"""
import inspect

from mindspore.dataset import vision

from mindformers.models.image_processor import interpolation_of
from mindformers.tools.errors import ConfigError

__all__ = ['build_vision_transforms']

_VISION_OPS = {name: op for name, op in inspect.getmembers(vision, inspect.isclass)
               if not name.startswith('_') and name not in ('Inter', 'Border', 'ImageBatchFormat', 'ConvertMode',
                                                           'SliceMode', 'AutoAugmentPolicy', 'ImageReadMode')}
# upstream keys -> MindSpore's argument names
_RENAMED = {'probability': 'prob'}
# upstream transforms that are timm re-implementations with no MindSpore op of the same meaning
_NOT_AVAILABLE = {'rand_augment_transform': 'RandAugment', 'Mixup': None}


def _arguments(name, op, section):
    params = inspect.signature(op.__init__).parameters
    args = {}
    for key, value in section.items():
        key = _RENAMED.get(key, key)
        if key == 'interpolation':
            value = interpolation_of(value)
        elif key == 'convert_mode' and isinstance(value, str):
            if value not in vision.ConvertMode.__members__:
                raise ConfigError(f"transform {name}: unknown convert_mode '{value}'; use one of "
                                  f"{sorted(vision.ConvertMode.__members__)}")
            value = vision.ConvertMode[value]
        elif isinstance(value, list):
            value = tuple(value)
        if key not in params and not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            raise ConfigError(f"transform {name}: unknown key '{key}'; it takes {sorted(k for k in params if k != 'self')}")
        args[key] = value
    if name == 'RandomErasing':     # upstream's timm version also takes mode / max_count; MindSpore's does not
        args = {k: v for k, v in args.items() if k in params}
    return args


def build_vision_transforms(sections, owner='dataset'):
    """A YAML `transforms` list (each a dict with `type`) -> the list of vision ops, in order."""
    if sections is None:
        return []
    if not isinstance(sections, (list, tuple)):
        raise ConfigError(f"{owner}: transforms must be a list of {{type: ...}} sections")
    built = []
    for section in sections:
        section = dict(section.to_dict() if hasattr(section, 'to_dict') else section)
        name = section.pop('type', None)
        if name in _NOT_AVAILABLE:
            instead = _NOT_AVAILABLE[name]
            raise ConfigError(f"{owner}: transform '{name}' (upstream's timm augmentation) is not available in this "
                              f"build" + (f"; use type: {instead} (MindSpore's)" if instead else "") + " or remove it")
        if name not in _VISION_OPS:
            raise ConfigError(f"{owner}: unknown image transform '{name}'; use a mindspore.dataset.vision op such as "
                              f"Decode, Resize, CenterCrop, RandomResizedCrop, RandomHorizontalFlip, ToTensor, "
                              f"Normalize, HWC2CHW")
        if name == 'RandomErasing':
            section.pop('mode', None)
            section.pop('max_count', None)
        try:
            built.append(_VISION_OPS[name](**_arguments(name, _VISION_OPS[name], section)))
        except (TypeError, ValueError, RuntimeError) as err:
            raise ConfigError(f"{owner}: transform {name} {section}: {str(err).strip().splitlines()[0]}") from None
    return built
