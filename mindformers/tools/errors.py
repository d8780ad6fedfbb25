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
