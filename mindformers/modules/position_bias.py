"""Position schemes that are additive biases on the attention scores: ALiBi and T5's relative buckets.

ALiBi is a per-head linear bias by key position, in place of position embeddings.

The score of query i for key j gets `slope_h * j`. The paper writes `slope_h * (j - i)`; the two differ by
a constant per query row, which softmax ignores, and `slope_h * j` is the same row for every query, so
decode reuses the table as it is.
"""
import math

import numpy as np
import mindspore as ms
from mindspore import nn, ops, Parameter, Tensor
from mindspore.common.initializer import initializer, Normal

from mindformers.tools.dtype import runtime_dtype


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


def relative_position_buckets(query_length, key_length, bidirectional=True, num_buckets=32, max_distance=128):
    """(query_length, key_length) int32 bucket of each key's offset from each query (T5).

    Offsets d = key - query. Half the buckets are exact offsets 0..n/2-1 (n = num_buckets, halved first when
    bidirectional, the upper half then holding keys after the query); larger |d| fall into n/2 more buckets
    spaced logarithmically up to `max_distance`, beyond which everything shares the last bucket. Causal (not
    bidirectional) buckets count only keys before the query; later keys get bucket 0 and are masked anyway.
    """
    offset = np.arange(key_length, dtype=np.int64)[None, :] - np.arange(query_length, dtype=np.int64)[:, None]
    buckets = np.zeros_like(offset)
    if bidirectional:
        num_buckets //= 2
        buckets += (offset > 0).astype(np.int64) * num_buckets
        distance = np.abs(offset)
    else:
        distance = np.maximum(-offset, 0)
    exact = num_buckets // 2
    # float32 as the reference implementation computes it, so rounding at bucket edges agrees
    scaled = np.log(np.maximum(distance, 1).astype(np.float32) / np.float32(exact)) / np.float32(
        math.log(max_distance / exact)) * np.float32(num_buckets - exact)
    far = np.minimum(exact + scaled.astype(np.int64), num_buckets - 1)
    buckets += np.where(distance < exact, distance, far)
    return buckets.astype(np.int32)


class RelativePositionBias(nn.Cell):
    """T5's learned relative position bias: a `weight` table (num_buckets, num_heads) looked up by the bucket of
    each (query, key) offset, added to the attention scores. One table per stack, shared by its blocks.

    `prefill(q_len, k_len)` -> (1, heads, q_len, k_len) for queries at positions 0..q_len-1;
    `decode(position)` -> (batch, heads, 1, max_key_length) for one query per row at `position` (batch,).
    """

    def __init__(self, num_heads, num_buckets=32, max_distance=128, bidirectional=True, max_query_length=512,
                 max_key_length=None, param_init_type='float32', init_std=0.02):
        super().__init__()
        max_key_length = max_query_length if max_key_length is None else max_key_length
        self.weight = Parameter(initializer(Normal(sigma=init_std), (num_buckets, num_heads),
                                            runtime_dtype(param_init_type, 'param_init_type')), name='weight')
        buckets = relative_position_buckets(max_query_length, max_key_length, bidirectional, num_buckets,
                                            max_distance)
        self.buckets = Tensor(buckets, ms.int32)
        self.gather = ops.Gather()

    def prefill(self, q_len, k_len):
        table = ops.cast(self.gather(self.weight, self.buckets[:q_len, :k_len], 0), ms.float32)   # (q, k, heads)
        return ops.expand_dims(ops.transpose(table, (2, 0, 1)), 0)

    def decode(self, position):
        rows = self.gather(self.buckets, position, 0)                                             # (batch, k)
        table = ops.cast(self.gather(self.weight, rows, 0), ms.float32)                           # (batch, k, heads)
        return ops.expand_dims(ops.transpose(table, (0, 2, 1)), 2)
