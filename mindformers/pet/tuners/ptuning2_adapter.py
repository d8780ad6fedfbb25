"""P-Tuning v2 prefixes: Ptuning2Encoder makes, for every layer, the keys and values of `pre_seq_len` virtual
tokens that the attention puts before the sequence's own (MultiHeadAttention's `prefix_key_value`)."""
from mindspore import Parameter, nn, ops
from mindspore.common.initializer import Normal, initializer

from mindformers.modules.layers import Linear
from mindformers.tools.dtype import runtime_dtype

__all__ = ['Ptuning2Encoder']


class Ptuning2Encoder(nn.Cell):
    """`encoder(batch_size)` -> (num_layers, 2, batch, kv_heads, pre_seq_len, head_dim).

    The prefix vectors are a (pre_seq_len, ...) table, one row per prefix position (upstream's names
    `mindpet_delta_ptuning2_*`), optionally through Linear -> tanh -> Linear (`prefix_projection`), then dropout.
    """

    def __init__(self, pre_seq_len, num_layers, kv_heads, head_dim, prefix_projection=False, projection_dim=128,
                 dropout_prob=0.0, param_init_type='float32', compute_dtype='float32'):
        super().__init__()
        self.pre_seq_len, self.num_layers, self.kv_heads, self.head_dim = pre_seq_len, num_layers, kv_heads, head_dim
        out_dim = num_layers * 2 * kv_heads * head_dim
        self.compute_dtype = runtime_dtype(compute_dtype, 'compute_dtype')
        self.mindpet_delta_ptuning2_embedding = Parameter(
            initializer(Normal(0.02), (pre_seq_len, out_dim), runtime_dtype(param_init_type, 'param_init_type')),
            name='mindpet_delta_ptuning2_embedding')
        self.prefix_projection = prefix_projection
        if prefix_projection:
            linear = dict(param_init_type=param_init_type, compute_dtype=compute_dtype, has_bias=True)
            self.mindpet_delta_ptuning2_dense_in = Linear(out_dim, projection_dim, **linear)
            self.mindpet_delta_ptuning2_dense_out = Linear(projection_dim, out_dim, **linear)
        self.dropout = nn.Dropout(p=dropout_prob) if dropout_prob else None

    def construct(self, batch_size):
        prefix = ops.cast(self.mindpet_delta_ptuning2_embedding, self.compute_dtype)   # (pre_len, out_dim)
        if self.prefix_projection:
            prefix = self.mindpet_delta_ptuning2_dense_out(ops.tanh(self.mindpet_delta_ptuning2_dense_in(prefix)))
        if self.dropout is not None:
            prefix = self.dropout(prefix)
        prefix = ops.reshape(prefix, (self.pre_seq_len, self.num_layers, 2, self.kv_heads, self.head_dim))
        prefix = ops.transpose(prefix, (1, 2, 3, 0, 4))                          # (layers, 2, kv, pre_len, hd)
        prefix = ops.expand_dims(prefix, 2)
        return ops.broadcast_to(prefix, (self.num_layers, 2, batch_size, self.kv_heads, self.pre_seq_len,
                                         self.head_dim))
