"""CLIP: an image encoder (a ViT) and a text encoder (a causal transformer), each projected into one embedding
space where matching image-text pairs have the largest cosine similarity.

Both encoders are the shared pre-norm LayerNorm blocks (biased attention, quick-GELU MLP). The image side: patch
embedding without bias, a [CLS] token, learned positions, `ln_pre`, the blocks, `ln_post` on [CLS], then `proj`.
The text side: token + learned positions, the blocks under a causal mask, `ln_final`, read at each text's
`<|endoftext|>` (its largest id, as CLIP), then `text_projection`. Top-level names follow upstream MindFormers
(`visual`, `transformer`, `token_embedding`, `positional_embedding`, `ln_final`, `text_projection`,
`logit_scale`). Weights start as OpenAI's / Hugging Face's CLIP initialisation.
"""
import numpy as np
import mindspore as ms
from mindspore import nn, ops, Parameter, Tensor
from mindspore.common.initializer import initializer, Normal

from mindformers.core.parallel_config import TransformerOpParallelConfig
from mindformers.models.base_model import BaseModel
from mindformers.models.clip.clip_config import CLIPConfig, CLIP_NAMES
from mindformers.modules.embeddings import PatchEmbedding, VocabEmbedding
from mindformers.modules.masks import causal_mask
from mindformers.modules.normalization import LayerNorm
from mindformers.modules.transformer import apply_parallel_config, layernorm_block
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['CLIPModel']

# OpenAI's clamp of the learned temperature: logits are never scaled by more than 100
MAX_LOGIT_SCALE = 100.0


def _normal(shape, std, dtype):
    return initializer(Normal(sigma=std), shape, dtype)


class CLIPEncoder(nn.Cell):
    """`layers` of shared pre-norm blocks; `construct(h, bias)` runs them in order."""

    def __init__(self, config, top):
        super().__init__()
        self.layers = nn.CellList([
            layernorm_block(config.hidden_size, config.num_attention_heads, config.intermediate_size,
                            config.hidden_act, config.layer_norm_eps, config.attention_dropout, config.dropout,
                            top.layernorm_compute_type, top.softmax_compute_type, top.param_init_type,
                            top.compute_dtype)
            for _ in range(config.num_hidden_layers)])
        self._init_weights(config)

    def _init_weights(self, config):
        """OpenAI's CLIP scheme: attention projections N(0, width^-0.5 (2 layers)^-0.5), output projection
        N(0, width^-0.5), fc1 N(0, (2 width)^-0.5), fc2 like q/k/v; biases zero, norms one."""
        factor, width = config.initializer_factor, config.hidden_size
        in_std = width ** -0.5 * (2 * config.num_hidden_layers) ** -0.5 * factor
        stds = {'attention.wq': in_std, 'attention.wk': in_std, 'attention.wv': in_std,
                'attention.wo': width ** -0.5 * factor, 'feed_forward.w1': (2 * width) ** -0.5 * factor,
                'feed_forward.w2': in_std}
        for layer in self.layers:
            for path, std in stds.items():
                linear = layer
                for part in path.split('.'):
                    linear = getattr(linear, part)
                linear.weight.set_data(_normal(linear.weight.shape, std, linear.weight.dtype))
                linear.bias.set_data(initializer('zeros', linear.bias.shape, linear.bias.dtype))

    def construct(self, h, bias):
        for layer in self.layers:
            h = layer(h, bias)
        return h


class CLIPVisionTransformer(nn.Cell):
    """image (b, c, s, s) -> image embedding (b, projection_dim), before normalisation."""

    def __init__(self, config, projection_dim, top):
        super().__init__()
        dtype = runtime_dtype(top.param_init_type, 'param_init_type')
        self.compute_dtype = runtime_dtype(top.compute_dtype, 'compute_dtype')
        width, factor = config.hidden_size, config.initializer_factor
        self.patch_embed = PatchEmbedding(config.image_size, config.patch_size, config.num_channels, width,
                                          has_bias=False, param_init_type=top.param_init_type,
                                          compute_dtype=top.compute_dtype, owner='CLIPVisionConfig')
        self.patch_embed.proj.weight.set_data(_normal(self.patch_embed.proj.weight.shape,
                                                      config.initializer_range * factor, dtype))
        self.class_embedding = Parameter(_normal((width,), width ** -0.5 * factor, dtype), name='class_embedding')
        self.positional_embedding = Parameter(_normal((config.num_patches + 1, width),
                                                      config.initializer_range * factor, dtype),
                                              name='positional_embedding')
        norm = dict(eps=config.layer_norm_eps, compute_type=top.layernorm_compute_type,
                    param_init_type=top.param_init_type)
        self.ln_pre = LayerNorm(width, **norm)
        self.transformer = CLIPEncoder(config, top)
        self.ln_post = LayerNorm(width, **norm)
        self.proj = Parameter(_normal((width, projection_dim), width ** -0.5 * factor, dtype), name='proj')

    def construct(self, image):
        tokens = ops.cast(self.patch_embed(image), self.compute_dtype)
        batch, width = tokens.shape[0], tokens.shape[-1]
        cls = ops.broadcast_to(ops.reshape(ops.cast(self.class_embedding, self.compute_dtype), (1, 1, width)),
                               (batch, 1, width))
        h = ops.concat((cls, tokens), 1) + ops.cast(self.positional_embedding, self.compute_dtype)
        h = self.transformer(self.ln_pre(h), None)
        pooled = self.ln_post(h[:, 0])
        return ops.matmul(ops.cast(pooled, ms.float32), ops.cast(self.proj, ms.float32))


