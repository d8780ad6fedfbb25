"""Classes a config takes from a research folder (`--register_path`): found, imported from there, registered, logged.

A YAML names such a class with `auto_register: <module>.<Class>` in a section (processor.tokenizer, processor,
model.arch, model.model_config) or with `model.model_config.auto_map: {AutoTokenizer: [<module>.<Class>, ...]}`.
Nothing else imports code from a user path.
"""
import importlib
import os
import sys

from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger
from mindformers.tools.register.register import MindFormerRegister, MindFormerModuleType

__all__ = ['referenced_classes', 'register_research_classes', 'check_register_path']

_SECTION_TYPES = {('processor', 'tokenizer'): MindFormerModuleType.TOKENIZER,
                  ('processor',): MindFormerModuleType.PROCESSOR,
                  ('model', 'arch'): MindFormerModuleType.MODELS,
                  ('model', 'model_config'): MindFormerModuleType.CONFIG}
_AUTO_MAP_TYPES = {'AutoTokenizer': MindFormerModuleType.TOKENIZER, 'AutoConfig': MindFormerModuleType.CONFIG,
                   'AutoModel': MindFormerModuleType.MODELS, 'AutoModelForCausalLM': MindFormerModuleType.MODELS,
                   'AutoProcessor': MindFormerModuleType.PROCESSOR}


def referenced_classes(config):
    """[(where, 'module.Class', module_type)] named by the config's auto_register / auto_map entries."""
    found = []
    for path, module_type in _SECTION_TYPES.items():
        node = config
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get('auto_register'):
            found.append(('.'.join(path) + '.auto_register', str(node['auto_register']), module_type))
    model_config = (config.get('model') or {}).get('model_config') if isinstance(config.get('model'), dict) else None
    auto_map = (model_config or {}).get('auto_map') if isinstance(model_config, dict) else None
    for name, value in (auto_map or {}).items():
        references = value if isinstance(value, (list, tuple)) else [value]
        module_type = _AUTO_MAP_TYPES.get(name)
        if module_type is None:
            raise ConfigError(f"model.model_config.auto_map: unknown key '{name}'; use one of {sorted(_AUTO_MAP_TYPES)}")
        for reference in references:
            if reference and (f'model.model_config.auto_map.{name}', str(reference), module_type) not in found:
                found.append((f'model.model_config.auto_map.{name}', str(reference), module_type))
    return found


def check_register_path(path):
    """--register_path must be a folder holding at least one Python module."""
    if not os.path.isdir(path):
        raise ConfigError(f"--register_path must be a directory, got file {path}")
    if not any(name.endswith('.py') for name in os.listdir(path)):
        raise ConfigError(f"--register_path {path} registers nothing: it holds no Python module (.py file)")


def register_research_classes(config, config_path=None):
    """Import and register every class the config names from REGISTER_PATH; returns the registered classes."""
    references = referenced_classes(config)
    register_path = os.environ.get('REGISTER_PATH')
    if references and not register_path:
        where, reference, _ = references[0]
        folder = '<its folder>'
        if config_path:
            folder = os.path.dirname(os.path.abspath(config_path))
            folder = os.path.relpath(folder) if not os.path.relpath(folder).startswith('..') else folder
        raise ConfigError(f"{where} names {reference}, a class from a research folder that is not registered; add "
                          f"--register_path {folder} (the folder that holds {reference.rpartition('.')[0]}.py)")
    if register_path and not references:
        logger.warning("--register_path %s: the config names no class from it (no auto_register / auto_map), so "
                       "nothing was imported", register_path)
    registered = []
    for where, reference, module_type in references:
        module_name, _, class_name = reference.rpartition('.')
        if not module_name:
            raise ConfigError(f"{where}: '{reference}' must be written as <module>.<Class>")
        module_file = os.path.join(register_path, *module_name.split('.')) + '.py'
        if not os.path.isfile(module_file):
            raise ConfigError(f"{where}: {reference} needs {module_file}, which --register_path {register_path} "
                              f"does not hold")
        if register_path not in sys.path:
            sys.path.insert(0, register_path)
        module = importlib.import_module(module_name)
        found = getattr(module, class_name, None)
        if not isinstance(found, type):
            raise ConfigError(f"{where}: {module_file} defines no class {class_name}")
        MindFormerRegister.register_cls(found, module_type)  # its own decorator may already have done so
        logger.info("registered %s (%s) from %s, as %s names it", class_name, module_type, module_file, where)
        registered.append(found)
    return registered
