"""The transformer blocks the families share (blocks.py) and upstream's MindSpore-parallel-style transformer API
(transformer.py: Transformer, TransformerEncoder/Decoder(Layer), MultiHeadAttention, FeedForward, VocabEmbedding,
the attention masks and the parallel config classes)."""
from .blocks import DropPath, TransformerBlock, RotaryDecoderTrunk, layernorm_block, apply_parallel_config
from .op_parallel_config import OpParallelConfig
from .moe import MoEConfig
from .transformer import (AttentionMask, AttentionMaskHF, LowerTriangularMaskWithDynamic, VocabEmbedding,
                          MultiHeadAttention, FeedForward, TransformerEncoder, TransformerDecoder,
                          TransformerEncoderLayer, TransformerDecoderLayer, Transformer, TransformerOpParallelConfig,
                          EmbeddingOpParallelConfig, TransformerRecomputeConfig)
from .transformer import __all__ as _transformer_all

__all__ = list(_transformer_all) + ['OpParallelConfig', 'MoEConfig']
