"""TensorBoard event files of a training run (upstream's `tensorboard:` YAML section), written with tensorboardX.

One writer per process, under `<tensorboard_dir>/rank_<id>/`: the loss monitor adds its scalars on every printed step,
the evaluation callback its results, and the run's config goes in once as text. `tensorboard --logdir
<tensorboard_dir>` shows every rank. Upstream reads the directory from `MA_SUMMARY_LOG_DIR` (ModelArts) when the YAML
has no `tensorboard` section; so does this module.
"""
import os

from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger

DEFAULTS = {'tensorboard_dir': None, 'tensorboard_queue_size': 10, 'log_loss_scale_to_tensorboard': False,
            'log_timers_to_tensorboard': False}
_STATE = {'writer': None, 'args': dict(DEFAULTS)}


def tensorboard_settings(config):
    """The checked `tensorboard` section (defaults filled in), or None when no event files are asked for."""
    section = config.get('tensorboard')
    if section is None and os.environ.get('MA_SUMMARY_LOG_DIR'):
        section = {'tensorboard_dir': os.environ['MA_SUMMARY_LOG_DIR']}
    if section is None or section is False:
        return None
    if hasattr(section, 'to_dict'):
        section = section.to_dict()
    if not isinstance(section, dict):
        raise ConfigError(f"tensorboard must be a mapping (tensorboard_dir, tensorboard_queue_size, "
                          f"log_loss_scale_to_tensorboard, log_timers_to_tensorboard), got {section!r}")
    unknown = sorted(set(section) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"tensorboard.{unknown[0]} is not a key of the tensorboard section; known: "
                          f"{', '.join(DEFAULTS)}")
    settings = dict(DEFAULTS)
    settings.update({key: value for key, value in section.items() if value is not None})
    directory = settings['tensorboard_dir']
    if directory is None:
        logger.warning("tensorboard: no tensorboard_dir is set, so no event files are written")
        return None
    if not isinstance(directory, str) or not directory.strip():
        raise ConfigError(f"tensorboard.tensorboard_dir must be a folder path, got {directory!r}")
    queue = settings['tensorboard_queue_size']
    if isinstance(queue, bool) or not isinstance(queue, int) or queue < 1:
        raise ConfigError(f"tensorboard.tensorboard_queue_size must be a positive integer, got {queue!r}")
    for key in ('log_loss_scale_to_tensorboard', 'log_timers_to_tensorboard'):
        if not isinstance(settings[key], bool):
            raise ConfigError(f"tensorboard.{key} must be True or False, got {settings[key]!r}")
    return settings


def set_tensorboard_writer(config, rank_id):
    """Open `<tensorboard_dir>/rank_<rank_id>/` for this process when the config asks for event files."""
    settings = tensorboard_settings(config)
    if settings is None:
        return None
    try:
        from tensorboardX import SummaryWriter  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ConfigError("tensorboard: writing event files needs the tensorboardX package "
                          "(pip install tensorboardX)") from None
    path = os.path.join(settings['tensorboard_dir'], f'rank_{rank_id}')
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"tensorboard: cannot create {path}: {err.strerror or err}") from None
    unset_tensorboard_writer()
    _STATE['writer'] = SummaryWriter(logdir=path, max_queue=settings['tensorboard_queue_size'])
    _STATE['args'] = settings
    logger.info("TensorBoard event files of rank %d go to %s; view them with: tensorboard --logdir %s", rank_id,
                os.path.abspath(path), settings['tensorboard_dir'])
    return _STATE['writer']


def get_tensorboard_writer():
    """The writer of this process, or None when the run writes no event files."""
    return _STATE['writer']


def get_tensorboard_args():
    """The `tensorboard` settings in effect (defaults when no writer is open)."""
    return dict(_STATE['args'])


def unset_tensorboard_writer():
    """Flush and close the writer (the end of a run)."""
    writer = _STATE['writer']
    _STATE['writer'] = None
    _STATE['args'] = dict(DEFAULTS)
    if writer is not None:
        writer.close()


def write_args_to_tensorboard(config):
    """Each top-level config key as a text summary (TensorBoard's TEXT tab), at step 1 as upstream does."""
    writer = get_tensorboard_writer()
    if writer is None:
        return
    from mindformers.tools.register.config import ordered_yaml_dump  # pylint: disable=import-outside-toplevel
    for key, value in config.items():
        text = ordered_yaml_dump(value).strip() if isinstance(value, (dict, list)) else str(value)
        writer.add_text(str(key), text, global_step=1)


def add_scalars(values, step, samples=None):
    """Write {tag: number} at `step`; with `samples`, also each `<tag> vs samples` at that sample count."""
    writer = get_tensorboard_writer()
    if writer is None:
        return
    for tag, value in values.items():
        if value is None:
            continue
        writer.add_scalar(tag, float(value), step)
        if samples is not None:
            writer.add_scalar(f'{tag} vs samples', float(value), samples)
