"""Checkpoint files: read them safely, load them into a network with shape checks, write atomically."""
import os
import tempfile

import mindspore as ms

from mindformers.tools.errors import CheckpointError, OutputWriteError
from mindformers.tools.logger import logger

CKPT_SUFFIXES = ('.ckpt', '.safetensors')


def read_checkpoint(path):
    """{name: Parameter} from a .ckpt or .safetensors file; unreadable files are a CheckpointError."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint file does not exist: {path}")
    fmt = 'safetensors' if path.endswith('.safetensors') else 'ckpt'
    try:
        return ms.load_checkpoint(path, format=fmt)
    except (ValueError, RuntimeError, OSError, TypeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"cannot read checkpoint {path} (truncated or not a MindSpore {fmt} file): "
                              f"{first}") from None


TMP_PREFIX = '.tmp_'  # files being written; hidden, and never taken for a checkpoint


def list_checkpoints(directory):
    """The checkpoint files of a folder; hidden files (saves in progress or interrupted) are not among them."""
    return sorted(os.path.join(directory, f) for f in os.listdir(directory)
                  if f.endswith(CKPT_SUFFIXES) and not f.startswith('.'))


def remove_interrupted_saves(directory):
    """Delete temp files a killed run left in `directory` (its saves never completed); returns their names."""
    if not os.path.isdir(directory):
        return []
    stale = [f for f in os.listdir(directory) if f.startswith(TMP_PREFIX)]
    for name in stale:
        try:
            os.remove(os.path.join(directory, name))
        except OSError as err:
            raise write_error('checkpoint folder', directory, err) from None
    return stale


# parameters a checkpoint may lack without the load being partial: KV caches and decode state (inference state)
# and PET deltas (a base checkpoint loaded into a LoRA-adapted model)
OPTIONAL_PARAMETER_KEYS = ('key_cache', 'value_cache', 'decode_state_', 'mindpet_delta_')


def load_param_dict(network, param_dict, optimizer=None, source='checkpoint', optional_keys=(), allow_partial=False):
    """Load matching names into `network` (and `optimizer`); any shape mismatch is a CheckpointError.

    A parameter of the network (or optimizer) that the checkpoint lacks is a CheckpointError naming the file and
    the missing names, unless its name contains one of OPTIONAL_PARAMETER_KEYS or `optional_keys` (e.g. a
    classification head that fine-tuning creates), or `allow_partial` is set. Returns the missing names.
    """
    targets = {p.name: p for p in network.get_parameters()}
    if optimizer is not None:
        targets.update({p.name: p for p in optimizer.get_parameters()})
    for name, value in param_dict.items():
        param = targets.get(name)
        if param is not None and tuple(param.shape) != tuple(value.shape):
            raise CheckpointError(f"{source}: parameter '{name}' has shape {tuple(value.shape)} in the checkpoint "
                                  f"but {tuple(param.shape)} in the model")
    matched = {k: v for k, v in param_dict.items() if k in targets}
    if not matched:
        raise CheckpointError(f"{source}: none of its {len(param_dict)} parameters belongs to the model "
                              f"(first checkpoint name: {next(iter(param_dict), None)!r}, first model name: "
                              f"{next(iter(targets), None)!r})")
    missing = [name for name in targets if name not in param_dict]
    optional = OPTIONAL_PARAMETER_KEYS + tuple(optional_keys)
    required = [name for name in missing if not any(key in name for key in optional)]
    if required and not allow_partial:
        foreign = [name for name in param_dict if name not in targets and name.startswith(('model.', 'lm_head.'))]
        hint = (f"; it holds {len(foreign)} weights this model does not have, e.g. {foreign[:3]}: is it a "
                f"checkpoint of another model?" if foreign else "")
        raise CheckpointError(f"{source}: {len(required)} parameters of the model are not in the checkpoint, e.g. "
                              f"{required[:3]}{hint} (set model_config.allow_partial_checkpoint: True to load it "
                              f"anyway and keep the others at their initial values)")
    ms.load_param_into_net(network, matched, strict_load=False)
    if optimizer is not None:
        ms.load_param_into_net(optimizer, matched, strict_load=False)
    if missing:
        logger.warning("%s: %d network parameters were not in the checkpoint, e.g. %s", source, len(missing),
                       missing[:5])
    return missing


def fsync_directory(directory):
    """Make a rename inside `directory` durable (its entry is on disk, not only the file's data)."""
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def write_error(what, path, err):
    """OutputWriteError naming the file and the OS cause, e.g. 'No space left on device'."""
    text = str(err).strip()
    cause = getattr(err, 'strerror', None) or (text.splitlines()[0] if text else type(err).__name__)
    return OutputWriteError(f"cannot write {what} {path}: {cause}")


def save_checkpoint_atomic(save_obj, path, append_dict=None, fmt='ckpt'):
    """Write to a temporary file in the same folder, fsync it, rename it, fsync the folder: a crash never
    leaves a partial file under `path`. Any I/O failure is an OutputWriteError naming `path`.

    MindSpore leaves the file read-only (mode 0400), so it is reopened read-only for the fsync: a
    read-write open works only for root.
    """
    directory = os.path.dirname(os.path.abspath(path))
    tmp_path = None
    try:
        os.makedirs(directory, exist_ok=True)
        handle, tmp_path = tempfile.mkstemp(prefix=TMP_PREFIX, suffix='.' + fmt, dir=directory)
        os.close(handle)
        ms.save_checkpoint(save_obj, tmp_path, append_dict=append_dict, format=fmt)
        with open(tmp_path, 'rb') as stream:
            os.fsync(stream.fileno())
        os.replace(tmp_path, path)
        tmp_path = None
        fsync_directory(directory)
    except (OSError, RuntimeError) as err:
        raise write_error('checkpoint', path, err) from None
    finally:
        if tmp_path is not None:
            # MindSpore writes <stem>.tmp and renames it to the name it was given; a failed write leaves it
            for leftover in (tmp_path, os.path.splitext(tmp_path)[0] + '.tmp'):
                if os.path.exists(leftover):
                    os.remove(leftover)
    return path


def write_text_atomic(path, text, what='file'):
    """Write `text` to `path` through a temporary file + rename + folder fsync (e.g. meta.json)."""
    return write_bytes_atomic(path, text.encode('utf-8'), what)


def write_bytes_atomic(path, data, what='file'):
    """Write `data` to `path` through a temporary file + rename + folder fsync."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp_path = None
    try:
        os.makedirs(directory, exist_ok=True)
        handle, tmp_path = tempfile.mkstemp(prefix=TMP_PREFIX, suffix='.txt', dir=directory)
        with os.fdopen(handle, 'wb') as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_path, path)
        tmp_path = None
        fsync_directory(directory)
    except OSError as err:
        raise write_error(what, path, err) from None
    finally:
        if tmp_path is not None and os.path.exists(tmp_path):
            os.remove(tmp_path)
    return path
