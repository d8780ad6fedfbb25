"""The pre-norm transformer block every decoder shares, the forward of a RoPE decoder trunk, and the walk that
applies parallel_config to a trunk."""
from mindspore import nn, ops

from mindformers.modules.attention import MultiHeadAttention
from mindformers.modules.feed_forward import FeedForward
from mindformers.modules.masks import decode_mask
from mindformers.modules.normalization import LayerNorm
from mindformers.tools.errors import ConfigError


class DropPath(nn.Cell):
    """Stochastic depth: in training, each sample's input is zeroed with probability `rate`, else scaled by
    1 / (1 - rate); in eval it passes unchanged."""

    def __init__(self, rate):
        super().__init__()
        if not 0 <= rate < 1:
            raise ConfigError(f"drop_path_rate must be in [0, 1), got {rate!r}")
        self.dropout = nn.Dropout(p=rate)

    def construct(self, x):
        if not self.training:
            return x
        keep = self.dropout(ops.ones((x.shape[0],) + (1,) * (x.ndim - 1), x.dtype))
        return x * keep


class TransformerBlock(nn.Cell):
    """h = x + drop(attention(attention_norm(x))); out = h + drop(feed_forward(ffn_norm(h))).

    With `norm_position='post'` (BERT) each norm comes after its residual instead:
    h = attention_norm(x + drop(attention(x))); out = ffn_norm(h + drop(feed_forward(h))).

    With `norm_residual_scale` (GLM's DeepNorm) the residual is the normed input times that scale instead of
    the input: h = attention_norm(x) * s + drop(attention(...)), out = ffn_norm(h) * s + drop(feed_forward(...)).

    With `cross_attention` (a seq2seq decoder block, T5; pre-norm only) a third residual sits between the two:
    h = h + drop(cross_attention(queries cross_attention_norm(h), keys/values the encoder output)).
    With `drop_path_rate` (stochastic depth: ViT, Swin) each residual branch of a training sample is dropped
    whole with that probability and the kept ones are scaled by 1 / (1 - rate).
    The family builds the parts (so it picks the norm, the attention's position scheme and the MLP)
    and passes them in; their child names are the same for every family.
    """

    def __init__(self, attention_norm, attention, ffn_norm, feed_forward, hidden_dropout=0.0,
                 norm_residual_scale=None, norm_position='pre', cross_attention_norm=None, cross_attention=None,
                 drop_path_rate=0.0):
        super().__init__()
        if norm_position not in ('pre', 'post'):
            raise ConfigError(f"norm_position must be 'pre' or 'post', got {norm_position!r}")
        if norm_position == 'post' and norm_residual_scale is not None:
            raise ConfigError("norm_residual_scale needs norm_position='pre'")
        if (cross_attention is None) != (cross_attention_norm is None):
            raise ConfigError("cross_attention and cross_attention_norm come together")
        if cross_attention is not None and (norm_position == 'post' or norm_residual_scale is not None):
            raise ConfigError("cross_attention needs the plain pre-norm residual")
        self.post_norm = norm_position == 'post'
        self.attention_norm = attention_norm
        self.attention = attention
        self.has_cross_attention = cross_attention is not None
        if self.has_cross_attention:
            self.cross_attention_norm = cross_attention_norm
            self.cross_attention = cross_attention
        self.ffn_norm = ffn_norm
        self.feed_forward = feed_forward
        self.ffn_adapter = None          # a PET bottleneck adapter on the MLP output (AdaAdapter sets it)
        self.hidden_dropout = nn.Dropout(p=hidden_dropout) if hidden_dropout else None
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate else None
        self.norm_residual_scale = norm_residual_scale

    def _residual(self, x, normed, branch):
        if self.hidden_dropout is not None:
            branch = self.hidden_dropout(branch)
        if self.drop_path is not None:
            branch = self.drop_path(branch)
        if self.norm_residual_scale is not None:
            return normed * self.norm_residual_scale + branch
        return x + branch

    def _ffn(self, x):
        out = self.feed_forward(x)
        return out if self.ffn_adapter is None else self.ffn_adapter(out)

    def _cross(self, h, encoder_output, cross_bias):
        """The cross-attention residual: keys/values from `encoder_output`, or from the cross KV cache (filled by
        `fill_cross_cache`) when it is None."""
        normed = self.cross_attention_norm(h)
        if encoder_output is None:
            return self._residual(h, normed, self.cross_attention.attend_cache(normed, cross_bias))
        return self._residual(h, normed, self.cross_attention(encoder_output, cross_bias, query_input=normed))

    def fill_cross_cache(self, encoder_output):
        return self.cross_attention.fill_kv(encoder_output)

    def construct(self, x, bias, freqs=None, fill_cache=False, prefix_key_value=None, query_input=None,
                  encoder_output=None, cross_bias=None):
        """query_input: the attention's queries come from it instead of the normed x (PanGu-Alpha's top query
        layer). encoder_output / cross_bias: the cross-attention's keys/values source (None: its KV cache) and
        additive bias (the encoder's padding)."""
        if self.post_norm:
            h = self.attention_norm(self._residual(x, x, self.attention(x, bias, freqs, fill_cache, prefix_key_value,
                                                                         query_input)))
            return self.ffn_norm(self._residual(h, h, self._ffn(h)))
        normed = self.attention_norm(x)
        h = self._residual(x, normed, self.attention(normed, bias, freqs, fill_cache, prefix_key_value, query_input))
        if self.has_cross_attention:
            h = self._cross(h, encoder_output, cross_bias)
        normed = self.ffn_norm(h)
        return self._residual(h, normed, self._ffn(normed))

    def decode(self, x, bias, freqs=None, position=None, query_input=None, cross_bias=None):
        if self.post_norm:
            h = self.attention_norm(self._residual(x, x, self.attention.decode(x, bias, freqs, position, query_input)))
            return self.ffn_norm(self._residual(h, h, self._ffn(h)))
        normed = self.attention_norm(x)
        h = self._residual(x, normed, self.attention.decode(normed, bias, freqs, position, query_input))
        if self.has_cross_attention:
            h = self._cross(h, None, cross_bias)
        normed = self.ffn_norm(h)
        return self._residual(h, normed, self._ffn(normed))

    def shard(self, dp, mp):
        self.attention_norm.shard((dp, 1, 1))
        self.ffn_norm.shard((dp, 1, 1))
        self.attention.shard(dp, mp)
        if self.has_cross_attention:
            self.cross_attention_norm.shard((dp, 1, 1))
            self.cross_attention.shard(dp, mp)
        self.feed_forward.shard(dp, mp)
        return self


