"""The component registry: every buildable class is looked up by (module type, name)."""
import copy
import importlib
import inspect
import os
import sys

from mindformers.tools.errors import ConfigError, ConfigKeyError, ConfigTypeError


class MindFormerModuleType:
    """Names of the registry's sections; YAML `type:` keys are resolved within one of them."""
    TRAINER = 'trainer'
    PIPELINE = 'pipeline'
    PROCESSOR = 'processor'
    TOKENIZER = 'tokenizer'
    DATASET = 'dataset'
    MASK_POLICY = 'mask_policy'
    DATASET_LOADER = 'dataset_loader'
    DATASET_SAMPLER = 'dataset_sampler'
    TRANSFORMS = 'transforms'
    ENCODER = 'encoder'
    MODELS = 'models'
    MODULES = 'modules'
    TRANSFORMER = 'transformer'
    BASE_LAYER = 'base_layer'
    CORE = 'core'
    HEAD = 'head'
    LOSS = 'loss'
    LR = 'lr'
    OPTIMIZER = 'optimizer'
    CONTEXT = 'context'
    CALLBACK = 'callback'
    WRAPPER = 'wrapper'
    METRIC = 'metric'
    CONFIG = 'config'
    TOOLS = 'tools'
    FEATURE_EXTRACTOR = 'feature_extractor'
    DATA_HANDLER = 'data_handler'


class MindFormerRegister:
    """Class-level table {module_type: {name: class}} with decorator and imperative registration."""
    registry = {}

    @classmethod
    def register(cls, module_type=MindFormerModuleType.TOOLS, alias=None):
        """Decorator: register the class under `alias` or its own name."""
        def wrapper(register_class):
            cls.register_cls(register_class, module_type, alias)
            return register_class
        return wrapper

    @classmethod
    def register_cls(cls, register_class, module_type=MindFormerModuleType.TOOLS, alias=None):
        """Register `register_class`; a later registration under the same name replaces the earlier one."""
        name = alias if alias is not None else register_class.__name__
        cls.registry.setdefault(module_type, {})[name] = register_class
        return register_class

    @classmethod
    def is_exist(cls, module_type, class_name=None):
        if class_name is None:
            return module_type in cls.registry
        return class_name in cls.registry.get(module_type, {})

    @classmethod
    def get_cls(cls, module_type, class_name):
        if not cls.is_exist(module_type):
            raise ConfigError(f"Can't find module type '{module_type}' in the registry")
        if not cls.is_exist(module_type, class_name):
            known = ", ".join(sorted(cls.registry[module_type]))
            raise ConfigError(f"Can't find class type {module_type} class name {class_name} in class registry; "
                             f"registered {module_type} names: {known}")
        return cls.registry[module_type][class_name]

    @classmethod
    def auto_register(cls, class_reference, module_type):
        """Load `module_file.ClassName` from the folder in env REGISTER_PATH and register it."""
        register_path = os.environ.get("REGISTER_PATH")
        if not register_path:
            raise ConfigError(f"auto_register: '{class_reference}' needs --register_path (env REGISTER_PATH) "
                             f"pointing at the folder that holds its module")
        module_name, _, class_name = class_reference.rpartition(".")
        if not module_name:
            raise ConfigError(f"auto_register: '{class_reference}' must be written as module_file.ClassName")
        if register_path not in sys.path:
            sys.path.insert(0, register_path)
        module = importlib.import_module(module_name)
        register_class = getattr(module, class_name)
        cls.register_cls(register_class, module_type)
        return register_class

    @classmethod
    def get_instance_from_cfg(cls, cfg, module_type=MindFormerModuleType.TOOLS, default_args=None):
        """Build `cfg['type']` with the remaining keys; `default_args` override keys present in `cfg`."""
        if not isinstance(cfg, dict):
            raise ConfigTypeError(f"Config for a {module_type} must be a dict with a 'type' key, got {type(cfg).__name__}")
        if "type" not in cfg:
            raise ConfigKeyError(f"Config for a {module_type} must contain the key 'type', got keys {list(cfg)}")
        args = copy.deepcopy(dict(cfg))
        if default_args is not None:
            if not isinstance(default_args, dict):
                raise ConfigTypeError(f"default_args must be a dict or None, got {type(default_args).__name__}")
            for key, value in default_args.items():
                args[key] = value
        auto_register = args.pop("auto_register", None)
        obj_type = args.pop("type")
        if auto_register:
            cls.auto_register(auto_register, module_type)
        if isinstance(obj_type, str):
            obj_cls = cls.get_cls(module_type, obj_type)
        elif isinstance(obj_type, type):
            obj_cls = obj_type
        else:
            raise ConfigTypeError(f"'type' of a {module_type} must be a class name or a class, got {obj_type!r}")
        _check_arguments(obj_cls, args, module_type)
        try:
            return obj_cls(**args)
        except Exception as err:  # re-raise with the class name in front, same exception type
            prefixed = _prefixed_error(err, obj_cls.__name__)
            if prefixed is None:  # the type cannot be rebuilt from one message: keep the original
                raise
            raise prefixed from err

    @classmethod
    def get_instance(cls, module_type=MindFormerModuleType.TOOLS, class_name=None, **kwargs):
        if class_name is None:
            raise ConfigError("class_name is required to build an instance from the registry")
        return cls.get_cls(module_type, class_name)(**kwargs)


def _prefixed_error(err, class_name):
    """`type(err)("<class_name>: <err>")` (the message as it is when it already names the class), or None when
    that exception type needs other constructor arguments."""
    message = str(err)
    try:
        return type(err)(message if message.startswith(f"{class_name}:") else f"{class_name}: {message}")
    except TypeError:
        return None


def build_from_registry(config=None, default_args=None, module_type=MindFormerModuleType.TOOLS, class_name=None,
                        **kwargs):
    """The shared body of every `build_*`: None if nothing is given; a config dict with `type` is built with
    `default_args` overriding its keys; otherwise `class_name` is built with `kwargs`."""
    if config is None and class_name is None:
        return None
    if config is not None:
        from mindformers.tools.register.config import MindFormerConfig  # pylint: disable=import-outside-toplevel
        if isinstance(config, dict) and not isinstance(config, MindFormerConfig):
            config = MindFormerConfig(dict(config))
        return MindFormerRegister.get_instance_from_cfg(config, module_type, default_args)
    return MindFormerRegister.get_instance(module_type, class_name, **kwargs)


def register_subclasses(classes, base_cls, module_type):
    """Register every class in `classes` that subclasses `base_cls` (not the base itself) under its own
    name, unless that name is already taken: our own classes win over MindSpore's namesakes."""
    for cls in classes:
        if not isinstance(cls, type) or cls is base_cls or not issubclass(cls, base_cls):
            continue
        if cls.__name__.startswith('_') or MindFormerRegister.is_exist(module_type, cls.__name__):
            continue
        MindFormerRegister.register_cls(cls, module_type)


def _check_arguments(obj_cls, args, module_type):
    """A YAML key the class does not take (or a required one missing) is a ConfigError naming the key and the keys
    the class takes, instead of a TypeError from deep inside its constructor."""
    try:
        signature = inspect.signature(obj_cls)
    except (TypeError, ValueError):   # builtins and extension classes may have none: let the call decide
        return
    try:
        signature.bind(**args)
    except TypeError as err:
        accepted = [name for name, p in signature.parameters.items()
                    if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        raise ConfigError(f"{module_type} {obj_cls.__name__}: {err}; it takes {accepted}") from None
