"""Rotary position embedding (RoPE) tables and their application, in the rotate-half layout."""
import numpy as np
import mindspore as ms
from mindspore import ops, Tensor


def rotary_tables(head_dim, max_positions, theta=10000.0, scaling_factor=1.0):
    """cos/sin tables of shape (max_positions, head_dim); the two halves of head_dim share frequencies."""
    inv_freq = 1.0 / (theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    positions = np.arange(max_positions, dtype=np.float64) / scaling_factor
    freqs = np.outer(positions, inv_freq)                      # (positions, head_dim/2)
    emb = np.concatenate([freqs, freqs], axis=-1)              # (positions, head_dim)
    return Tensor(np.cos(emb), ms.float32), Tensor(np.sin(emb), ms.float32)


def rotate_half(x):
    half = x.shape[-1] // 2
    return ops.concat((-x[..., half:], x[..., :half]), -1)


def apply_rotary(x, cos, sin):
    """x: (batch, heads, seq, head_dim); cos/sin broadcastable to it."""
    return x * cos + rotate_half(x) * sin
