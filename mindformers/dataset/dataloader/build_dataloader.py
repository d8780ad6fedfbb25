"""build_dataset_loader: MindSpore dataset sources by YAML `type` (MindDataset, TFRecordDataset, ...)."""
import inspect

import mindspore.dataset as ms_dataset

from mindformers.tools.register import MindFormerRegister, MindFormerModuleType, MindFormerConfig

for _name, _cls in inspect.getmembers(ms_dataset, inspect.isclass):
    if _name.endswith('Dataset') and not _name.startswith('_'):
        if not MindFormerRegister.is_exist(MindFormerModuleType.DATASET_LOADER, _name):
            MindFormerRegister.register_cls(_cls, MindFormerModuleType.DATASET_LOADER)


def build_dataset_loader(config=None, default_args=None, module_type='dataset_loader', class_name=None, **kwargs):
    if config is None and class_name is None:
        return None
    if config is not None:
        return MindFormerRegister.get_instance_from_cfg(MindFormerConfig(dict(config)), module_type, default_args)
    return MindFormerRegister.get_instance(module_type, class_name, **kwargs)
