"""MAE (masked autoencoder) pre-training of a ViT: a random `1 - mask_ratio` share of each image's patches is kept
and encoded (ViT blocks with fixed 2-D sine-cosine positions, [CLS] first); a light decoder puts mask tokens back in
the patches' original order, adds its own fixed positions and predicts every patch's pixels; the loss is the mean
squared error on the masked patches only, against per-patch normalised pixels when `norm_pixel_loss`.

The encoder keeps ViT's names under `vit.` (cls_tokens, pos_embed, patch_embed, layers, norm), so a pre-trained
checkpoint loads into ViTForImageClassification for fine-tuning. Built from `modules/` (a family never imports
another family). Masks come from the data (upstream's MaeMask columns `mask, ids_restore, unmask_index`) or are
drawn from `noise` (b, patches): the patches with the smallest noise are kept, as in the original and transformers.
"""
import mindspore as ms
from mindspore import nn, ops, Parameter, Tensor
from mindspore.common.initializer import initializer, Normal

from mindformers.models.base_model import BaseModel
from mindformers.models.image_classifier import init_linears
from mindformers.models.mae.mae_config import ViTMAEConfig, MAE_NAMES
from mindformers.modules.embeddings import PatchEmbedding, sincos_2d_table
from mindformers.modules.layers import Linear
from mindformers.modules.normalization import LayerNorm
from mindformers.modules.transformer import layernorm_block
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['ViTMAEModel', 'ViTMAEForPreTraining', 'random_masking']


def random_masking(noise, num_visible):
    """noise (b, n) -> (ids_keep (b, visible), mask (b, n) with 1 on masked patches, ids_restore (b, n)): the
    `num_visible` patches of lowest noise are kept."""
    ids_shuffle = ops.cast(ops.sort(noise, axis=1)[1], ms.int32)
    ids_restore = ops.cast(ops.sort(ops.cast(ids_shuffle, ms.float32), axis=1)[1], ms.int32)
    batch, count = noise.shape
    ordered = ops.concat((ops.zeros((batch, num_visible), ms.float32),
                          ops.ones((batch, count - num_visible), ms.float32)), 1)
    mask = ops.gather_elements(ordered, 1, ids_restore)
    return ids_shuffle[:, :num_visible], mask, ids_restore


def _gather_tokens(tokens, index):
    """tokens (b, n, d) at index (b, k) -> (b, k, d)."""
    index = ops.broadcast_to(ops.expand_dims(index, -1), index.shape + (tokens.shape[-1],))
    return ops.gather_elements(tokens, 1, index)


def _blocks(config, width, heads, inner, count):
    return nn.CellList([
        layernorm_block(width, heads, inner, config.hidden_act, config.layer_norm_eps,
                        config.attention_probs_dropout_prob, config.hidden_dropout_prob,
                        config.layernorm_compute_type, config.softmax_compute_type, config.param_init_type,
                        config.compute_dtype, qkv_has_bias=config.qkv_bias)
        for _ in range(count)])


def _fixed_table(width, grid, name):
    return Parameter(Tensor(sincos_2d_table(width, grid, cls_token=True)[None]), name=name, requires_grad=False)


