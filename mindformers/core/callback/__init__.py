"""Callbacks."""
from .callback import MFLossMonitor, CheckpointMonitor, EvalCallBack, ObsMonitor, ProfileMonitor, SummaryMonitor
from .build_callback import build_callback

CheckpointMointor = CheckpointMonitor

__all__ = ['MFLossMonitor', 'CheckpointMonitor', 'CheckpointMointor', 'EvalCallBack', 'ObsMonitor', 'ProfileMonitor',
           'SummaryMonitor', 'build_callback']
