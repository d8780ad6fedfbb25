"""ALiBi: a per-head linear bias on attention scores by key position, in place of position embeddings.

The score of query i for key j gets `slope_h * j`. The paper writes `slope_h * (j - i)`; the two differ by
a constant per query row, which softmax ignores, and `slope_h * j` is the same row for every query, so
decode reuses the table as it is.
"""
import math

import numpy as np
import mindspore as ms
from mindspore import nn, Tensor


def alibi_slopes(num_heads):
    """Geometric slopes 2^(-8 i / n) for the largest power of two n <= num_heads, then the odd-indexed
    slopes of 2n interleaved in for the remaining heads (the BLOOM / ALiBi-paper rule)."""
    closest = 2 ** math.floor(math.log2(num_heads))
    base = 2.0 ** (-(2.0 ** -(math.log2(closest) - 3)))
    slopes = [base ** (i + 1) for i in range(closest)]
    if closest != num_heads:
        extra_base = 2.0 ** (-(2.0 ** -(math.log2(2 * closest) - 3)))
        slopes += [extra_base ** (2 * i + 1) for i in range(num_heads - closest)]
    return np.asarray(slopes, np.float32)


class AlibiBias(nn.Cell):
    """Table (1, heads, 1, max_positions) of slope_h * j; `prefill(k_len)` and `decode()` give bias rows
    that broadcast over (batch, heads, q_len, k_len)."""

    def __init__(self, num_heads, max_positions):
        super().__init__()
        slopes = alibi_slopes(num_heads).astype(np.float32)
        table = slopes[:, None] * np.arange(max_positions, dtype=np.float32)[None, :]
        self.table = Tensor(table.reshape(1, num_heads, 1, max_positions), ms.float32)
        self.max_positions = max_positions

    def prefill(self, k_len):
        return self.table[:, :, :, :k_len]

    def decode(self):
        return self.table
