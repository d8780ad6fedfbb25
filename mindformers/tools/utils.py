"""Small helpers shared by the whole package: value parsing, rank/device queries, output paths."""
import json
import os
import pickle

import numpy as np

from mindformers.tools.errors import ConfigError

DEFAULT_OUTPUT_DIR = './output'
# image files predict folders and image datasets pick up
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp')


def str2bool(value):
    """'true'/'false' in any case -> bool; anything else is an error (booleans are never guessed)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == 'true':
        return True
    if text == 'false':
        return False
    raise ConfigError(f"expected true or false, got '{value}'")


def parse_value(value):
    """Parse a CLI override: int, then float, then True/False, then JSON, else the string itself."""
    if not isinstance(value, str):
        return value
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
        return int(number) if number.is_integer() else number
    except ValueError:
        pass
    if value in ('True', 'true'):
        return True
    if value in ('False', 'false'):
        return False
    if value in ('None', 'null'):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def _communication_ready():
    try:
        from mindspore.communication import GlobalComm  # pylint: disable=import-outside-toplevel
        return bool(GlobalComm.INITED)
    except ImportError:
        return False


def get_real_rank():
    """This process's global rank: from MindSpore if communication is up, else env RANK_ID, else 0."""
    if _communication_ready():
        from mindspore.communication import get_rank  # pylint: disable=import-outside-toplevel
        return get_rank()
    return int(os.getenv('RANK_ID', '0'))


def get_real_group_size():
    """Number of ranks in the job: from MindSpore if communication is up, else env RANK_SIZE, else 1."""
    if _communication_ready():
        from mindspore.communication import get_group_size  # pylint: disable=import-outside-toplevel
        return get_group_size()
    return int(os.getenv('RANK_SIZE', '1'))


def communication_group_size():
    """Ranks that exchange data in this process's job: 1 unless communication started (RANK_SIZE alone, which msrun
    exports even to a run with use_parallel False, does not count)."""
    if not _communication_ready():
        return 1
    from mindspore.communication import get_group_size  # pylint: disable=import-outside-toplevel
    return get_group_size()


def all_gather_objects(obj):
    """[obj of rank 0, obj of rank 1, ...]: pickled, padded to the longest, exchanged with AllGather."""
    from mindspore import Tensor, ops  # pylint: disable=import-outside-toplevel
    data = pickle.dumps(obj)
    sizes = ops.AllGather()(Tensor(np.array([len(data)], np.int32))).asnumpy()
    words = -(-int(sizes.max()) // 4)                # MindSpore's CPU AllGather takes no uint8: 4 bytes an int32
    padded = np.zeros(words * 4, np.uint8)
    padded[:len(data)] = np.frombuffer(data, np.uint8)
    gathered = ops.AllGather()(Tensor(padded.view(np.int32).reshape(1, -1))).asnumpy()
    return [pickle.loads(row.view(np.uint8)[:size].tobytes()) for row, size in zip(gathered, sizes)]


def set_output_path(path=None):
    """Root for every output (checkpoints, logs, strategies); exported as LOCAL_DEFAULT_PATH."""
    path = os.path.abspath(os.path.expanduser(path or DEFAULT_OUTPUT_DIR))
    os.environ['LOCAL_DEFAULT_PATH'] = path
    from mindformers.tools.logger import logger  # pylint: disable=import-outside-toplevel
    logger.reset_file_handlers()
    return path


def get_output_root_path():
    return os.path.abspath(os.getenv('LOCAL_DEFAULT_PATH', DEFAULT_OUTPUT_DIR))


_OUTPUT_LOCKS = {}


def lock_output_dir():
    """Hold `<output>/.run_rank_<N>.lock` until `unlock_output_dir()` (or the end of the process), so that a
    second run writing checkpoints of the same rank into the same output_dir stops before it starts.

    An advisory `flock`: the kernel drops it when the process ends, however it ends (a killed run leaves no
    stale lock). Ranks of one msrun job each lock their own file.
    """
    import fcntl  # pylint: disable=import-outside-toplevel
    root = get_output_root_path()
    path = os.path.join(root, f'.run_rank_{get_real_rank()}.lock')
    if path in _OUTPUT_LOCKS:
        return path
    try:
        os.makedirs(root, exist_ok=True)
        handle = open(path, 'a+', encoding='utf-8')  # pylint: disable=consider-using-with
    except OSError as err:
        from mindformers.tools.checkpoint import write_error  # pylint: disable=import-outside-toplevel
        raise write_error('run lock', path, err) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        owner = handle.read().strip() or 'another process'
        handle.close()
        raise ConfigError(f"output_dir {root} is in use by another run (pid {owner}) writing rank "
                          f"{get_real_rank()}; wait for it to finish or give this run its own --output_dir") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    _OUTPUT_LOCKS[path] = handle
    return path


def unlock_output_dir(path):
    handle = _OUTPUT_LOCKS.pop(path, None)
    if handle is not None:
        handle.close()  # closing the file releases the flock


def get_output_subpath(sub_class, rank_id=None, append_rank=True):
    """<output>/<sub_class>[/rank_<id>], created if missing."""
    path = os.path.join(get_output_root_path(), sub_class)
    if append_rank:
        path = os.path.join(path, f'rank_{get_real_rank() if rank_id is None else rank_id}')
    os.makedirs(path, exist_ok=True)
    return path


def check_file_exists(path, what):
    if not path or not os.path.exists(path):
        raise ConfigError(f"{what} does not exist: {path}")
    return path


def set_seed(seed):
    """Seed MindSpore (weight init, dropout), numpy and Python's random for reproducible runs."""
    import random  # pylint: disable=import-outside-toplevel
    import numpy as np  # pylint: disable=import-outside-toplevel
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    ms.set_seed(seed)
    np.random.seed(seed)
    random.seed(seed)

