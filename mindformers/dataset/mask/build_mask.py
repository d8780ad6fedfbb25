"""build_mask: a mask policy from its config section or its class name."""
from mindformers.tools.register import MindFormerModuleType
from mindformers.tools.register.register import build_from_registry


def build_mask(config=None, default_args=None, module_type=MindFormerModuleType.MASK_POLICY, class_name=None,
               **kwargs):
    """`build_mask({'type': 'SimMask', 'input_size': 224})` or `build_mask(class_name='SimMask', input_size=224)`."""
    return build_from_registry(config, default_args, module_type, class_name, **kwargs)
