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



def prefix_causal_mask(context_lengths, seq_len):
    """(batch, 1, seq_len, seq_len) prefix-LM mask (GLM): every query sees the first `context_lengths` (batch,)
    int32 keys of its row (the prompt, bidirectional) and, after them, keys up to itself (causal)."""
    bsz = context_lengths.shape[0]
    keys = ops.reshape(ops.arange(0, seq_len, dtype=ms.int32), (1, 1, seq_len))
    queries = ops.reshape(ops.arange(0, seq_len, dtype=ms.int32), (1, seq_len, 1))
    later = ops.logical_and(ops.greater(keys, queries),
                            ops.greater_equal(keys, ops.reshape(context_lengths, (bsz, 1, 1))))
    return ops.reshape(ops.cast(later, ms.float32) * MASK_VALUE, (bsz, 1, seq_len, seq_len))


def padding_mask(attention_mask):
    """(batch, 1, 1, seq) from a (batch, seq) 1/0 mask (1 = real token): bidirectional attention (encoders)
    that never looks at padding keys."""
    keep = ops.cast(attention_mask, ms.float32)
    return ops.expand_dims(ops.expand_dims((1.0 - keep) * MASK_VALUE, 1), 1)
