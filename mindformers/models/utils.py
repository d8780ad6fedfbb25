"""Re-exports of the dtype helpers, which live in `tools/dtype.py` (layers must not import `models/`)."""
from mindformers.tools.dtype import convert_mstype, on_cpu, runtime_dtype

__all__ = ['convert_mstype', 'on_cpu', 'runtime_dtype']
