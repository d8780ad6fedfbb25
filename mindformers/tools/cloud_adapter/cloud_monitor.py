"""cloud_monitor: the decorator upstream puts on a job's main function. It returns 0 for a clean `sys.exit(0)`,
re-raises an error exit, logs the traceback of any other failure and re-raises it, and at the end uploads the
output folder to REMOTE_SAVE_URL when one is set (the ModelArts convention; a local path works anywhere)."""
import functools
import os
import traceback

from mindformers.tools.cloud_adapter.cloud_adapter import mox_adapter
from mindformers.tools.logger import logger
from mindformers.tools.utils import get_real_rank, get_output_root_path


def _last_transform(rank, log):
    url = os.environ.get('REMOTE_SAVE_URL')
    if not url or rank % 8:
        return
    mox_adapter(get_output_root_path(), url, retry=1, retry_time=0, log=log)


def cloud_monitor(log=logger):
    """Decorator factory: `@cloud_monitor()` over a main function."""
    def decorator(run_func):
        @functools.wraps(run_func)
        def wrapper(*args, **kwargs):
            rank = get_real_rank()
            try:
                return run_func(*args, **kwargs)
            except SystemExit as exc:
                if exc.code in (0, None):
                    return 0
                raise                        # an error exit has already said why in its line
            except BaseException:
                log.error(traceback.format_exc())
                raise
            finally:
                _last_transform(rank, log)
        return wrapper
    return decorator
