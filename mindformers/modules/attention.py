"""Multi-head attention for every family: MHA / GQA / MQA heads, optional RoPE, an additive bias, a KV cache,
self- or cross-attention.

The position scheme comes in from outside: RoPE as `freqs` (cos, sin) the trunk prepares once per step,
ALiBi, T5's relative buckets and masks as the additive `bias`, learned absolute positions in the trunk's
embeddings. Plain BatchMatMul + softmax: the fused FlashAttention kernel is Ascend-only, this path runs on every
device. Cross-attention (T5's decoder) takes its queries from `query_input` and its keys/values from `x` (the
encoder output); under a KV cache, `fill_kv` stores the encoder's keys/values once and `attend_cache` reads them.
"""
import math

from mindspore import nn, ops

from mindformers.modules.kv_cache import KVCache
from mindformers.modules.layers import Linear, attention_probs
from mindformers.modules.rotary import apply_rotary
from mindformers.tools.dtype import runtime_dtype


class MultiHeadAttention(nn.Cell):
    """Projections wq/wk/wv/wo; queries use `n_heads`, keys/values `n_kv_heads` (= n_heads: MHA, 1: MQA,
    between: GQA), repeated to match. `head_dim` defaults to dim // n_heads (T5 sets its own d_kv, so the
    heads may span more or fewer channels than `dim`). `rotary_dim` (None: no RoPE) is how many channels of each
    head rotate, in the rotate-half layout or, with `rotary_interleaved`, in neighbouring pairs, or with
    `rotary_2d` as two rotate-half halves (GLM; the trunk's freqs then carry both halves' tables).
    """

    def __init__(self, dim, n_heads, n_kv_heads=None, qkv_has_bias=False, out_has_bias=False, rotary_dim=None,
                 scale=None, attention_dropout=0.0, param_init_type='float32', compute_dtype='float32',
                 softmax_compute_type='float32', use_past=False, batch_size=1, max_seq_length=None,
                 rotary_interleaved=False, rotary_2d=False, head_dim=None):
        super().__init__()
        self.n_heads = n_heads
        self.n_kv_heads = n_kv_heads or n_heads
        if head_dim is None and dim % n_heads:
            raise ValueError(f"hidden_size {dim} is not divisible by num_heads {n_heads}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"num_heads {n_heads} is not divisible by n_kv_heads {self.n_kv_heads}")
        self.head_dim = dim // n_heads if head_dim is None else head_dim
        inner_dim = self.n_heads * self.head_dim
        self.n_rep = self.n_heads // self.n_kv_heads
        self.scale = 1.0 / math.sqrt(self.head_dim) if scale is None else scale
        self.rotary_dim = rotary_dim
        self.rotary_interleaved = rotary_interleaved
        self.rotary_2d = rotary_2d
        kv_dim = self.n_kv_heads * self.head_dim
        linear = dict(param_init_type=param_init_type, compute_dtype=compute_dtype)
        self.wq = Linear(dim, inner_dim, has_bias=qkv_has_bias, **linear)
        self.wk = Linear(dim, kv_dim, has_bias=qkv_has_bias, **linear)
        self.wv = Linear(dim, kv_dim, has_bias=qkv_has_bias, **linear)
        self.wo = Linear(inner_dim, dim, has_bias=out_has_bias, **linear)
        self.softmax_dtype = runtime_dtype(softmax_compute_type, 'softmax_compute_type')
        self.batch_matmul = ops.BatchMatMul()
        self.batch_matmul_t = ops.BatchMatMul(transpose_b=True)
        self.softmax = ops.Softmax()
        self.attention_dropout = nn.Dropout(p=attention_dropout) if attention_dropout else None
        self.use_past = use_past
        if use_past:
            self.kv_cache = KVCache(batch_size, self.n_kv_heads, max_seq_length, self.head_dim)

    def shard(self, dp, mp):
        """Heads split over `mp` devices, batch over `dp` (upstream's strategies)."""
        for proj in (self.wq, self.wk, self.wv):
            proj.shard(((dp, 1), (mp, 1)), ((dp, mp), (mp,)))
        self.wo.shard(((dp, mp), (1, mp)), ((dp, 1), (1,)))
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

    def _project(self, x, freqs, query_input=None):
        query = self._heads(self.wq(x if query_input is None else query_input), self.n_heads)
        key = self._heads(self.wk(x), self.n_kv_heads)
        if self.rotary_dim is not None:
            cos, sin = freqs
            query = apply_rotary(query, cos, sin, self.rotary_dim, self.rotary_interleaved, self.rotary_2d)
            key = apply_rotary(key, cos, sin, self.rotary_dim, self.rotary_interleaved, self.rotary_2d)
        return query, key, self._heads(self.wv(x), self.n_kv_heads)

    def _probs(self, scores, bias, dtype):
        return attention_probs(scores, bias, self.softmax, self.softmax_dtype, dtype, self.attention_dropout)

    def construct(self, x, bias, freqs=None, fill_cache=False, prefix_key_value=None, query_input=None):
        """x: (batch, seq, dim); bias: additive, broadcastable to (batch, heads, seq, seq) (causal mask, plus
        ALiBi, ...); freqs: (cos, sin) of shape (seq, rotary_dim) when RoPE is on. With `fill_cache`
        (prefill) the keys/values also replace the KV cache (seq must equal its length).
        prefix_key_value: (2, batch, kv_heads, prefix_len, head_dim) keys and values every query also attends to
        (P-Tuning v2), placed before the sequence's own; they carry no position (no RoPE).
        query_input: (batch, q_len, dim) the queries are projected from instead of x (PanGu-Alpha's top query layer,
        whose queries are learned position embeddings; T5's cross-attention, whose keys and values come from the
        encoder output x); the output has q_len rows."""
        query, key, value = self._project(x, freqs, query_input)
        if fill_cache:
            key, value = self.kv_cache.fill(key, value)
        if prefix_key_value is not None:
            key = ops.concat((ops.cast(prefix_key_value[0], key.dtype), key), 2)
            value = ops.concat((ops.cast(prefix_key_value[1], value.dtype), value), 2)
            prefix_bias = ops.zeros(bias.shape[:-1] + (prefix_key_value.shape[3],), bias.dtype)
            bias = ops.concat((prefix_bias, bias), -1)
        return self._attend(query, key, value, bias)

    def _attend(self, query, key, value, bias):
        """query (batch, heads, q_len, head_dim) over key/value (batch, kv_heads, kv_len, head_dim) -> the output
        projection of the context, (batch, q_len, dim)."""
        bsz, _, q_len, _ = query.shape
        key = self._repeat_kv(key)
        value = self._repeat_kv(value)
        # scores: (batch, heads, q_len, kv_len)
        scores = self.batch_matmul_t(query, key) * self.scale
        probs = self._probs(scores, bias, value.dtype)
        context = self.batch_matmul(probs, value)                     # (batch, heads, q_len, head_dim)
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (bsz, q_len, self.n_heads * self.head_dim))
        return self.wo(context)

    def fill_kv(self, kv_input):
        """Cross-attention under a KV cache: project `kv_input` (batch, kv_len, dim) (the encoder output; kv_len
        equals the cache length) to keys/values and store them; `attend_cache` then reads them every step."""
        key = self._heads(self.wk(kv_input), self.n_kv_heads)
        value = self._heads(self.wv(kv_input), self.n_kv_heads)
        return self.kv_cache.fill(key, value)

    def attend_cache(self, x, bias):
        """Queries from x (batch, q_len, dim) over every key/value `fill_kv` stored; bias broadcastable to
        (batch, heads, q_len, kv_len)."""
        query = self._heads(self.wq(x), self.n_heads)
        key, value = self.kv_cache.read()
        return self._attend(query, ops.cast(key, query.dtype), ops.cast(value, query.dtype), bias)

    def decode(self, x, bias, freqs=None, position=None, query_input=None):
        """One new token per row. x: (batch, 1, dim); position: (batch,) int32; bias: additive over the cache
        slots, (batch|1, 1, 1, max_seq) or per head (batch|1, heads, 1, max_seq); freqs: (cos, sin) of shape
        (batch, 1, 1, rotary_dim) at each row's position."""
        bsz = x.shape[0]
        query, key, value = self._project(x, freqs, query_input)                         # (b, heads, 1, hd)
        key_cache, value_cache = self.kv_cache.update(key, value, position)             # (b, kv, seq, hd)
        # group query heads by their KV head instead of copying the cache n_rep times
        query = ops.reshape(query, (bsz, self.n_kv_heads, self.n_rep, self.head_dim))
        if bias.shape[1] != 1:
            bias = ops.reshape(bias, (bias.shape[0], self.n_kv_heads, self.n_rep, bias.shape[-1]))
        scores = self.batch_matmul_t(query, key_cache) * self.scale                     # (b, kv, rep, seq)
        probs = self._probs(scores, bias, value_cache.dtype)
        context = self.batch_matmul(probs, value_cache)                                 # (b, kv, rep, hd)
        return self.wo(ops.reshape(context, (bsz, 1, self.n_heads * self.head_dim)))


CausalSelfAttention = MultiHeadAttention
