"""Import of MindSpore Lite with a one-line answer when it is missing."""
from mindformers.tools.errors import NotAvailableError


def mindspore_lite():
    """The mindspore_lite module, or a NotAvailableError naming what to install."""
    try:
        import mindspore_lite  # pylint: disable=import-outside-toplevel
    except ImportError:
        import sys  # pylint: disable=import-outside-toplevel
        raise NotAvailableError(f"MindSpore Lite inference needs the mindspore-lite wheel for this MindSpore "
                                f"version and Python {sys.version_info.major}.{sys.version_info.minor} (pip install "
                                f"mindspore-lite; PyPI has none for this Python); use backend='ms'") from None
    return mindspore_lite
