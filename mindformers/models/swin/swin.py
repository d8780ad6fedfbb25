"""Swin Transformer: patch embedding (+ LayerNorm) -> stages of pre-norm blocks whose attention runs inside
non-overlapping windows (every second block's windows shifted by half a window, with a mask so that tokens from
different image regions do not attend to each other) and carries a learned relative position bias -> patch
merging between stages (2x2 neighbours concatenated, normalised, projected to twice the width) -> LayerNorm ->
mean over tokens -> linear classifier.

The blocks are the shared `TransformerBlock` (LayerNorm, GELU `FeedForward`, stochastic depth); the windowing, the
shift mask, the relative bias table and patch merging live here, as only Swin uses them. `construct(image,
target=None)` takes the dataset's columns by position, as upstream.
"""
import re

import numpy as np
import mindspore as ms
from mindspore import nn, ops, Parameter, Tensor
from mindspore.common.initializer import initializer, TruncatedNormal

from mindformers.models.base_model import BaseModel
from mindformers.models.image_classifier import ClassifierHeadMixin, init_linears
from mindformers.models.swin.swin_config import SwinConfig, SWIN_NAMES
from mindformers.modules.attention import MultiHeadAttention
from mindformers.modules.embeddings import PatchEmbedding
from mindformers.modules.feed_forward import FeedForward
from mindformers.modules.layers import Linear
from mindformers.modules.normalization import LayerNorm
from mindformers.modules.transformer import TransformerBlock
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['SwinWindowAttention', 'SwinPatchMerging', 'SwinBackbone', 'SwinModel', 'SwinForImageClassification']

SHIFT_MASK_VALUE = -100.0   # the original Swin's (and Hugging Face's) value for pairs across shifted regions


def relative_position_index(window):
    """(window^2, window^2) int32: the row of the (2w-1)^2 bias table for every (query, key) pair of a window."""
    coords = np.stack(np.meshgrid(np.arange(window), np.arange(window), indexing='ij')).reshape(2, -1)
    relative = (coords[:, :, None] - coords[:, None, :]).transpose(1, 2, 0) + (window - 1)
    return (relative[:, :, 0] * (2 * window - 1) + relative[:, :, 1]).astype(np.int32)


def shift_mask(resolution, window, shift):
    """(windows, window^2, window^2) float32 additive mask of a shifted-window block: 0 inside one region of the
    rolled image, SHIFT_MASK_VALUE across regions."""
    regions = np.zeros((resolution, resolution), np.float32)
    count = 0
    for rows in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
        for cols in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
            regions[rows, cols] = count
            count += 1
    side = resolution // window
    windows = regions.reshape(side, window, side, window).transpose(0, 2, 1, 3).reshape(-1, window * window)
    differs = windows[:, None, :] != windows[:, :, None]
    return np.where(differs, SHIFT_MASK_VALUE, 0.0).astype(np.float32)


