"""Additive attention masks: 0 where a query may attend, MASK_VALUE where it may not (float32, broadcastable)."""
import numpy as np
import mindspore as ms
from mindspore import ops, Tensor

MASK_VALUE = -1e9


def causal_mask(max_len):
    """(max_len, max_len): query i sees keys 0..i."""
    upper = np.triu(np.ones((max_len, max_len), dtype=np.float32), k=1)
    return Tensor(upper * MASK_VALUE, ms.float32)


def decode_mask(position, max_seq):
    """(batch, 1, 1, max_seq) for one new token per row at `position` (batch,) int32: cache slots after the
    row's position are hidden (they hold padding or stale keys)."""
    bsz = position.shape[0]
    slots = ops.arange(0, max_seq, dtype=ms.int32)
    later = ops.greater(ops.expand_dims(slots, 0), ops.expand_dims(position, 1))      # (batch, max_seq)
    return ops.reshape(ops.cast(later, ms.float32) * MASK_VALUE, (bsz, 1, 1, max_seq))

