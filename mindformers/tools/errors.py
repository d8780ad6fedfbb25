"""Project exceptions: errors a user can fix, reported by the CLI as one line and exit code 2."""


class MindFormerError(Exception):
    """Base for every error caused by user input (config, paths, data, checkpoints)."""


class ConfigError(MindFormerError, ValueError):
    """A config value, key or combination is wrong."""


class ConfigTypeError(ConfigError, TypeError):
    """A config value has the wrong type (also a TypeError, as upstream raises)."""


class ConfigKeyError(ConfigError, KeyError):
    """A config section lacks a required key (also a KeyError, as upstream raises)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ''


class DatasetError(MindFormerError, ValueError):
    """A dataset path, format or column layout is wrong."""


class CheckpointError(MindFormerError, ValueError):
    """A checkpoint is missing, unreadable or does not fit the model."""


class NotAvailableError(MindFormerError, RuntimeError):
    """A feature that this build or this device cannot run."""


class OutputWriteError(MindFormerError, OSError):
    """A file the run must write (checkpoint, log, result) could not be written: path and cause."""


class dataset_errors:  # pylint: disable=invalid-name  (used as `with dataset_errors():`)
    """Turn a RuntimeError raised by MindSpore's dataset pipeline (a file that cannot be decoded, a transform that
    fails on a row) into a one-line DatasetError holding the pipeline's own message, which names the data file.
    Other RuntimeErrors pass unchanged."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is None or not issubclass(kind, RuntimeError) or isinstance(error, MindFormerError):
            return False
        message = pipeline_error_line(str(error))
        if message is None:
            return False
        raise DatasetError(message) from None


def pipeline_error_line(text):
    """The `[ERROR] ...` line of a dataset pipeline exception text, without the prefix; None for other errors."""
    if 'Dataset Pipeline Error Message' not in text and 'map operation' not in text:
        return None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith('[ERROR]'):
            return 'data pipeline: ' + line[len('[ERROR]'):].strip()
    return None
