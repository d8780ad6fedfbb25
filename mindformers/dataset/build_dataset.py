"""build_dataset: a task dataset (e.g. CausalLanguageModelDataset) from `*_dataset_task`."""
from mindformers.tools.register import MindFormerRegister, MindFormerConfig


def build_dataset(config=None, default_args=None, module_type='dataset', class_name=None, **kwargs):
    if config is None and class_name is None:
        return None
    if config is not None:
        return MindFormerRegister.get_instance_from_cfg(MindFormerConfig(dict(config)), module_type, default_args)
    return MindFormerRegister.get_instance(module_type, class_name, **kwargs)
