"""Rotary position embedding (RoPE): the cos/sin tables of a trunk, and their application to the channels of a head,
in the rotate-half layout (LLaMA, Qwen2: channel i pairs with i + d/2), the interleaved one (ChatGLM2: channel 2i
pairs with 2i + 1) or GLM's 2D one (each half of the head in the rotate-half layout, rotated by its own positions)."""
import numpy as np
import mindspore as ms
from mindspore import nn, ops, Tensor


def rotary_tables(head_dim, max_positions, theta=10000.0, scaling_factor=1.0, interleaved=False):
    """cos/sin tables of shape (max_positions, head_dim): the two halves of head_dim share frequencies, or with
    `interleaved` each pair of neighbouring channels does."""
    inv_freq = 1.0 / (theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    positions = np.arange(max_positions, dtype=np.float64) / scaling_factor
    freqs = np.outer(positions, inv_freq)                      # (positions, head_dim/2)
    if interleaved:
        emb = np.repeat(freqs, 2, axis=-1)                     # f0 f0 f1 f1 ...
    else:
        emb = np.concatenate([freqs, freqs], axis=-1)          # f0 f1 ... f0 f1 ...
    return Tensor(np.cos(emb), ms.float32), Tensor(np.sin(emb), ms.float32)


def rotate_half(x):
    half = x.shape[-1] // 2
    return ops.concat((-x[..., half:], x[..., :half]), -1)


def rotate_pairs(x):
    """(x0, x1, x2, x3, ...) -> (-x1, x0, -x3, x2, ...)"""
    pairs = ops.reshape(x, x.shape[:-1] + (x.shape[-1] // 2, 2))
    return ops.reshape(ops.stack((-pairs[..., 1], pairs[..., 0]), -1), x.shape)


def rotate_halves(x):
    """GLM 2D RoPE: rotate_half within each half of the channels."""
    half = x.shape[-1] // 2
    return ops.concat((rotate_half(x[..., :half]), rotate_half(x[..., half:])), -1)


def apply_rotary(x, cos, sin, rotary_dim=None, interleaved=False, two_d=False):
    """x: (batch, heads, seq, head_dim); cos/sin (…, rotary_dim) broadcastable to it, from tables made with the
    same `interleaved`. Only the first `rotary_dim` channels rotate (partial RoPE); the rest pass through.
    `two_d`: the two halves rotate separately (cos/sin are two rotate-half tables side by side, GLM)."""
    rotate = rotate_halves if two_d else (rotate_pairs if interleaved else rotate_half)
    if rotary_dim is None or rotary_dim == x.shape[-1]:
        return x * cos + rotate(x) * sin
    rotated, passed = x[..., :rotary_dim], x[..., rotary_dim:]
    return ops.concat((rotated * cos + rotate(rotated) * sin, passed), -1)


class RotaryEmbedding(nn.Cell):
    """The tables one trunk shares across its layers. `prefill(seq_len)` -> (cos, sin) of shape (seq_len, dim);
    `decode(position)` -> (cos, sin) of shape (batch, 1, 1, dim) at each row's position (batch,)."""

    def __init__(self, rotary_dim, max_positions, theta=10000.0, scaling_factor=1.0, interleaved=False):
        super().__init__()
        if rotary_dim % 2:
            raise ValueError(f"rotary dimension {rotary_dim} must be even")
        self.rotary_dim = rotary_dim
        self.interleaved = interleaved
        self.cos, self.sin = rotary_tables(rotary_dim, max_positions, theta, scaling_factor, interleaved)

    def prefill(self, seq_len):
        return self.cos[:seq_len], self.sin[:seq_len]

    def two_d(self, position_ids, block_position_ids):
        """GLM 2D tables: (cos, sin) of shape position_ids.shape + (2 * rotary_dim,), the first half at
        `position_ids`, the second at `block_position_ids`."""
        cos = ops.concat((ops.gather(self.cos, position_ids, 0), ops.gather(self.cos, block_position_ids, 0)), -1)
        sin = ops.concat((ops.gather(self.sin, position_ids, 0), ops.gather(self.sin, block_position_ids, 0)), -1)
        return cos, sin

    def decode(self, position):
        bsz = position.shape[0]
        cos = ops.reshape(ops.gather(self.cos, position, 0), (bsz, 1, 1, -1))
        sin = ops.reshape(ops.gather(self.sin, position, 0), (bsz, 1, 1, -1))
        return cos, sin
