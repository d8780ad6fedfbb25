"""Registry, config, logger and utilities."""
from .logger import logger
from .register import MindFormerRegister, MindFormerModuleType, MindFormerConfig
from .register import ActionDict
from .cloud_adapter import cloud_monitor, Local2ObsMonitor, Obs2Local, mox_adapter

__all__ = ['logger', 'MindFormerRegister', 'MindFormerModuleType', 'MindFormerConfig', 'ActionDict', 'cloud_monitor',
           'Local2ObsMonitor', 'Obs2Local', 'mox_adapter']
