"""build_sampler: a mindspore.dataset sampler from its config section or its class name."""
import inspect

from mindspore.dataset import samplers

from mindformers.tools.register import MindFormerModuleType, MindFormerRegister
from mindformers.tools.register.register import build_from_registry

for _name, _sampler in inspect.getmembers(samplers, inspect.isclass):
    if _name.endswith('Sampler') and not _name.startswith('_') and \
            not MindFormerRegister.is_exist(MindFormerModuleType.DATASET_SAMPLER, _name):
        MindFormerRegister.register_cls(_sampler, MindFormerModuleType.DATASET_SAMPLER)


def build_sampler(config=None, default_args=None, module_type=MindFormerModuleType.DATASET_SAMPLER, class_name=None,
                  **kwargs):
    """`build_sampler({'type': 'RandomSampler', 'replacement': False})` or
    `build_sampler(class_name='RandomSampler', replacement=False)`."""
    return build_from_registry(config, default_args, module_type, class_name, **kwargs)
