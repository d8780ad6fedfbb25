"""Rotary position embedding (RoPE): the cos/sin tables of a trunk, and their application in the rotate-half layout."""
import numpy as np
import mindspore as ms
from mindspore import nn, ops, Tensor


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


def apply_rotary(x, cos, sin, rotary_dim=None):
    """x: (batch, heads, seq, head_dim); cos/sin (…, rotary_dim) broadcastable to it. Only the first
    `rotary_dim` channels rotate (partial RoPE); the rest pass through."""
    if rotary_dim is None or rotary_dim == x.shape[-1]:
        return x * cos + rotate_half(x) * sin
    rotated, passed = x[..., :rotary_dim], x[..., rotary_dim:]
    return ops.concat((rotated * cos + rotate_half(rotated) * sin, passed), -1)


class RotaryEmbedding(nn.Cell):
    """The tables one trunk shares across its layers. `prefill(seq_len)` -> (cos, sin) of shape (seq_len, dim);
    `decode(position)` -> (cos, sin) of shape (batch, 1, 1, dim) at each row's position (batch,)."""

    def __init__(self, rotary_dim, max_positions, theta=10000.0, scaling_factor=1.0):
        super().__init__()
        if rotary_dim % 2:
            raise ValueError(f"rotary dimension {rotary_dim} must be even")
        self.rotary_dim = rotary_dim
        self.cos, self.sin = rotary_tables(rotary_dim, max_positions, theta, scaling_factor)

    def prefill(self, seq_len):
        return self.cos[:seq_len], self.sin[:seq_len]

    def decode(self, position):
        bsz = position.shape[0]
        cos = ops.reshape(ops.gather(self.cos, position, 0), (bsz, 1, 1, -1))
        sin = ops.reshape(ops.gather(self.sin, position, 0), (bsz, 1, 1, -1))
        return cos, sin
