"""ViT: an image cut into patches (a linear patch embedding), a learned [CLS] token and learned positions ->
pre-norm encoder blocks (the shared LayerNorm blocks with biased attention and a GELU MLP, stochastic depth) ->
a pooled vector -> a linear classifier.

Pooling as upstream: `use_mean_pooling` averages the patch tokens and applies `fc_norm`; otherwise the final
LayerNorm `norm` runs over every token and the [CLS] token is taken (the Hugging Face ViT layout). Every model
keeps the encoder under `vit.`, so a ViTModel (or MAE encoder) checkpoint loads into the classifier, whose
`head` then starts fresh. `construct(image, target=None)` takes the dataset's columns by position, as upstream.
"""
import numpy as np
from mindspore import nn, ops, Parameter
from mindspore.common.initializer import initializer, TruncatedNormal

from mindformers.core.parallel_config import TransformerOpParallelConfig
from mindformers.models.base_model import BaseModel
from mindformers.models.image_classifier import ClassifierHeadMixin, init_linears
from mindformers.models.vit.vit_config import ViTConfig, VIT_NAMES
from mindformers.modules.embeddings import PatchEmbedding
from mindformers.modules.normalization import LayerNorm
from mindformers.modules.transformer import apply_parallel_config, layernorm_block
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['ViTBackbone', 'ViTModel', 'ViTForImageClassification']


class ViTBackbone(nn.Cell):
    """`construct(image)` -> the pooled vector (b, hidden); `construct_without_pool(image)` -> every token's
    hidden state (b, 1 + patches, hidden), [CLS] first."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        std = config.initializer_range
        dtype = runtime_dtype(config.param_init_type, 'param_init_type')
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')
        self.patch_embed = PatchEmbedding(config.image_size, config.patch_size, config.num_channels,
                                          config.hidden_size, param_init_type=config.param_init_type,
                                          compute_dtype=config.compute_dtype, owner='ViTConfig')
        self.cls_tokens = Parameter(initializer(TruncatedNormal(sigma=std), (1, 1, config.hidden_size), dtype),
                                    name='cls_tokens')
        self.pos_embed = Parameter(initializer(TruncatedNormal(sigma=std), (1, config.seq_length,
                                                                            config.hidden_size), dtype),
                                   name='pos_embed')
        self.dropout = nn.Dropout(p=config.hidden_dropout_prob) if config.hidden_dropout_prob else None
        rates = np.linspace(0, config.drop_path_rate, config.num_hidden_layers)
        self.layers = nn.CellList([
            layernorm_block(config.hidden_size, config.num_attention_heads, config.intermediate_size,
                            config.hidden_act, config.layer_norm_eps, config.attention_probs_dropout_prob,
                            config.hidden_dropout_prob, config.layernorm_compute_type, config.softmax_compute_type,
                            config.param_init_type, config.compute_dtype, qkv_has_bias=config.qkv_bias,
                            drop_path_rate=float(rate))
            for rate in rates])
        self.use_mean_pooling = bool(config.use_mean_pooling)
        norm = LayerNorm(config.hidden_size, config.layer_norm_eps, config.layernorm_compute_type,
                         config.param_init_type)
        if self.use_mean_pooling:
            self.fc_norm = norm
        else:
            self.norm = norm
        init_linears(self, config.initializer_range)   # timm's ViT initialisation (upstream's)

    def apply_parallel_config(self, parallel_config):
        apply_parallel_config(parallel_config, self.layers, first=[self.patch_embed], last=[],
                              num_heads=self.config.num_attention_heads)

    def construct_without_pool(self, image):
        batch = image.shape[0]
        tokens = ops.cast(self.patch_embed(image), self.compute_dtype)
        cls = ops.broadcast_to(ops.cast(self.cls_tokens, self.compute_dtype), (batch, 1, tokens.shape[-1]))
        h = ops.concat((cls, tokens), 1) + ops.cast(self.pos_embed, self.compute_dtype)
        if self.dropout is not None:
            h = self.dropout(h)
        for layer in self.layers:
            h = layer(h, None)
        return h

    def construct(self, image):
        h = self.construct_without_pool(image)
        if self.use_mean_pooling:
            return self.fc_norm(ops.mean(h[:, 1:], 1))
        return self.norm(h[:, 0])


class _ViTTaskModel(BaseModel):
    """A BaseModel holding the encoder as `vit`."""
    config_class = ViTConfig
    _support_list = VIT_NAMES

    def __init__(self, config=None):
        config = config if config is not None else ViTConfig()
        super().__init__(config)
        self.vit = ViTBackbone(config)
        if isinstance(getattr(config, 'parallel_config', None), TransformerOpParallelConfig):
            self.apply_parallel_config(config.parallel_config)

    def apply_parallel_config(self, parallel_config):
        self.vit.apply_parallel_config(parallel_config)

    def no_weight_decay_keywords(self):
        """Parameters AdamW leaves undecayed besides biases and norms (upstream's ViT list)."""
        return ('pos_embed', 'cls_tokens')


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class ViTModel(_ViTTaskModel):
    """The bare encoder as a model: `construct(image)` -> the pooled vector (b, hidden)."""

    def __init__(self, config=None):
        super().__init__(config)
        self.load_checkpoint(self.config)

    def construct(self, image):
        return self.vit(image)

    def construct_without_pool(self, image):
        return self.vit.construct_without_pool(image)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class ViTForImageClassification(ClassifierHeadMixin, _ViTTaskModel):
    """Pooled vector -> `head` (hidden -> num_labels). Train: cross entropy with `target`, class ids (b,) or soft
    targets (b, num_labels). Eval with a target: (logits, target) for Accuracy; without: logits (b, num_labels)."""
    # fine-tuning starts from an encoder (or MAE) checkpoint: the head, and the mean-pooling norm, start fresh
    checkpoint_optional_keys = ('head.', 'vit.fc_norm.')

    def __init__(self, config=None):
        super().__init__(config)
        cfg = self.config
        self.build_head(cfg.hidden_size, cfg.num_labels, 2e-5, cfg.param_init_type)
        self.load_checkpoint(cfg)

    def construct(self, image, target=None):
        return self.classify(self.vit(image), target)
