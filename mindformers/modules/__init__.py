"""Shared layers (one copy each: attention, norms, MLPs, embeddings, position schemes, KV cache, blocks) and
upstream's public `mindformers.modules` API. The upstream names load on first use, so importing one layer module
does not build the whole API."""
import importlib

_EXPORTS = {
    'AttentionMask': 'transformer', 'AttentionMaskHF': 'transformer', 'LowerTriangularMaskWithDynamic': 'transformer',
    'VocabEmbedding': 'transformer', 'MultiHeadAttention': 'transformer', 'FeedForward': 'transformer',
    'TransformerEncoder': 'transformer', 'TransformerDecoder': 'transformer',
    'TransformerEncoderLayer': 'transformer', 'TransformerDecoderLayer': 'transformer', 'Transformer': 'transformer',
    'TransformerOpParallelConfig': 'transformer', 'EmbeddingOpParallelConfig': 'transformer',
    'TransformerRecomputeConfig': 'transformer', 'OpParallelConfig': 'transformer', 'MoEConfig': 'transformer',
    'FixedSparseAttention': 'layers', 'Dropout': 'layers', 'LayerNorm': 'layers', 'Linear': 'layers',
    'LocalBlockSparseAttention': 'local_block_sparse_attention',
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mindformers.modules' has no attribute '{name}'")
    value = getattr(importlib.import_module(f'{__name__}.{_EXPORTS[name]}'), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
