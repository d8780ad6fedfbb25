"""build_tokenizer: turn a `processor.tokenizer` config section into a tokenizer from the registry."""
from mindformers.tools.register import MindFormerConfig, MindFormerModuleType, MindFormerRegister

__all__ = ['build_tokenizer']


def build_tokenizer(config=None, default_args=None, module_type=MindFormerModuleType.TOKENIZER, class_name=None,
                    **kwargs):
    """Build from `config` (a dict with `type`, e.g. `{type: LlamaTokenizer, vocab_file: ...}`;
    `default_args` override its keys) or from `class_name` + kwargs.

    Returns None when neither `config` nor `class_name` is given.
    """
    if config is None and class_name is None:
        return None
    if config is not None:
        if isinstance(config, dict) and not isinstance(config, MindFormerConfig):
            config = MindFormerConfig(**config)
        return MindFormerRegister.get_instance_from_cfg(config, module_type, default_args)
    return MindFormerRegister.get_instance(module_type, class_name, **kwargs)
