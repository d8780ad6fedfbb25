"""Lookup tables: token embeddings (`embedding_weight` (vocab, dim)) and learned absolute position embeddings."""
from mindspore import nn, ops, Parameter
from mindspore.common.initializer import initializer, Normal

from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.errors import ConfigError


class VocabEmbedding(nn.Cell):
    """Token id -> vector; the table is `embedding_weight` (vocab_table_size, embedding_size)."""

    def __init__(self, vocab_table_size, embedding_size, param_init_type='float32', init_std=0.02):
        super().__init__()
        self.vocab_table_size = vocab_table_size
        self.embedding_size = embedding_size
        self.embedding_weight = Parameter(
            initializer(Normal(sigma=init_std), (vocab_table_size, embedding_size),
                        runtime_dtype(param_init_type, 'param_init_type')), name='embedding_weight')
        self.gather = ops.Gather()

    def shard(self, strategy):
        self.gather.shard(strategy)
        return self

    def construct(self, input_ids):
        return self.gather(self.embedding_weight, input_ids, 0)


class LearnedPositionEmbedding(VocabEmbedding):
    """Absolute positions 0..max_positions-1 -> vectors added to the token embeddings (GPT-2, BERT, ...).

    `prefill(seq_len)` is the (1, seq_len, dim) slice for a whole sequence; `construct(position)` looks up
    explicit positions, e.g. (batch, 1) during decode.
    """

    def __init__(self, max_positions, embedding_size, param_init_type='float32', init_std=0.02, seq_length=None,
                 owner='model'):
        if seq_length is not None and seq_length > max_positions:
            raise ConfigError(f"{owner}: seq_length {seq_length} is larger than the {max_positions} learned "
                              f"positions (max_position_embeddings); lower seq_length or raise "
                              f"max_position_embeddings")
        super().__init__(max_positions, embedding_size, param_init_type, init_std)

    def prefill(self, seq_len):
        return ops.expand_dims(self.embedding_weight[:seq_len], 0)
