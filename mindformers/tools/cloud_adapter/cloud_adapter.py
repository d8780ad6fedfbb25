"""Copies between OBS and local disk as upstream's ModelArts adapter does. On ModelArts the copy is moxing's
`copy_parallel` (obs://, s3:// or local paths); elsewhere local-to-local copies work with shutil and an OBS path is
refused in one line (moxing exists only on ModelArts)."""
import os
import shutil
import time

from mindspore.train.callback import Callback

from mindformers.tools.errors import ConfigError, NotAvailableError
from mindformers.tools.logger import logger
from mindformers.tools.utils import get_real_rank

_MODELARTS_ENV = ('MA_LOG_DIR', 'MA_JOB_DIR', 'MA_LOCAL_LOG_PATH', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY',
                  'BATCH_GROUP_NAME')


def check_in_modelarts():
    """True inside a ModelArts job (one of its environment variables is set)."""
    return any(name in os.environ for name in _MODELARTS_ENV)


def is_obs_url(url):
    return isinstance(url, str) and url.startswith(('obs://', 's3://'))


def _moxing():
    try:
        import moxing  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return moxing


def _copy(src_dir, target_dir):
    mox = _moxing()
    if mox is not None:
        mox.file.copy_parallel(src_dir, target_dir)
        return mox.file.exists(target_dir) if is_obs_url(target_dir) else os.path.exists(target_dir)
    if is_obs_url(src_dir) or is_obs_url(target_dir):
        raise NotAvailableError(f"copying {src_dir} -> {target_dir} needs ModelArts' moxing package (OBS paths), "
                                f"which is only installed on ModelArts; use local paths here")
    if not os.path.exists(src_dir):
        raise FileNotFoundError(src_dir)
    if os.path.isdir(src_dir):
        shutil.copytree(src_dir, target_dir, dirs_exist_ok=True)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(target_dir)), exist_ok=True)
        shutil.copyfile(src_dir, target_dir)
    return os.path.exists(target_dir)


def mox_adapter(src_dir, target_dir, retry=3, retry_time=5, log=logger):
    """Copy `src_dir` (a folder or a file) to `target_dir`, retrying up to `retry` times after a missing source or
    a failed copy (waiting `retry_time` seconds); True when the target exists afterwards."""
    success = False
    for attempt in range(retry + 1):
        try:
            success = _copy(src_dir, target_dir)
        except NotAvailableError:
            raise                                     # no retry makes moxing appear
        except (FileNotFoundError, RuntimeError, OSError) as err:
            log.warning("copy %s -> %s failed (attempt %d of %d): %s", src_dir, target_dir, attempt + 1, retry + 1,
                        err)
            if attempt < retry and retry_time:
                time.sleep(retry_time)
            continue
        break
    if success:
        log.info("copied %s -> %s", src_dir, target_dir)
    else:
        log.error("could not copy %s -> %s after %d attempts", src_dir, target_dir, retry + 1)
    return success


class Obs2Local:
    """`obs2local(obs_url, local_url, special_id=None)` copies obs_url into local_url/<its name> on one rank per
    node (rank % 8 == 0, or `special_id`); the other ranks wait for its lock file. Returns the local path."""

    def __init__(self, rank_id=0, retry=3, retry_time=5, log=logger):
        self.rank_id = int(rank_id)
        self.retry = retry
        self.retry_time = retry_time
        self.log = log

    def obs2local(self, obs_url, local_url, special_id=None):
        if special_id is not None and not isinstance(special_id, int):
            raise ConfigError(f"Obs2Local: special_id must be an int (a rank), got {special_id!r}")
        name = os.path.basename(str(obs_url).rstrip('/'))
        target = os.path.join(local_url, name)
        lock = os.path.join(local_url, f'mox_copy_{name}.lock')
        copier = self.rank_id == special_id if special_id is not None else self.rank_id % 8 == 0
        if copier:
            os.makedirs(local_url, exist_ok=True)
            if not mox_adapter(obs_url, target, self.retry, self.retry_time, self.log):
                raise NotAvailableError(f"Obs2Local: could not copy {obs_url} to {target}")
            with open(lock, 'w', encoding='utf-8'):
                pass
        else:
            while not os.path.exists(lock):
                time.sleep(1)
        return target


class Local2ObsMonitor(Callback):
    """Upload `src_dir` to `target_dir` every `step_upload_frequence` steps and/or `epoch_upload_frequence` epochs
    (-1 disables either) from one rank (`rank_id`, else rank % 8 == 0); `keep_last` replaces the previous upload.
    An OBS target needs ModelArts (refused in one line elsewhere); a local target works anywhere."""

    def __init__(self, src_dir, target_dir, rank_id=None, step_upload_frequence=-1, epoch_upload_frequence=1,
                 keep_last=True, retry=3, retry_time=5, log=logger):
        super().__init__()
        if is_obs_url(target_dir) and not (check_in_modelarts() and _moxing() is not None):
            raise NotAvailableError(f"Local2ObsMonitor: uploading to {target_dir} needs a ModelArts job (moxing); "
                                    f"give a local target_dir here")
        for name, value in (('step_upload_frequence', step_upload_frequence),
                            ('epoch_upload_frequence', epoch_upload_frequence)):
            if not isinstance(value, int) or isinstance(value, bool) or value == 0 or value < -1:
                raise ConfigError(f"Local2ObsMonitor: {name} must be a positive integer or -1, got {value!r}")
        self.src_dir = src_dir
        self.target_dir = target_dir
        self.special_id = rank_id
        self.step_upload_frequence = step_upload_frequence
        self.epoch_upload_frequence = epoch_upload_frequence
        self.keep_last = keep_last
        self.retry = retry
        self.retry_time = retry_time
        self.log = log
        self.uploads = 0

    def _uploader(self):
        rank = get_real_rank()
        return rank == self.special_id if self.special_id is not None else rank % 8 == 0

    def _due(self, count, frequency):
        return frequency > 0 and count % frequency == 0 and os.path.isdir(self.src_dir) and os.listdir(self.src_dir)

    def step_end(self, run_context):
        if self._due(run_context.original_args().cur_step_num, self.step_upload_frequence):
            self.upload()

    def epoch_end(self, run_context):
        if self._due(run_context.original_args().cur_epoch_num, self.epoch_upload_frequence):
            self.upload()

    def upload(self):
        if not self._uploader():
            return
        if self.keep_last and not is_obs_url(self.target_dir) and os.path.isdir(self.target_dir):
            shutil.rmtree(self.target_dir)
        if mox_adapter(self.src_dir, self.target_dir, self.retry, self.retry_time, self.log):
            self.uploads += 1
