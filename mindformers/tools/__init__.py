"""Registry, config, logger and utilities."""
from .logger import logger
from .register import MindFormerRegister, MindFormerModuleType, MindFormerConfig
