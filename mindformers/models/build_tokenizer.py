"""build_tokenizer: turn a `processor.tokenizer` config section into a tokenizer from the registry."""
from mindformers.tools.register import MindFormerModuleType
from mindformers.tools.register.register import build_from_registry

__all__ = ['build_tokenizer']


def build_tokenizer(config=None, default_args=None, module_type=MindFormerModuleType.TOKENIZER, class_name=None,
                    **kwargs):
    """Build from `config` (a dict with `type`, e.g. `{type: LlamaTokenizer, vocab_file: ...}`;
    `default_args` override its keys) or from `class_name` + kwargs.

    Returns None when neither `config` nor `class_name` is given.
    """
    return build_from_registry(config, default_args, module_type, class_name, **kwargs)
