"""build_dataset_loader: MindSpore dataset sources by YAML `type` (MindDataset, TFRecordDataset, ...)."""
import inspect

import mindspore.dataset as ms_dataset

from mindformers.tools.register import MindFormerModuleType
from mindformers.tools.register.register import build_from_registry, register_subclasses

register_subclasses([c for n, c in inspect.getmembers(ms_dataset, inspect.isclass) if n.endswith('Dataset')],
                    ms_dataset.Dataset, MindFormerModuleType.DATASET_LOADER)


def build_dataset_loader(config=None, default_args=None, module_type='dataset_loader', class_name=None, **kwargs):
    return build_from_registry(config, default_args, module_type, class_name, **kwargs)