class _CLIPPreTrainedModel(BaseModel):
    config_class = CLIPConfig
    _support_list = CLIP_NAMES


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class CLIPModel(_CLIPPreTrainedModel):
    """`construct(image, text, label=None, input_ids=None, pixel_values=None)`, as upstream:
    - training: the symmetric contrastive loss (image -> its text and text -> its image cross entropy, averaged)
      over the batch's pairs;
    - eval without `label`: (logits_per_image (b_img, b_txt), logits_per_text (b_txt, b_img));
    - eval with `label`: (logits_per_image, label), `text` being one prompt per class (zero-shot Accuracy).
    `get_image_features(image)` / `get_text_features(text)` give the projected, unnormalised embeddings.
    """

    def __init__(self, config=None):
        config = config if config is not None else CLIPConfig()
        super().__init__(config)
        text = config.text_config
        dtype = runtime_dtype(config.param_init_type, 'param_init_type')
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')
        self.max_position_embeddings = text.max_position_embeddings
        self.visual = CLIPVisionTransformer(config.vision_config, config.projection_dim, config)
        self.token_embedding = VocabEmbedding(text.vocab_size, text.hidden_size, config.param_init_type,
                                              init_std=text.initializer_range * text.initializer_factor)
        self.positional_embedding = Parameter(
            _normal((text.max_position_embeddings, text.hidden_size), text.initializer_range * text.initializer_factor,
                    dtype), name='positional_embedding')
        self.transformer = CLIPEncoder(text, config)
        self.ln_final = LayerNorm(text.hidden_size, eps=text.layer_norm_eps,
                                  compute_type=config.layernorm_compute_type, param_init_type=config.param_init_type)
        self.text_projection = Parameter(_normal((text.hidden_size, config.projection_dim),
                                                 text.hidden_size ** -0.5 * text.initializer_factor, dtype),
                                         name='text_projection')
        self.logit_scale = Parameter(Tensor(np.float32(config.logit_scale_init_value)), name='logit_scale')
        self.causal_bias = causal_mask(text.max_position_embeddings)
        self.max_logit_scale = float(np.log(MAX_LOGIT_SCALE))
        if isinstance(getattr(config, 'parallel_config', None), TransformerOpParallelConfig):
            self.apply_parallel_config(config.parallel_config)
        self.load_checkpoint(config)

    def apply_parallel_config(self, parallel_config):
        vision, text = self.config.vision_config, self.config.text_config
        apply_parallel_config(parallel_config, self.visual.transformer.layers, first=[self.visual.patch_embed],
                              last=[], num_heads=vision.num_attention_heads)
        apply_parallel_config(parallel_config, self.transformer.layers, num_heads=text.num_attention_heads)

    def no_weight_decay_keywords(self):
        """Parameters AdamW leaves undecayed besides biases and norms."""
        return ('positional_embedding', 'class_embedding', 'logit_scale')

    def get_image_features(self, image, pixel_values=None):
        if pixel_values is not None:
            image = pixel_values
        return self.visual(image)

    def get_text_features(self, text, input_ids=None):
        if input_ids is not None:
            text = input_ids
        text = ops.cast(text, ms.int32)
        seq = text.shape[1]
        h = ops.cast(self.token_embedding(text), self.compute_dtype)
        h = h + ops.cast(self.positional_embedding[:seq], self.compute_dtype)
        h = self.ln_final(self.transformer(h, self.causal_bias[:seq, :seq]))
        # each text is read at its <|endoftext|>, the largest id in it (the first one if it repeats as padding)
        end = ops.argmax(text, -1)
        index = ops.broadcast_to(ops.reshape(end, (-1, 1, 1)), (h.shape[0], 1, h.shape[2]))
        pooled = ops.squeeze(ops.gather_elements(h, 1, index), 1)
        return ops.matmul(ops.cast(pooled, ms.float32), ops.cast(self.text_projection, ms.float32))

    def similarity(self, image, text):
        """logits_per_image (b_img, b_txt): the scaled cosine similarity of every image with every text."""
        image_features = self.get_image_features(image)
        text_features = self.get_text_features(text)
        image_features = image_features / ops.norm(image_features, dim=-1, keepdim=True)
        text_features = text_features / ops.norm(text_features, dim=-1, keepdim=True)
        scale = ops.exp(ops.minimum(ops.cast(self.logit_scale, ms.float32), self.max_logit_scale))
        return ops.matmul(image_features, ops.transpose(text_features, (1, 0))) * scale

    def construct(self, image, text, label=None, input_ids=None, pixel_values=None):
        if pixel_values is not None:
            image = pixel_values
        if input_ids is not None:
            text = input_ids
        if text.ndim == 3:          # one prompt set per batch row (zero-shot datasets): all rows hold the same
            text = text[0]
        logits_per_image = self.similarity(image, text)
        if not self.training:
            if label is None:
                return logits_per_image, ops.transpose(logits_per_image, (1, 0))
            return logits_per_image, label
        targets = ops.arange(0, logits_per_image.shape[0], dtype=ms.int32)
        image_loss = ops.cross_entropy(logits_per_image, targets)
        text_loss = ops.cross_entropy(ops.transpose(logits_per_image, (1, 0)), targets)
        return (image_loss + text_loss) / 2
