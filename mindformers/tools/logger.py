"""The `mindformers` logger: stdout plus per-rank info.log / error.log under <output>/log/rank_N/."""
import logging
import os
import sys

LOG_FORMAT = '%(asctime)s - mindformers[%(pathname)s:%(lineno)d] - %(levelname)s - %(message)s'


def _log_dir():
    """LOG_MF_PATH (set by the launchers) wins; else <output_dir>/log; then rank_<id>."""
    from mindformers.tools.utils import get_output_root_path, get_real_rank  # pylint: disable=import-outside-toplevel
    root = os.getenv('LOG_MF_PATH') or os.path.join(get_output_root_path(), 'log')
    return os.path.join(root, f'rank_{get_real_rank()}')


class _RankFileHandler(logging.Handler):
    """Opens <log dir>/<file_name> on the first record, so importing the package writes nothing."""

    def __init__(self, file_name, level):
        super().__init__(level)
        self.file_name = file_name
        self._inner = None

    def emit(self, record):
        if self._inner is None:
            path = os.path.join(_log_dir(), self.file_name)
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                self._inner = logging.FileHandler(path, encoding='utf-8')
            except OSError as err:
                from mindformers.tools.errors import OutputWriteError  # pylint: disable=import-outside-toplevel
                raise OutputWriteError(f"cannot write log {path}: {err.strerror or err}; set output_dir (or "
                                       f"LOG_MF_PATH) to a folder you can write") from None
            self._inner.setFormatter(self.formatter)
        self._inner.emit(record)

    def close(self):
        if self._inner is not None:
            self._inner.close()
            self._inner = None
        super().close()


class _MindFormerLogger(logging.Logger):
    def reset_file_handlers(self):
        """Re-point the files after the output dir or the rank changed."""
        for handler in self.handlers:
            if isinstance(handler, _RankFileHandler):
                handler.close()


def _build_logger():
    logging.setLoggerClass(_MindFormerLogger)
    log = logging.getLogger('mindformers')
    logging.setLoggerClass(logging.Logger)
    if not isinstance(log, _MindFormerLogger):  # created elsewhere before us: wrap minimal API
        log.__class__ = _MindFormerLogger
    log.setLevel(logging.INFO)
    log.propagate = False
    formatter = logging.Formatter(LOG_FORMAT)
    stdout = logging.StreamHandler(sys.stdout)
    stdout.setLevel(os.getenv('MF_LOG_LEVEL', 'INFO').upper())
    stdout.setFormatter(formatter)
    info_file = _RankFileHandler('info.log', logging.INFO)
    info_file.setFormatter(formatter)
    error_file = _RankFileHandler('error.log', logging.ERROR)
    error_file.setFormatter(formatter)
    log.handlers = [stdout, info_file, error_file]
    return log


logger = _build_logger()
