"""Checkpoint resolution for train/finetune/eval/predict and the training state stored for resume."""
import json
import os
import re

from mindformers.tools.checkpoint import list_checkpoints, read_checkpoint, CKPT_SUFFIXES
from mindformers.tools.errors import CheckpointError, ConfigError

RESUME_KEYS = ('epoch_num', 'step_num', 'loss_scale', 'global_batch_size')


def _newest(files):
    return max(files, key=os.path.getmtime)


def _rank_folder(directory, rank_id):
    folder = os.path.join(directory, f'rank_{rank_id}')
    if not os.path.isdir(folder):
        raise CheckpointError(f"checkpoint folder {directory} has rank_* sub-folders but no rank_{rank_id}")
    return folder


def has_rank_folders(directory):
    return any(re.fullmatch(r'rank_\d+', d) and os.path.isdir(os.path.join(directory, d))
               for d in os.listdir(directory))


def resolve_checkpoint_files(load_checkpoint, rank_id=0, resume_training=None):
    """Files to load for `load_checkpoint` (upstream semantics):

    - a .ckpt/.safetensors file -> that file;
    - a folder holding checkpoint files -> all of them (merged);
    - a folder of rank_N folders -> in rank_<rank_id>: the file named by `resume_training` (a name,
      its rank id rewritten), else the file in meta.json, else the newest.
    """
    path = os.path.expanduser(str(load_checkpoint))
    if os.path.isfile(path):
        if not path.endswith(CKPT_SUFFIXES):
            raise CheckpointError(f"load_checkpoint {path} is not a .ckpt or .safetensors file")
        return [path]
    if not os.path.isdir(path):
        raise CheckpointError(f"load_checkpoint path does not exist: {path}")
    if has_rank_folders(path):
        folder = _rank_folder(path, rank_id)
        if isinstance(resume_training, str) and resume_training:
            name = re.sub(r'rank_\d+', f'rank_{rank_id}', resume_training)
            if not name.endswith(CKPT_SUFFIXES):
                name += '.ckpt'
            chosen = os.path.join(folder, name)
            if not os.path.isfile(chosen):
                raise CheckpointError(f"resume_training names {name}, which is not in {folder}")
            return [chosen]
        meta = os.path.join(folder, 'meta.json')
        if os.path.isfile(meta):
            with open(meta, encoding='utf-8') as stream:
                last = json.load(stream).get('last_ckpt_file')
            if last and os.path.isfile(os.path.join(folder, last)):
                return [os.path.join(folder, last)]
        files = list_checkpoints(folder)
        if not files:
            raise CheckpointError(f"checkpoint folder {folder} holds no .ckpt/.safetensors file")
        return [_newest(files)]
    files = list_checkpoints(path)
    if not files:
        raise CheckpointError(f"checkpoint folder {path} holds no .ckpt/.safetensors file")
    return files


def read_checkpoint_files(files):
    merged = {}
    for path in files:
        merged.update(read_checkpoint(path))
    return merged


def resume_state(param_dict):
    """{'epoch_num', 'step_num', ...} saved by CheckpointMonitor; missing keys mean 'not resumable'."""
    state = {}
    for key in RESUME_KEYS:
        if key in param_dict:
            state[key] = param_dict[key].asnumpy().reshape(-1)[0].item()
    if 'step_num' not in state:
        raise CheckpointError("resume_training: the checkpoint has no training state (step_num); it was not written "
                              "by a training run's CheckpointMonitor")
    return state


def check_run_mode(run_mode):
    if run_mode not in ('train', 'finetune', 'eval', 'predict'):
        raise ConfigError(f"run_mode must be one of train, finetune, eval, predict; got {run_mode!r}")


_RANK_CKPT_NAME = re.compile(r'^(?P<prefix>.+)_rank_(?P<rank>\d+)-(?P<epoch>\d+)_(?P<step>\d+)'
                             r'\.(?P<ext>ckpt|safetensors)$')


def _rank_neutral(name):
    """'<prefix>_rank_<i>-<epoch>_<step>.ckpt' -> ('<prefix>', epoch, step, ext), else None."""
    match = _RANK_CKPT_NAME.match(name)
    if match is None:
        return None
    return match['prefix'], int(match['epoch']), int(match['step']), match['ext']


def get_common_resume_checkpoint(checkpoint_dir, device_num):
    """The newest checkpoint every rank 0..device_num-1 holds, not past any rank's meta.json; None if unknown.

    Upstream's meta-based resume: after a failure the ranks may have saved different last steps, and all
    of them must restart from one step. Returns rank 0's file name (the caller rewrites the rank id).
    """
    common, limits = None, []
    for rank in range(device_num):
        folder = os.path.join(checkpoint_dir, f'rank_{rank}')
        meta = os.path.join(folder, 'meta.json')
        if not os.path.isfile(meta):
            return None
        with open(meta, encoding='utf-8') as stream:
            last = _rank_neutral(json.load(stream).get('last_ckpt_file') or '')
        if last is None:
            return None
        limits.append(last[1:3])
        names = {_rank_neutral(name) for name in os.listdir(folder)} - {None}
        common = names if common is None else common & names
    limit = min(limits)
    candidates = sorted((key for key in common or () if key[1:3] <= limit), key=lambda key: key[1:3])
    if not candidates:
        raise ConfigError(f"resume_training: no checkpoint step up to epoch {limit[0]} step {limit[1]} is saved "
                          f"by all {device_num} ranks in {checkpoint_dir}; resume from a single rank's file by name")
    prefix, epoch, step, ext = candidates[-1]
    return f"{prefix}_rank_0-{epoch}_{step}.{ext}"
