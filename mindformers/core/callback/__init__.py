"""Callbacks."""
from .callback import MFLossMonitor, CheckpointMonitor, EvalCallBack, ObsMonitor
from .build_callback import build_callback

CheckpointMointor = CheckpointMonitor

__all__ = ['MFLossMonitor', 'CheckpointMonitor', 'CheckpointMointor', 'EvalCallBack', 'ObsMonitor', 'build_callback']