class RotaryDecoderTrunk(nn.Cell):
    """The forward of a decoder whose positions are all RoPE (LLaMA, Qwen2, ChatGLM2): token embedding ->
    blocks under a causal mask -> final norm. The family's __init__ builds `tok_embeddings`, `layers`, `norm_out`
    (None: no final norm), `rotary` (a RotaryEmbedding), `mask` (causal_mask), `compute_dtype` and `config`."""

    def _final_norm(self, h):
        return h if self.norm_out is None else self.norm_out(h)

    def construct(self, tokens, fill_cache=False, prefix_key_values=None):
        """prefix_key_values: None, or (layers, 2, batch, kv_heads, prefix_len, head_dim) (P-Tuning v2)."""
        seq_len = tokens.shape[1]
        h = ops.cast(self.tok_embeddings(tokens), self.compute_dtype)
        freqs = self.rotary.prefill(seq_len)
        mask = self.mask[:seq_len, :seq_len]
        for index, layer in enumerate(self.layers):
            prefix = None if prefix_key_values is None else prefix_key_values[index]
            h = layer(h, mask, freqs, fill_cache, prefix)
        return self._final_norm(h)

    def decode(self, tokens, position):
        """tokens: (batch, 1) at `position` (batch,) of each row; the KV caches hold every earlier slot."""
        h = ops.cast(self.tok_embeddings(tokens), self.compute_dtype)
        freqs = self.rotary.decode(position)
        mask = decode_mask(position, self.config.seq_length)
        for layer in self.layers:
            h = layer.decode(h, mask, freqs, position)
        return self._final_norm(h)


def layernorm_block(hidden_size, num_heads, ffn_hidden_size, hidden_act='gelu', layer_norm_epsilon=1e-5,
                    attention_dropout=0.0, hidden_dropout=0.0, layernorm_compute_type='float32',
                    softmax_compute_type='float32', param_init_type='float32', compute_dtype='float32',
                    use_past=False, batch_size=1, max_seq_length=None, norm_position='pre', qkv_has_bias=True,
                    drop_path_rate=0.0):
    """The classic LayerNorm block with biases everywhere and a plain MLP: pre-norm (GPT-2, BLOOM, PanGu, CLIP
    text, ViT) or, with norm_position='post', post-norm (BERT). MHA has q/k/v/out biases; positions come in
    through `bias` or the embeddings."""
    dtypes = dict(param_init_type=param_init_type, compute_dtype=compute_dtype)
    norm = dict(eps=layer_norm_epsilon, compute_type=layernorm_compute_type, param_init_type=param_init_type)
    attention = MultiHeadAttention(hidden_size, num_heads, qkv_has_bias=qkv_has_bias, out_has_bias=True,
                                   attention_dropout=attention_dropout, softmax_compute_type=softmax_compute_type,
                                   use_past=bool(use_past), batch_size=batch_size, max_seq_length=max_seq_length,
                                   **dtypes)
    feed_forward = FeedForward(hidden_size, ffn_hidden_size, hidden_act, has_bias=True, **dtypes)
    return TransformerBlock(LayerNorm(hidden_size, **norm), attention, LayerNorm(hidden_size, **norm), feed_forward,
                            hidden_dropout=hidden_dropout, norm_position=norm_position, drop_path_rate=drop_path_rate)


def apply_parallel_config(parallel_config, blocks, first=(), last=(), num_heads=None, num_kv_heads=None):
    """Declare upstream's shard strategies, each block's pipeline stage and its recompute setting.

    `first` cells (embeddings) go to stage 0, `last` cells (final norm) to the last stage; the blocks are
    spread evenly. Heads must divide model_parallel, or the split is impossible.
    """
    dp, mp = parallel_config.data_parallel, parallel_config.model_parallel
    stages = parallel_config.pipeline_stage
    for name, heads in (('num_heads', num_heads), ('n_kv_heads', num_kv_heads)):
        if heads is not None and heads % mp:
            raise ConfigError(f"num_heads {num_heads} / n_kv_heads {num_kv_heads} must be divisible by "
                              f"parallel_config.model_parallel {mp} ({name} is not)")
    for cell in first:
        cell.pipeline_stage = 0
    per_stage = -(-len(blocks) // stages)  # ceil
    recompute = getattr(parallel_config.recompute, 'recompute', False)
    for layer_id, block in enumerate(blocks):
        block.shard(dp, mp)
        block.pipeline_stage = min(layer_id // per_stage, stages - 1)
        if recompute:
            block.recompute()
    for cell in last:
        cell.shard((dp, 1, 1))
        cell.pipeline_stage = stages - 1
