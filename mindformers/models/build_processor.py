"""build_processor: turn a `processor` config section into a processor, building its tokenizer first."""
from mindformers.models.build_tokenizer import build_tokenizer
from mindformers.tools.register import MindFormerConfig, MindFormerModuleType, MindFormerRegister

__all__ = ['build_processor']


def build_processor(config=None, default_args=None, module_type=MindFormerModuleType.PROCESSOR, class_name=None,
                    **kwargs):
    """Build from `config` (a dict with `type`; its `tokenizer` and `image_processor` sub-sections
    are built first and handed to the processor) or from `class_name` + kwargs.

    Returns None when neither `config` nor `class_name` is given.
    """
    if config is None and class_name is None:
        return None
    if config is None:
        return MindFormerRegister.get_instance(module_type, class_name, **kwargs)
    config = MindFormerConfig(**config) if not isinstance(config, MindFormerConfig) else config.__copy__()
    # built parts go in through default_args, which the registry passes on without copying them
    built = {}
    for key, builder in (('image_processor', build_processor), ('tokenizer', build_tokenizer)):
        section = config.get(key)
        if isinstance(section, dict) and section.get('type') is not None:
            built[key] = builder(section)
            config.pop(key)
    built.update(default_args or {})
    return MindFormerRegister.get_instance_from_cfg(config, module_type, built or None)
