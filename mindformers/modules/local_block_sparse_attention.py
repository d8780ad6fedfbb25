"""LocalBlockSparseAttention: every block of queries attends to a window of `local_size` keys ending with its own
block (upstream's signature and conventions)."""
import math

import numpy as np
import mindspore as ms
from mindspore import nn, ops, Tensor

from mindformers.modules.layers import attention_probs, _check_positive_int
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.errors import ConfigError, ConfigTypeError

__all__ = ['LocalBlockSparseAttention']


class LocalBlockSparseAttention(nn.Cell):
    """Queries are cut into blocks of `block_size`; block g attends to the `local_size` keys starting at
    max(0, g - (local_size / block_size - 1)) * block_size: its own block and the ones before it (the first
    blocks' windows reach into later keys, which a causal `attention_mask` removes). Scores are q.k / sqrt(d);
    keys outside the window are not computed at all.

    construct(q, k, v, attention_mask=None): q, k, v (batch, heads, seq_len, size_per_head); attention_mask
    (batch, seq_len, seq_len) with upstream's convention here, 1 = masked (added as mask * -10000). Returns
    (batch, heads, seq_len, size_per_head) in q's dtype.
    """

    def __init__(self, seq_len, size_per_head, local_size, block_size, dropout_rate=0.1,
                 softmax_compute_type=ms.float16, parallel_config=None):
        super().__init__()
        del parallel_config                                  # a batch/head split needs no change to the windows
        for name, value in (('seq_len', seq_len), ('size_per_head', size_per_head), ('local_size', local_size),
                            ('block_size', block_size)):
            _check_positive_int(value, name, 'LocalBlockSparseAttention')
        if softmax_compute_type not in (ms.float16, ms.float32, 'float16', 'float32'):
            raise ConfigTypeError(f"LocalBlockSparseAttention: softmax_compute_type must be float16 or float32, got "
                                  f"{softmax_compute_type}")
        for ok, message in ((seq_len % block_size == 0, f"seq_len {seq_len} must be divisible by block_size "
                                                        f"{block_size}"),
                            (local_size % block_size == 0, f"local_size {local_size} must be divisible by "
                                                           f"block_size {block_size}"),
                            (local_size < seq_len, f"local_size {local_size} must be less than seq_len {seq_len}"),
                            (block_size <= local_size, f"block_size {block_size} must not exceed local_size "
                                                       f"{local_size}"),
                            (0 <= dropout_rate < 1, f"dropout_rate must be in [0, 1), got {dropout_rate}")):
            if not ok:
                raise ConfigError(f"LocalBlockSparseAttention: {message}")
        self.seq_len = seq_len
        self.size_per_head = size_per_head
        self.local_size = local_size
        self.block_size = block_size
        self.group_num = seq_len // block_size
        windows = local_windows(seq_len, local_size, block_size)                  # (groups, local_size)
        self.key_index = Tensor(windows.reshape(-1).astype(np.int32))
        self.mask_index = Tensor(np.broadcast_to(windows[None, :, None, :],
                                                 (1, self.group_num, block_size, local_size)).astype(np.int32))
        self.scale = 1.0 / math.sqrt(size_per_head)
        self.softmax_dtype = runtime_dtype(softmax_compute_type, 'softmax_compute_type')
        self.softmax = ops.Softmax()
        self.dropout = nn.Dropout(p=dropout_rate) if dropout_rate > 1e-5 else None
        self.batch_matmul_t = ops.BatchMatMul(transpose_b=True)
        self.batch_matmul = ops.BatchMatMul()

    def _windows(self, x):
        bsz, heads = x.shape[0], x.shape[1]
        x = ops.gather(x, self.key_index, 2)
        return ops.reshape(x, (bsz, heads, self.group_num, self.local_size, self.size_per_head))

    def construct(self, q, k, v, attention_mask=None):
        bsz, heads = q.shape[0], q.shape[1]
        blocks = ops.reshape(q, (bsz, heads, self.group_num, self.block_size, self.size_per_head))
        scores = self.batch_matmul_t(blocks, self._windows(k)) * self.scale        # (b, h, g, block, local)
        bias = None
        if attention_mask is not None:
            rows = ops.reshape(ops.cast(attention_mask, self.softmax_dtype),
                               (bsz, self.group_num, self.block_size, self.seq_len))
            index = ops.broadcast_to(self.mask_index, (bsz, self.group_num, self.block_size, self.local_size))
            bias = ops.expand_dims(ops.gather_elements(rows, 3, index) * -10000.0, 1)
        probs = attention_probs(scores, bias, self.softmax, self.softmax_dtype, q.dtype, self.dropout)
        context = self.batch_matmul(probs, self._windows(v))                        # (b, h, g, block, d)
        return ops.reshape(context, (bsz, heads, self.seq_len, self.size_per_head))


def local_windows(seq_len, local_size, block_size):
    """(groups, local_size) key positions of each query block's window."""
    local_blocks = local_size // block_size
    starts = [max(0, group - (local_blocks - 1)) * block_size for group in range(seq_len // block_size)]
    return np.stack([np.arange(start, start + local_size) for start in starts])
