"""Dtype names from YAML to MindSpore dtypes, and the CPU compute-dtype policy (used by layers and models)."""
import mindspore as ms

from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger

_DTYPES = {
    'float16': ms.float16, 'fp16': ms.float16,
    'float32': ms.float32, 'fp32': ms.float32,
    'bfloat16': ms.bfloat16, 'bf16': ms.bfloat16,
    'int32': ms.int32, 'int64': ms.int64,
}
_warned = set()


def convert_mstype(dtype):
    """'float16' | ms.float16 -> ms.float16; unknown names are a ConfigError."""
    if dtype is None:
        return ms.float32
    if isinstance(dtype, str):
        if dtype.lower() not in _DTYPES:
            raise ConfigError(f"unknown dtype '{dtype}'; use one of float32, float16, bfloat16")
        return _DTYPES[dtype.lower()]
    return dtype


def on_cpu():
    return ms.get_context('device_target') == 'CPU'


def runtime_dtype(dtype, what):
    """The dtype really used for `what`: float32 on CPU (fp16 is slower, bf16 math is unsupported)."""
    dtype = convert_mstype(dtype)
    if on_cpu() and dtype in (ms.float16, ms.bfloat16):
        if what not in _warned:
            _warned.add(what)
            logger.warning("%s %s is computed in float32 on CPU (bf16 math is not supported and fp16 is slower "
                           "there)", what, dtype)
        return ms.float32
    return dtype
