"""build_dataset: a task dataset (e.g. CausalLanguageModelDataset) from `*_dataset_task`."""
from mindformers.tools.register.register import build_from_registry


def build_dataset(config=None, default_args=None, module_type='dataset', class_name=None, **kwargs):
    return build_from_registry(config, default_args, module_type, class_name, **kwargs)