class SwinWindowAttention(MultiHeadAttention):
    """Multi-head attention inside windows of a (resolution x resolution) token grid, with a learned relative
    position bias (`relative_position_bias_table`, ((2w-1)^2, heads)) and, when `shift` > 0, the grid rolled by
    -shift first (and back after) plus the shift mask. `construct(x (b, resolution^2, dim), bias=None, ...)`."""

    def __init__(self, dim, num_heads, window, resolution, shift, qkv_bias=True, attention_dropout=0.0,
                 softmax_compute_type='float32', param_init_type='float32', compute_dtype='float32',
                 initializer_range=0.02):
        super().__init__(dim, num_heads, qkv_has_bias=qkv_bias, out_has_bias=True, attention_dropout=attention_dropout,
                         softmax_compute_type=softmax_compute_type, param_init_type=param_init_type,
                         compute_dtype=compute_dtype)
        self.window = window
        self.resolution = resolution
        self.shift = shift
        self.dim = dim
        self.num_windows = (resolution // window) ** 2
        self.relative_position_bias_table = Parameter(
            initializer(TruncatedNormal(sigma=initializer_range), ((2 * window - 1) ** 2, num_heads),
                        runtime_dtype(param_init_type, 'param_init_type')), name='relative_position_bias_table')
        self.position_index = Tensor(relative_position_index(window).reshape(-1), ms.int32)
        self.shift_mask = Tensor(shift_mask(resolution, window, shift)[:, None], ms.float32) if shift else None

    def _roll(self, grid, offset):
        """Cyclic shift of a (b, side, side, c) grid by `offset` along both spatial axes."""
        cut = offset % self.resolution
        grid = ops.concat((grid[:, cut:], grid[:, :cut]), 1)
        return ops.concat((grid[:, :, cut:], grid[:, :, :cut]), 2)

    def window_bias(self, batch):
        """(batch * windows, heads, w^2, w^2): the relative position bias (+ the shift mask)."""
        tokens = self.window * self.window
        table = ops.gather(self.relative_position_bias_table, self.position_index, 0)       # (w^4, heads)
        bias = ops.expand_dims(ops.transpose(ops.reshape(table, (tokens, tokens, -1)), (2, 0, 1)), 0)
        bias = ops.cast(bias, ms.float32)
        if self.shift_mask is not None:
            bias = bias + self.shift_mask                                                # (windows, heads, .., ..)
        else:
            bias = ops.broadcast_to(bias, (self.num_windows,) + bias.shape[1:])
        return ops.tile(bias, (batch, 1, 1, 1))

    def construct(self, x, bias=None, freqs=None, fill_cache=False, prefix_key_value=None, query_input=None):
        batch, side, window = x.shape[0], self.resolution, self.window
        grid = ops.reshape(x, (batch, side, side, self.dim))
        if self.shift:
            grid = self._roll(grid, self.shift)
        windows = ops.reshape(grid, (batch, side // window, window, side // window, window, self.dim))
        windows = ops.reshape(ops.transpose(windows, (0, 1, 3, 2, 4, 5)), (-1, window * window, self.dim))
        out = super().construct(windows, self.window_bias(batch))
        out = ops.reshape(out, (batch, side // window, side // window, window, window, self.dim))
        grid = ops.reshape(ops.transpose(out, (0, 1, 3, 2, 4, 5)), (batch, side, side, self.dim))
        if self.shift:
            grid = self._roll(grid, -self.shift)
        return ops.reshape(grid, (batch, side * side, self.dim))


class SwinPatchMerging(nn.Cell):
    """(b, side^2, c) -> (b, (side/2)^2, 2c): each 2x2 neighbourhood concatenated (top-left, bottom-left,
    top-right, bottom-right), `norm` over 4c, `reduction` to 2c without a bias."""

    def __init__(self, resolution, dim, eps, param_init_type, compute_dtype, layernorm_compute_type, std):
        super().__init__()
        self.resolution = resolution
        self.dim = dim
        self.norm = LayerNorm(4 * dim, eps, layernorm_compute_type, param_init_type)
        self.reduction = Linear(4 * dim, 2 * dim, has_bias=False, weight_init=TruncatedNormal(sigma=std),
                                param_init_type=param_init_type, compute_dtype=compute_dtype)

    def construct(self, x):
        batch, side = x.shape[0], self.resolution
        grid = ops.reshape(x, (batch, side // 2, 2, side // 2, 2, self.dim))   # (b, row, dy, col, dx, c)
        # concatenation order (dy, dx) = (0, 0), (1, 0), (0, 1), (1, 1): dx outer, dy inner
        grid = ops.transpose(grid, (0, 1, 3, 4, 2, 5))
        merged = ops.reshape(grid, (batch, (side // 2) ** 2, 4 * self.dim))
        return self.reduction(self.norm(merged))


class SwinStage(nn.Cell):
    """`blocks` at one resolution, then (but for the last stage) `downsample`."""

    def __init__(self, blocks, downsample):
        super().__init__()
        self.blocks = nn.CellList(blocks)
        self.downsample = downsample

    def construct(self, x):
        for block in self.blocks:
            x = block(x, None)
        if self.downsample is not None:
            x = self.downsample(x)
        return x


class SwinBackbone(nn.Cell):
    """`construct(image)` -> the pooled vector (b, num_features); `construct_without_pool(image)` -> the last
    stage's tokens after the final norm (b, tokens, num_features)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        std = config.initializer_range
        dtypes = dict(param_init_type=config.param_init_type, compute_dtype=config.compute_dtype)
        eps = config.layer_norm_eps
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')
        self.patch_embed = PatchEmbedding(config.image_size, config.patch_size, config.num_channels,
                                          config.embed_dim, owner='SwinConfig', **dtypes)
        self.patch_norm = LayerNorm(config.embed_dim, eps, config.layernorm_compute_type, config.param_init_type) \
            if config.patch_norm else None
        self.pos_embed = Parameter(initializer(TruncatedNormal(sigma=std), (1, self.patch_embed.num_patches,
                                                                            config.embed_dim)),
                                   name='pos_embed') if config.use_absolute_embeddings else None
        self.dropout = nn.Dropout(p=config.hidden_dropout_prob) if config.hidden_dropout_prob else None
        rates = iter(np.linspace(0, config.drop_path_rate, sum(config.depths)).tolist())
        stages = []
        resolutions = config.stage_resolutions()
        for index, (depth, heads, side) in enumerate(zip(config.depths, config.num_heads, resolutions)):
            dim = config.embed_dim * 2 ** index
            window = min(config.window_size, side)
            blocks = []
            for number in range(depth):
                shift = window // 2 if number % 2 and side > window else 0
                attention = SwinWindowAttention(dim, heads, window, side, shift, config.qkv_bias,
                                                config.attention_probs_dropout_prob, config.softmax_compute_type,
                                                initializer_range=std, **dtypes)
                feed_forward = FeedForward(dim, int(dim * config.mlp_ratio), config.hidden_act, has_bias=True,
                                           **dtypes)
                norm = dict(eps=eps, compute_type=config.layernorm_compute_type,
                            param_init_type=config.param_init_type)
                blocks.append(TransformerBlock(LayerNorm(dim, **norm), attention, LayerNorm(dim, **norm),
                                               feed_forward, hidden_dropout=config.hidden_dropout_prob,
                                               drop_path_rate=next(rates)))
            downsample = SwinPatchMerging(side, dim, eps, config.param_init_type, config.compute_dtype,
                                          config.layernorm_compute_type, std) \
                if index < len(config.depths) - 1 else None
            stages.append(SwinStage(blocks, downsample))
        self.stages = nn.CellList(stages)
        self.norm = LayerNorm(config.num_features, eps, config.layernorm_compute_type, config.param_init_type)
        init_linears(self, std)   # Swin's initialisation

    def construct_without_pool(self, image):
        h = ops.cast(self.patch_embed(image), self.compute_dtype)
        if self.patch_norm is not None:
            h = self.patch_norm(h)
        if self.pos_embed is not None:
            h = h + ops.cast(self.pos_embed, h.dtype)
        if self.dropout is not None:
            h = self.dropout(h)
        for stage in self.stages:
            h = stage(h)
        return self.norm(h)

    def construct(self, image):
        return ops.mean(self.construct_without_pool(image), 1)


class _SwinTaskModel(BaseModel):
    """A BaseModel holding the encoder as `swin`."""
    config_class = SwinConfig
    _support_list = SWIN_NAMES

    def __init__(self, config=None):
        config = config if config is not None else SwinConfig()
        super().__init__(config)
        self.swin = SwinBackbone(config)

    def no_weight_decay_keywords(self):
        """Parameters AdamW leaves undecayed besides biases and norms (the original Swin's list)."""
        return ('relative_position_bias_table', 'pos_embed')

    def layer_id(self, name):
        """Layer of a parameter for layer-wise learning rates: 0 the patch embedding, 1.. the blocks counted over
        all stages (a stage's patch merging goes with its last block), L + 1 the final norm and the head."""
        depths = self.config.depths
        match = re.search(r'\.stages\.(\d+)\.(?:blocks\.(\d+)|downsample)\.', name)
        if match:
            stage = int(match.group(1))
            block = int(match.group(2)) if match.group(2) is not None else depths[stage] - 1
            return sum(depths[:stage]) + block + 1
        if 'patch_embed' in name or 'patch_norm' in name or 'pos_embed' in name:
            return 0
        return sum(depths) + 1


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class SwinModel(_SwinTaskModel):
    """The bare encoder as a model: `construct(image)` -> the pooled vector (b, num_features)."""

    def __init__(self, config=None):
        super().__init__(config)
        self.load_checkpoint(self.config)

    def construct(self, image):
        return self.swin(image)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class SwinForImageClassification(ClassifierHeadMixin, _SwinTaskModel):
    """Pooled vector -> `head` (num_features -> num_labels). Train: cross entropy with `target`, class ids (b,) or
    soft targets (b, num_labels). Eval with a target: (logits, target) for Accuracy; without: logits."""
    checkpoint_optional_keys = ('head.',)

    def __init__(self, config=None):
        super().__init__(config)
        cfg = self.config
        self.build_head(cfg.num_features, cfg.num_labels, cfg.initializer_range, cfg.param_init_type)
        self.load_checkpoint(cfg)

    def construct(self, image, target=None):
        return self.classify(self.swin(image), target)
