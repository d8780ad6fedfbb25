"""Static KV cache: per-layer key/value Parameters written by prefill and updated one position per decode step.

Layout (batch, n_kv_heads, max_seq, head_dim), as upstream's KVCacheMgr. Decode writes with
ScatterNdUpdate at each row's position, so a step costs O(batch * heads * head_dim), not O(cache).
Runs on every device (the fused KVCacheScatterUpdate / paged-attention kernels are Ascend-only).
"""
import numpy as np
import mindspore as ms
from mindspore import nn, ops, Parameter, Tensor


class KVCache(nn.Cell):
    """Holds `key_cache`/`value_cache` for one attention layer."""

    def __init__(self, batch_size, n_kv_heads, max_seq_length, head_dim, dtype=ms.float32):
        super().__init__()
        shape = (batch_size, n_kv_heads, max_seq_length, head_dim)
        self.key_cache = Parameter(Tensor(np.zeros(shape, np.float32), dtype), name='key_cache', requires_grad=False)
        self.value_cache = Parameter(Tensor(np.zeros(shape, np.float32), dtype), name='value_cache',
                                     requires_grad=False)
        self.scatter = ops.ScatterNdUpdate()
        # (batch, heads) grid for the scatter indices: [b, h, position]
        grid = np.stack(np.meshgrid(np.arange(batch_size), np.arange(n_kv_heads), indexing='ij'), -1)
        self.batch_head_index = Tensor(grid.astype(np.int32))          # (batch, heads, 2)
        self.n_kv_heads = n_kv_heads

    def fill(self, key, value):
        """Prefill: key/value (batch, n_kv_heads, max_seq, head_dim) replace the whole cache."""
        ops.assign(self.key_cache, ops.cast(key, self.key_cache.dtype))
        ops.assign(self.value_cache, ops.cast(value, self.value_cache.dtype))
        return key, value

    def read(self):
        """The whole caches as filled (cross-attention reads what `fill` stored from the encoder output)."""
        return self.key_cache, self.value_cache

    def update(self, key, value, position):
        """Decode: key/value (batch, n_kv_heads, 1, head_dim) written at `position` (batch,) of each row;
        returns the full caches to attend over."""
        batch = key.shape[0]
        pos = ops.broadcast_to(ops.reshape(position, (batch, 1, 1)), (batch, self.n_kv_heads, 1))
        indices = ops.concat((self.batch_head_index, ops.cast(pos, ms.int32)), -1)   # (batch, heads, 3)
        key = ops.cast(ops.squeeze(key, 2), self.key_cache.dtype)
        value = ops.cast(ops.squeeze(value, 2), self.value_cache.dtype)
        key_cache = self.scatter(self.key_cache, indices, key)
        value_cache = self.scatter(self.value_cache, indices, value)
        return key_cache, value_cache
