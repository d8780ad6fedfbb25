"""Causal multi-head self-attention with grouped KV heads (GQA), RoPE and plain softmax attention."""
import math

import numpy as np
import mindspore as ms
from mindspore import nn, ops, Tensor

from mindformers.models.utils import runtime_dtype
from mindformers.modules.kv_cache import KVCache
from mindformers.modules.layers import Linear
from mindformers.modules.rotary import apply_rotary

MASK_VALUE = -1e9


def causal_mask(max_len):
    """Additive mask (max_len, max_len): 0 where a query may attend, MASK_VALUE above the diagonal."""
    upper = np.triu(np.ones((max_len, max_len), dtype=np.float32), k=1)
    return Tensor(upper * MASK_VALUE, ms.float32)


class CausalSelfAttention(nn.Cell):
    """Projections wq/wk/wv/wo; queries use `n_heads`, keys/values `n_kv_heads` repeated to match.

    The fused FlashAttention kernel is Ascend-only; this is the portable path that every device runs.
    """

    def __init__(self, dim, n_heads, n_kv_heads=None, qkv_has_bias=False, param_init_type='float32',
                 compute_dtype='float32', softmax_compute_type='float32', use_past=False, batch_size=1,
                 max_seq_length=None):
        super().__init__()
        self.n_heads = n_heads
        self.n_kv_heads = n_kv_heads or n_heads
        if dim % n_heads:
            raise ValueError(f"hidden_size {dim} is not divisible by num_heads {n_heads}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"num_heads {n_heads} is not divisible by n_kv_heads {self.n_kv_heads}")
        self.head_dim = dim // n_heads
        self.n_rep = self.n_heads // self.n_kv_heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        kv_dim = self.n_kv_heads * self.head_dim
        linear = dict(param_init_type=param_init_type, compute_dtype=compute_dtype)
        self.wq = Linear(dim, dim, has_bias=qkv_has_bias, **linear)
        self.wk = Linear(dim, kv_dim, has_bias=qkv_has_bias, **linear)
        self.wv = Linear(dim, kv_dim, has_bias=qkv_has_bias, **linear)
        self.wo = Linear(dim, dim, has_bias=False, **linear)
        self.softmax_dtype = runtime_dtype(softmax_compute_type, 'softmax_compute_type')
        self.batch_matmul = ops.BatchMatMul()
        self.batch_matmul_t = ops.BatchMatMul(transpose_b=True)
        self.softmax = ops.Softmax()
        self.use_past = use_past
        if use_past:
            self.kv_cache = KVCache(batch_size, self.n_kv_heads, max_seq_length, self.head_dim)

    def shard(self, dp, mp):
        """Heads split over `mp` devices, batch over `dp` (upstream's LLaMA strategies)."""
        for proj in (self.wq, self.wk, self.wv):
            proj.shard(((dp, 1), (mp, 1)), ((dp, mp), (mp,)))
        self.wo.shard(((dp, mp), (1, mp)))
        self.batch_matmul_t.shard(((dp, mp, 1, 1), (dp, mp, 1, 1)))
        self.batch_matmul.shard(((dp, mp, 1, 1), (dp, mp, 1, 1)))
        self.softmax.shard(((dp, mp, 1, 1),))
        return self

    def _heads(self, x, n_heads):
        bsz, seq_len, _ = x.shape
        return ops.transpose(ops.reshape(x, (bsz, seq_len, n_heads, self.head_dim)), (0, 2, 1, 3))

    def _repeat_kv(self, x):
        if self.n_rep == 1:
            return x
        bsz, n_kv, seq_len, head_dim = x.shape
        x = ops.broadcast_to(ops.expand_dims(x, 2), (bsz, n_kv, self.n_rep, seq_len, head_dim))
        return ops.reshape(x, (bsz, n_kv * self.n_rep, seq_len, head_dim))

    def construct(self, x, cos, sin, mask, fill_cache=False):
        """x: (batch, seq, dim); cos/sin: (seq, head_dim); mask: additive (seq, seq).
        With `fill_cache` (prefill) the keys/values also replace the KV cache (seq must equal its length)."""
        bsz, seq_len, dim = x.shape
        query = apply_rotary(self._heads(self.wq(x), self.n_heads), cos, sin)
        key = apply_rotary(self._heads(self.wk(x), self.n_kv_heads), cos, sin)
        value = self._heads(self.wv(x), self.n_kv_heads)
        if fill_cache:
            key, value = self.kv_cache.fill(key, value)
        key = self._repeat_kv(key)
        value = self._repeat_kv(value)
        # scores: (batch, heads, q_len, kv_len)
        scores = self.batch_matmul_t(query, key) * self.scale
        scores = ops.cast(scores, self.softmax_dtype) + mask
        probs = ops.cast(self.softmax(scores), value.dtype)
        context = self.batch_matmul(probs, value)                     # (batch, heads, seq, head_dim)
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (bsz, seq_len, dim))
        return self.wo(context)

    def decode(self, x, cos, sin, position, mask):
        """One new token per row. x: (batch, 1, dim); cos/sin: (batch, 1, 1, head_dim) at each row's
        position; position: (batch,) int32; mask: additive (batch, 1, 1, max_seq) hiding later slots."""
        bsz, _, dim = x.shape
        query = apply_rotary(self._heads(self.wq(x), self.n_heads), cos, sin)          # (b, heads, 1, hd)
        key = apply_rotary(self._heads(self.wk(x), self.n_kv_heads), cos, sin)
        value = self._heads(self.wv(x), self.n_kv_heads)
        key_cache, value_cache = self.kv_cache.update(key, value, position)             # (b, kv, seq, hd)
        # group query heads by their KV head instead of copying the cache n_rep times
        query = ops.reshape(query, (bsz, self.n_kv_heads, self.n_rep, self.head_dim))
        scores = self.batch_matmul_t(query, key_cache) * self.scale                     # (b, kv, rep, seq)
        scores = ops.cast(scores, self.softmax_dtype) + mask
        probs = ops.cast(self.softmax(scores), value_cache.dtype)
        context = self.batch_matmul(probs, value_cache)                                 # (b, kv, rep, hd)
        return self.wo(ops.reshape(context, (bsz, 1, dim)))
