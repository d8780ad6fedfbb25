"""build_trainer: a task trainer from the YAML `trainer` section (type + model_name)."""
from mindformers.tools.register import MindFormerRegister, MindFormerConfig


def build_trainer(config=None, default_args=None, module_type='trainer', class_name=None, **kwargs):
    if config is None and class_name is None:
        return None
    if config is not None:
        return MindFormerRegister.get_instance_from_cfg(MindFormerConfig(dict(config)), module_type, default_args)
    return MindFormerRegister.get_instance(module_type, class_name, **kwargs)
