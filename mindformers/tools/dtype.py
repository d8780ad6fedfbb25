"""Dtype names from YAML to MindSpore dtypes, and the CPU compute-dtype policy (used by layers and models)."""
import os

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


CPU_FLOAT16_ENV = 'MF_CPU_FLOAT16'


def cpu_float16_enabled():
    """True when MF_CPU_FLOAT16=1 asks for float16 math on CPU as configured (for numerics checks)."""
    return os.getenv(CPU_FLOAT16_ENV, '0').strip().lower() in ('1', 'true', 'yes')


def runtime_dtype(dtype, what):
    """The dtype really used for `what`: float32 on CPU (fp16 is slower, bf16 math is unsupported).

    MF_CPU_FLOAT16=1 keeps float16 on CPU (MindSpore's CPU kernels run it, 1.6-1.9x slower than float32), so
    the float16 path of the big configs can be exercised here; bfloat16 always becomes float32 on CPU, since
    MindSpore's CPU backend has no bfloat16 MatMul, Softmax, LayerNorm or even Reshape kernels.
    """
    dtype = convert_mstype(dtype)
    if on_cpu() and dtype in (ms.float16, ms.bfloat16):
        if dtype == ms.float16 and cpu_float16_enabled():
            return dtype
        if what not in _warned:
            _warned.add(what)
            reason = ("MindSpore's CPU backend has no bfloat16 MatMul/Softmax/LayerNorm kernels" if dtype == ms.bfloat16
                      else f"float16 is slower there; set {CPU_FLOAT16_ENV}=1 to compute it in float16")
            logger.warning("%s %s is computed in float32 on CPU (%s)", what, dtype, reason)
        return ms.float32
    return dtype
