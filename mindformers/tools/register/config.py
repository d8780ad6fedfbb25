"""MindFormerConfig: a YAML run config as a nested attribute dict, with base_config inheritance."""
import argparse
import copy
import os
from collections import OrderedDict

import yaml

from mindformers.tools.errors import ConfigError

BASE_CONFIG = 'base_config'


class _OrderedLoader(yaml.SafeLoader):
    """SafeLoader that keeps mapping order (anchors and aliases are resolved by YAML itself)."""


def _construct_ordered_mapping(loader, node):
    loader.flatten_mapping(node)
    return OrderedDict(loader.construct_pairs(node))


_OrderedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_ordered_mapping)
# YAML 1.1 parses `1e-5` as a string; accept it as a float like PyYAML's FullLoader users expect.
_OrderedLoader.add_implicit_resolver(
    'tag:yaml.org,2002:float',
    __import__('re').compile(r'''^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$''', __import__('re').X),
    list('-+0123456789.'))


def ordered_yaml_load(stream):
    return yaml.load(stream, Loader=_OrderedLoader)


class _OrderedDumper(yaml.SafeDumper):
    pass


def _represent_dict(dumper, data):
    return dumper.represent_mapping(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, data.items())


_OrderedDumper.add_representer(OrderedDict, _represent_dict)


def ordered_yaml_dump(data, stream=None, **kwargs):
    """Dump configs (MindFormerConfig/OrderedDict) as plain YAML mappings."""
    return yaml.dump(_to_plain(data), stream, Dumper=_OrderedDumper, default_flow_style=False,
                     sort_keys=False, allow_unicode=True, **kwargs)