class MAEEncoder(nn.Cell):
    """`construct(image, ids_keep)` -> (b, 1 + visible, hidden): [CLS] and the kept patches, encoded and normed."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        grid = config.image_size // config.patch_size
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')
        self.patch_embed = PatchEmbedding(config.image_size, config.patch_size, config.num_channels,
                                          config.hidden_size, param_init_type=config.param_init_type,
                                          compute_dtype=config.compute_dtype, owner='ViTMAEConfig')
        self.cls_tokens = Parameter(initializer(Normal(sigma=config.initializer_range), (1, 1, config.hidden_size),
                                                runtime_dtype(config.param_init_type, 'param_init_type')),
                                    name='cls_tokens')
        self.pos_embed = _fixed_table(config.hidden_size, grid, 'pos_embed')
        self.layers = _blocks(config, config.hidden_size, config.num_attention_heads, config.intermediate_size,
                              config.num_hidden_layers)
        self.norm = LayerNorm(config.hidden_size, config.layer_norm_eps, config.layernorm_compute_type,
                              config.param_init_type)

    def construct(self, image, ids_keep):
        positions = ops.cast(self.pos_embed, self.compute_dtype)
        patches = ops.cast(self.patch_embed(image), self.compute_dtype) + positions[:, 1:]
        visible = _gather_tokens(patches, ids_keep)
        cls = ops.cast(self.cls_tokens, self.compute_dtype) + positions[:, :1]
        h = ops.concat((ops.broadcast_to(cls, (image.shape[0], 1, cls.shape[-1])), visible), 1)
        for layer in self.layers:
            h = layer(h, None)
        return self.norm(h)


class MAEDecoder(nn.Cell):
    """`construct(latent (b, 1 + visible, hidden), ids_restore)` -> predicted pixels (b, patches, p * p * c),
    each patch row-major over (p, p, channels)."""

    def __init__(self, config):
        super().__init__()
        grid = config.image_size // config.patch_size
        width = config.decoder_hidden_size
        dtypes = dict(param_init_type=config.param_init_type, compute_dtype=config.compute_dtype)
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')
        self.decoder_embed = Linear(config.hidden_size, width, **dtypes)
        self.mask_token = Parameter(initializer(Normal(sigma=config.initializer_range), (1, 1, width),
                                                runtime_dtype(config.param_init_type, 'param_init_type')),
                                    name='mask_token')
        self.decoder_pos_embed = _fixed_table(width, grid, 'decoder_pos_embed')
        self.decoder_layers = _blocks(config, width, config.decoder_num_attention_heads,
                                      config.decoder_intermediate_size, config.decoder_num_hidden_layers)
        self.decoder_norm = LayerNorm(width, config.layer_norm_eps, config.layernorm_compute_type,
                                      config.param_init_type)
        self.decoder_pred = Linear(width, config.patch_size ** 2 * config.num_channels, **dtypes)

    def construct(self, latent, ids_restore):
        x = self.decoder_embed(latent)
        batch, count = ids_restore.shape
        masked = ops.broadcast_to(ops.cast(self.mask_token, x.dtype), (batch, count + 1 - x.shape[1], x.shape[-1]))
        patches = _gather_tokens(ops.concat((x[:, 1:], masked), 1), ids_restore)     # back in image order
        h = ops.concat((x[:, :1], patches), 1) + ops.cast(self.decoder_pos_embed, x.dtype)
        for layer in self.decoder_layers:
            h = layer(h, None)
        return ops.cast(self.decoder_pred(self.decoder_norm(h))[:, 1:], ms.float32)


class _MAETaskModel(BaseModel):
    config_class = ViTMAEConfig
    _support_list = MAE_NAMES

    def __init__(self, config=None):
        config = config if config is not None else ViTMAEConfig()
        super().__init__(config)
        self.vit = MAEEncoder(config)
        self.num_visible = config.num_visible
        self.num_patches = config.num_patches

    def masking(self, image, noise=None):
        """(ids_keep, mask, ids_restore) drawn from `noise` (uniform when None)."""
        if noise is None:
            noise = ops.uniform((image.shape[0], self.num_patches), Tensor(0.0, ms.float32), Tensor(1.0, ms.float32))
        return random_masking(ops.cast(noise, ms.float32), self.num_visible)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class ViTMAEModel(_MAETaskModel):
    """The encoder alone: `construct(image, noise=None)` -> (latent (b, 1 + visible, hidden), mask, ids_restore)."""

    def __init__(self, config=None):
        super().__init__(config)
        init_linears(self, self.config.initializer_range)
        self.load_checkpoint(self.config)

    def construct(self, image, noise=None):
        ids_keep, mask, ids_restore = self.masking(image, noise)
        return self.vit(image, ids_keep), mask, ids_restore


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class ViTMAEForPreTraining(_MAETaskModel):
    """`construct(image, mask=None, ids_restore=None, unmask_index=None, noise=None)`: upstream's data columns
    (MaeMask: `mask` 1 on masked patches, `ids_restore`, `unmask_index` the kept patches) or a mask drawn from
    `noise`. Train: the masked-patch loss. Eval: (loss, predicted pixels (b, patches, p*p*c), mask)."""

    def __init__(self, config=None):
        super().__init__(config)
        self.decoder = MAEDecoder(self.config)
        init_linears(self, self.config.initializer_range)
        self.patch_size = self.config.patch_size
        self.num_channels = self.config.num_channels
        self.norm_pixel_loss = bool(self.config.norm_pixel_loss)
        self.load_checkpoint(self.config)

    def patchify(self, image):
        """(b, c, H, W) -> (b, patches, p * p * c), the decoder's pixel order."""
        batch, channels, height, width = image.shape
        p = self.patch_size
        grid = ops.reshape(image, (batch, channels, height // p, p, width // p, p))
        grid = ops.transpose(grid, (0, 2, 4, 3, 5, 1))
        return ops.reshape(grid, (batch, (height // p) * (width // p), p * p * channels))

    def unpatchify(self, patches, height, width):
        """(b, patches, p * p * c) -> (b, c, H, W)."""
        p, batch = self.patch_size, patches.shape[0]
        grid = ops.reshape(patches, (batch, height // p, width // p, p, p, self.num_channels))
        return ops.reshape(ops.transpose(grid, (0, 5, 1, 3, 2, 4)), (batch, self.num_channels, height, width))

    def pixel_loss(self, image, predicted, mask):
        target = self.patchify(ops.cast(image, ms.float32))
        if self.norm_pixel_loss:
            mean = ops.mean(target, -1, keep_dims=True)
            var = ops.sum(ops.square(target - mean), -1, keepdim=True) / (target.shape[-1] - 1)   # unbiased
            target = (target - mean) / ops.sqrt(var + 1e-6)
        per_patch = ops.mean(ops.square(predicted - target), -1)
        return ops.sum(per_patch * mask) / ops.sum(mask)

    def construct(self, image, mask=None, ids_restore=None, unmask_index=None, noise=None):
        if ids_restore is None or unmask_index is None or mask is None:
            unmask_index, mask, ids_restore = self.masking(image, noise)
        ids_keep = ops.cast(unmask_index, ms.int32)
        ids_restore = ops.cast(ids_restore, ms.int32)
        mask = ops.cast(mask, ms.float32)
        predicted = self.decoder(self.vit(image, ids_keep), ids_restore)
        loss = self.pixel_loss(image, predicted, mask)
        if self.training:
            return loss
        return loss, predicted, mask
