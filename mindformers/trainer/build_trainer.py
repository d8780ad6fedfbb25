"""build_trainer: a task trainer from the YAML `trainer` section (type + model_name)."""
from mindformers.tools.register.register import build_from_registry


def build_trainer(config=None, default_args=None, module_type='trainer', class_name=None, **kwargs):
    return build_from_registry(config, default_args, module_type, class_name, **kwargs)
