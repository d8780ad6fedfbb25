"""ModelArts / OBS adapters: copy between OBS and the job's disk (moxing on ModelArts; plain file copies between
local paths anywhere), upload the output folder while training, and the job wrapper that uploads at the end."""
from .cloud_adapter import mox_adapter, Obs2Local, Local2ObsMonitor, check_in_modelarts, is_obs_url
from .cloud_monitor import cloud_monitor

__all__ = ['cloud_monitor', 'Local2ObsMonitor', 'Obs2Local', 'mox_adapter']
