"""Registry and config."""
from .register import MindFormerRegister, MindFormerModuleType
from .config import MindFormerConfig, ActionDict, ordered_yaml_dump, ordered_yaml_load

__all__ = ['MindFormerRegister', 'MindFormerModuleType', 'MindFormerConfig', 'ActionDict']
