"""Transformer MLPs: the plain FeedForward w2(act(w1 x)) and the gated w2(act(w1 x) * w3 x) (SwiGLU with silu)."""
from mindspore import nn, ops

from mindformers.modules.activation import get_activation
from mindformers.modules.layers import Linear


class FeedForward(nn.Cell):
    """w1 = up projection (dim -> hidden), `activation`, w2 = down projection, then dropout (GPT-2, BLOOM, BERT)."""

    def __init__(self, dim, hidden_dim, activation='gelu', has_bias=True, dropout_rate=0.0,
                 param_init_type='float32', compute_dtype='float32'):
        super().__init__()
        dtypes = dict(param_init_type=param_init_type, compute_dtype=compute_dtype)
        self.w1 = Linear(dim, hidden_dim, has_bias=has_bias, **dtypes)
        self.w2 = Linear(hidden_dim, dim, has_bias=has_bias, **dtypes)
        self.activation = get_activation(activation)
        self.dropout = nn.Dropout(p=dropout_rate)

    def shard(self, dp, mp):
        """Megatron-style: up split by output columns, down by input rows."""
        self.w1.shard(((dp, 1), (mp, 1)), ((dp, mp), (mp,)))
        self.w2.shard(((dp, mp), (1, mp)), ((dp, 1), (1,)))
        return self

    def construct(self, x):
        return self.dropout(self.w2(self.activation(self.w1(x))))


class SwiGLUFeedForward(nn.Cell):
    """Gated MLP used by LLaMA-style models; w1 = gate, w3 = up, w2 = down projection. `activation` of the gate is
    silu (SwiGLU) unless given (T5 v1.1's gated-gelu: 'gelu')."""

    def __init__(self, dim, hidden_dim, has_bias=False, param_init_type='float32', compute_dtype='float32',
                 activation='silu'):
        super().__init__()
        self.gate_activation = None if activation == 'silu' else get_activation(activation)
        self.w1 = Linear(dim, hidden_dim, has_bias=has_bias, param_init_type=param_init_type,
                         compute_dtype=compute_dtype)
        self.w3 = Linear(dim, hidden_dim, has_bias=has_bias, param_init_type=param_init_type,
                         compute_dtype=compute_dtype)
        self.w2 = Linear(hidden_dim, dim, has_bias=has_bias, param_init_type=param_init_type,
                         compute_dtype=compute_dtype)

        self.mul = ops.Mul()

    def shard(self, dp, mp):
        """Megatron-style: gate/up split by output columns, down by input rows (upstream's strategies)."""
        self.w1.shard(((dp, 1), (mp, 1)))
        self.w3.shard(((dp, 1), (mp, 1)))
        self.w2.shard(((dp, mp), (1, mp)))
        self.mul.shard(((dp, mp), (dp, mp)))
        return self

    def construct(self, x):
        gate = self.w1(x)
        gate = gate * ops.sigmoid(gate) if self.gate_activation is None else self.gate_activation(gate)
        return self.w2(self.mul(gate, self.w3(x)))
