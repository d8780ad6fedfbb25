"""BaseConfig: a model's hyperparameters as attributes, convertible to and from YAML sections."""
import copy
import os

from mindformers.tools.register.config import ordered_yaml_dump
from mindformers.tools.errors import ConfigError



def check_rates(config, names):
    """Each of `names` (dropout probabilities) on `config` is a number in [0, 1), else a one-line ConfigError."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
            raise ConfigError(f"{type(config).__name__}.{name} must be a number in [0, 1), got {value!r}")


def check_ints(config, names, minimum=1):
    """Each of `names` on `config` is an integer >= `minimum`, else a one-line ConfigError."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise ConfigError(f"{type(config).__name__}.{name} must be an integer >= {minimum}, got {value!r}")


def check_divisible(config, name, by, hint=''):
    """`config.<name>` is a multiple of `config.<by>`, else a one-line ConfigError (with `hint` appended)."""
    value, divisor = getattr(config, name), getattr(config, by)
    if value % divisor:
        raise ConfigError(f"{type(config).__name__}: {name} {value} is not divisible by {by} {divisor}{hint}")


class SupportListMixin:
    """`get_support_list()` / `show_support_list()`: the upstream model names a class serves."""
    _support_list = []

    @classmethod
    def get_support_list(cls):
        return list(cls._support_list)

    @classmethod
    def show_support_list(cls):
        from mindformers.tools.logger import logger  # pylint: disable=import-outside-toplevel
        logger.info("support list of %s is:", cls.__name__)
        logger.info(cls.get_support_list())


class BaseConfig(SupportListMixin):
    """Model configs subclass this; every constructor kwarg becomes an attribute.

    Unknown keys are kept (upstream YAMLs carry extra keys), so `to_dict()` round-trips a YAML
    `model_config` section.
    """
    _support_list = []
    # written to YAML only when set: a None here means "the run's default" (parallel settings come from the run)
    _omitted_when_none = ('parallel_config', 'moe_config')

    def __init__(self, **kwargs):
        for key, value in kwargs.items():
            setattr(self, key, value)

    def to_dict(self):
        out = {}
        for key, value in self.__dict__.items():
            if key.startswith('_') or (value is None and key in self._omitted_when_none):
                continue
            if hasattr(value, 'to_dict') and not isinstance(value, type):
                value = value.to_dict()
            out[key] = copy.deepcopy(value)
        out['type'] = self.__class__.__name__
        return out

    def __repr__(self):
        return f"{self.__class__.__name__}({self.to_dict()})"

    def __eq__(self, other):
        return isinstance(other, BaseConfig) and self.to_dict() == other.to_dict()

    def save_pretrained(self, save_directory=None, save_name="mindspore_model"):
        """Write `<dir>/<save_name>.yaml` holding {model: {model_config: ...}}."""
        save_directory = save_directory or os.getenv('CHECKPOINT_SAVE_FOLDER', './checkpoint_save')
        os.makedirs(save_directory, exist_ok=True)
        path = os.path.join(save_directory, f"{save_name}.yaml")
        with open(path, 'w', encoding='utf-8') as stream:
            ordered_yaml_dump({'model': {'model_config': self.to_dict()}}, stream)
        return path

    @classmethod
    def from_pretrained(cls, yaml_name_or_path, **kwargs):
        """From a supported model name (e.g. 'llama2_7b'), a YAML file (its model.model_config section),
        or a directory holding a YAML or a Hugging Face config.json; kwargs override fields."""
        from mindformers.auto_class import AutoConfig  # pylint: disable=import-outside-toplevel
        config = AutoConfig.from_pretrained(yaml_name_or_path, **kwargs)
        if not isinstance(config, cls):
            raise ConfigError(f"{cls.__name__}.from_pretrained: '{yaml_name_or_path}' holds a "
                              f"{type(config).__name__}, not a {cls.__name__}")
        return config
