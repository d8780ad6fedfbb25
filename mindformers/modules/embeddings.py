"""Lookup tables (token embeddings `embedding_weight` (vocab, dim), learned absolute positions) and the patch
embedding of vision transformers."""
import numpy as np
from mindspore import nn, ops, Parameter
from mindspore.common.initializer import initializer, Normal, XavierUniform

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
        self.strategy_gather = None

    def shard(self, strategy):
        """((table splits), (index splits)), e.g. ((mp, 1), (dp, 1)); kept as metadata where nothing compiles it."""
        self.strategy_gather = strategy
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


class PatchEmbedding(nn.Cell):
    """Image (b, c, H, W) -> patch vectors (b, (H/p)*(W/p), dim), row-major over the patch grid.

    `proj.weight` is (dim, c, p, p) and `proj.bias` (dim,), the layout of a stride-p Conv2d (Hugging Face and
    upstream checkpoints). Because the stride equals the kernel the convolution is a matmul over the flattened
    patches, which is how it is computed here (faster than Conv2d on the CPU backend, same numbers).
    """

    def __init__(self, image_size, patch_size, in_channels, embed_dim, has_bias=True, param_init_type='float32',
                 compute_dtype='float32', owner='model'):
        super().__init__()
        image_size = _pair(image_size, 'image_size', owner)
        patch_size = _pair(patch_size, 'patch_size', owner)
        for side, (size, patch) in zip(('height', 'width'), zip(image_size, patch_size)):
            if size % patch:
                raise ConfigError(f"{owner}: image_size {size} ({side}) is not divisible by patch_size {patch}; "
                                  f"pick a patch_size that divides the image size")
        self.image_size = image_size
        self.patch_size = patch_size
        self.in_channels = in_channels
        self.embed_dim = embed_dim
        self.grid = (image_size[0] // patch_size[0], image_size[1] // patch_size[1])
        self.num_patches = self.grid[0] * self.grid[1]
        self.proj = _PatchProjection(embed_dim, in_channels, patch_size, has_bias, param_init_type, compute_dtype)

    def construct(self, image):
        batch = image.shape[0]
        (gh, gw), (ph, pw) = self.grid, self.patch_size
        x = ops.reshape(image, (batch, self.in_channels, gh, ph, gw, pw))
        x = ops.transpose(x, (0, 2, 4, 1, 3, 5))                                   # (b, gh, gw, c, ph, pw)
        x = ops.reshape(x, (batch, self.num_patches, self.in_channels * ph * pw))
        return self.proj(x)


class _PatchProjection(nn.Cell):
    """The Conv2d-shaped weight of PatchEmbedding applied to flattened patches."""

    def __init__(self, embed_dim, in_channels, patch_size, has_bias, param_init_type, compute_dtype):
        super().__init__()
        dtype = runtime_dtype(param_init_type, 'param_init_type')
        fan_in = in_channels * patch_size[0] * patch_size[1]
        self.weight = Parameter(initializer(XavierUniform(), (embed_dim, in_channels) + tuple(patch_size), dtype),
                                name='weight')
        self.bias = Parameter(initializer('zeros', (embed_dim,), dtype), name='bias') if has_bias else None
        self.fan_in = fan_in
        self.embed_dim = embed_dim
        self.compute_dtype = runtime_dtype(compute_dtype, 'compute_dtype')
        self.matmul = ops.MatMul(transpose_b=True)

    def construct(self, patches):
        shape = patches.shape[:-1] + (self.embed_dim,)
        flat = ops.reshape(ops.cast(patches, self.compute_dtype), (-1, self.fan_in))
        weight = ops.reshape(ops.cast(self.weight, self.compute_dtype), (self.embed_dim, self.fan_in))
        out = self.matmul(flat, weight)
        if self.bias is not None:
            out = out + ops.cast(self.bias, self.compute_dtype)
        return ops.reshape(out, shape)


def _pair(value, name, owner):
    pair = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair):
        raise ConfigError(f"{owner}: {name} must be a positive integer or a pair of them, got {value!r}")
    return pair


def sincos_2d_table(dim, grid_size, cls_token=False):
    """The fixed 2-D sine-cosine position table of MAE, (grid_size^2 [+ 1], dim) float32: half of the channels
    encode the column, half the row (each sin then cos over frequencies 1 / 10000^(2i/d)); with `cls_token` a row of
    zeros comes first."""
    if dim % 4:
        raise ConfigError(f"a 2-D sine-cosine position table needs a width divisible by 4, got {dim}")
    columns, rows = np.meshgrid(np.arange(grid_size, dtype=np.float64), np.arange(grid_size, dtype=np.float64))

    def one_axis(positions):
        omega = 1.0 / 10000 ** (np.arange(dim // 4, dtype=np.float64) / (dim / 4))
        angles = positions.reshape(-1)[:, None] * omega[None]
        return np.concatenate([np.sin(angles), np.cos(angles)], 1)

    table = np.concatenate([one_axis(columns), one_axis(rows)], 1)
    if cls_token:
        table = np.concatenate([np.zeros((1, dim)), table], 0)
    return table.astype(np.float32)