def _to_plain(obj):
    if isinstance(obj, dict):
        return OrderedDict((k, _to_plain(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return [_to_plain(v) for v in obj]
    if hasattr(obj, 'to_dict') and not isinstance(obj, type):
        return _to_plain(obj.to_dict())
    return obj


def load_yaml_file(path):
    """Read one YAML file; a missing file or a syntax error is a ConfigError naming file and line."""
    if not os.path.isfile(path):
        raise ConfigError(f"config file not found: {path}")
    try:
        with open(path, encoding='utf-8') as stream:
            data = ordered_yaml_load(stream)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        if isinstance(err, yaml.constructor.ConstructorError) and 'tag' in str(err.problem):
            raise ConfigError(f"{path} at {where}: {err.problem}; configs are loaded safely (plain YAML values only, "
                              f"no Python objects)") from None
        raise ConfigError(f"YAML syntax error in {path} at {where}: {err.problem}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read config file {path}: {err}") from None
    if data is None:
        return OrderedDict()
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at top level, got {type(data).__name__}")
    return data


class MindFormerConfig(dict):
    """A dict whose keys are also attributes; a missing attribute reads as None.

    Positional arguments ending in `.yaml`/`.yml` are loaded (with `base_config` inheritance);
    keyword arguments are applied on top. Nested dicts become MindFormerConfig; lists stay lists.
    """

    def __init__(self, *args, **kwargs):
        super().__init__()
        cfg_dict = OrderedDict()
        for arg in args:
            if isinstance(arg, str):
                if not arg.endswith(('.yaml', '.yml')):
                    raise ConfigError(f"config path must end with .yaml or .yml, got {arg}")
                cfg_dict.update(self._file2dict(arg))
            elif isinstance(arg, dict):
                cfg_dict.update(arg)
            else:
                raise ConfigError(f"MindFormerConfig takes YAML paths or dicts, got {type(arg).__name__}")
        cfg_dict.update(kwargs)
        for key, value in cfg_dict.items():
            self[key] = _convert(value)

    def __getattr__(self, key):
        if key.startswith('__') and key.endswith('__'):
            raise AttributeError(key)
        return self.get(key, None)

    def __setattr__(self, key, value):
        self[key] = _convert(value)

    def __delattr__(self, key):
        self.pop(key, None)

    def __deepcopy__(self, memo):
        result = MindFormerConfig()
        memo[id(self)] = result
        for key, value in self.items():
            dict.__setitem__(result, copy.deepcopy(key, memo), copy.deepcopy(value, memo))
        return result

    def __copy__(self):
        result = MindFormerConfig()
        for key, value in self.items():
            dict.__setitem__(result, key, value)
        return result

    def to_dict(self):
        """Plain nested dicts (recursively), for dumping or comparing."""
        return {k: (v.to_dict() if isinstance(v, MindFormerConfig) else copy.deepcopy(v)) for k, v in self.items()}

    def merge_from_dict(self, options):
        """Deep-merge {'a.b.c': value, ...} into this config."""
        for full_key, value in options.items():
            node = self
            keys = full_key.split('.')
            for sub_key in keys[:-1]:
                if not isinstance(node.get(sub_key), dict):
                    node[sub_key] = MindFormerConfig()
                node = node[sub_key]
            old = node.get(keys[-1])
            if isinstance(old, dict) and isinstance(value, dict):
                _merge_a_into_b(_convert(value), old)
            else:
                node[keys[-1]] = _convert(value)
        return self

    @staticmethod
    def _file2dict(filename, _chain=()):
        filename = os.path.abspath(os.path.expanduser(filename))
        cfg = load_yaml_file(filename)
        base = cfg.pop(BASE_CONFIG, None)
        if not base:
            return cfg
        bases = [base] if isinstance(base, str) else list(base)
        chain = _chain + (filename,)
        merged = OrderedDict()
        for base_file in bases:
            if not isinstance(base_file, str):
                raise ConfigError(f"{filename}: base_config entries must be paths, got {base_file!r}")
            base_path = os.path.normpath(os.path.join(os.path.dirname(filename), base_file))
            if base_path in chain:
                raise ConfigError(f"{filename}: base_config '{base_file}' makes a cycle "
                                  f"({' -> '.join(chain + (base_path,))}); remove one of the links")
            if not os.path.isfile(base_path):
                raise ConfigError(f"{filename}: base_config '{base_file}' not found (looked for {base_path}); "
                                  f"base_config paths are relative to the YAML that names them")
            merged.update(MindFormerConfig._file2dict(base_path, chain))
        merged = _convert(merged)
        _merge_a_into_b(_convert(cfg), merged)
        return merged


def _convert(value):
    if isinstance(value, MindFormerConfig):
        return value
    if isinstance(value, dict):
        cfg = MindFormerConfig()
        for key, sub in value.items():
            dict.__setitem__(cfg, key, _convert(sub))
        return cfg
    if isinstance(value, list):
        return [dict(v) if isinstance(v, OrderedDict) else v for v in value]
    return value


def _merge_a_into_b(a, b):
    """Dicts merge recursively; anything else in `a` replaces the value in `b`."""
    for key, value in a.items():
        if isinstance(value, dict) and isinstance(b.get(key), dict):
            _merge_a_into_b(value, b[key])
        else:
            b[key] = copy.deepcopy(value)
    return b


class ActionDict(argparse.Action):
    """argparse action for `--options a.b=1 c=[1,2] d=true`: parses values into Python objects."""

    @staticmethod
    def _parse_int_float_bool(val):
        try:
            return int(val)
        except ValueError:
            pass
        try:
            return float(val)
        except ValueError:
            pass
        if val.upper() in ('TRUE', 'FALSE'):
            return val.upper() == 'TRUE'
        if val.upper() in ('NONE', 'NULL'):
            return None
        return val

    @staticmethod
    def find_next_comma(val_str):
        """Index of the first comma outside brackets (len if none)."""
        depth = 0
        for idx, char in enumerate(val_str):
            if char in '([':
                depth += 1
            elif char in ')]':
                depth -= 1
            elif char == ',' and depth == 0:
                return idx
        if depth != 0:
            raise ConfigError(f"unbalanced brackets in option value: {val_str}")
        return len(val_str)

    @staticmethod
    def _parse_iterable(val):
        val = val.strip('\'"').replace(' ', '')
        is_tuple = val.startswith('(') and val.endswith(')')
        if (val.startswith('[') and val.endswith(']')) or is_tuple:
            val = val[1:-1]
        elif ',' not in val:
            return ActionDict._parse_int_float_bool(val)
        values = []
        while val:
            comma = ActionDict.find_next_comma(val)
            values.append(ActionDict._parse_iterable(val[:comma]))
            val = val[comma + 1:]
        return tuple(values) if is_tuple else values

    def __call__(self, parser, namespace, values, option_string=None):
        options = {}
        for item in values:
            if '=' not in item:
                raise ConfigError(f"--options expects key=value pairs, got '{item}'")
            key, val = item.split('=', maxsplit=1)
            options[key] = self._parse_iterable(val)
        setattr(namespace, self.dest, options)
