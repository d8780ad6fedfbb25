"""CLIPTextConfig, CLIPVisionConfig and CLIPConfig with upstream MindFormers field names and defaults."""
from mindformers.models.base_config import BaseConfig, check_divisible, check_ints, check_rates
from mindformers.modules.activation import get_activation
from mindformers.tools.dtype import convert_mstype
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

# upstream's book names (mindformer_book.py) + our tiny MNIST model
CLIP_NAMES = ['clip_vit_b_32', 'clip_vit_b_16', 'clip_vit_l_14', 'clip_vit_l_14@336', 'mindspore/clip_vit_b_32',
              'clip_tiny_p7_28_mnist']
_DTYPE_FIELDS = ('dtype', 'param_init_type', 'compute_dtype', 'layernorm_compute_type', 'softmax_compute_type')


def _check_encoder(config):
    check_ints(config, ('hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads'))
    check_divisible(config, 'hidden_size', 'num_attention_heads')
    check_rates(config, ('attention_dropout', 'dropout'))
    get_activation(config.hidden_act)


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class CLIPTextConfig(BaseConfig):
    """The text encoder: a causal pre-norm transformer over `max_position_embeddings` tokens, read at each
    text's `<|endoftext|>` (its largest id). `drop_out` is upstream's key (Hugging Face's `dropout` also works)."""

    def __init__(self, vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                 num_attention_heads=8, max_position_embeddings=77, hidden_act='quick_gelu', attention_dropout=0.0,
                 drop_out=0.0, initializer_range=0.02, initializer_factor=1.0, layer_norm_eps=1e-5, dropout=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.max_position_embeddings = max_position_embeddings
        self.hidden_act = hidden_act
        self.attention_dropout = attention_dropout
        self.dropout = drop_out if dropout is None else dropout
        self.initializer_range = initializer_range
        self.initializer_factor = initializer_factor
        self.layer_norm_eps = layer_norm_eps
        check_ints(self, ('vocab_size', 'max_position_embeddings'))
        _check_encoder(self)


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class CLIPVisionConfig(BaseConfig):
    """The image encoder: a ViT (patch embedding without bias, [CLS] token, `ln_pre` before the blocks,
    `ln_post` on the [CLS] output)."""

    def __init__(self, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                 image_size=224, patch_size=32, hidden_act='quick_gelu', dropout=0.0, attention_dropout=0.0,
                 initializer_range=0.02, initializer_factor=1.0, num_channels=3, layer_norm_eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_act = hidden_act
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.initializer_range = initializer_range
        self.initializer_factor = initializer_factor
        self.num_channels = num_channels
        self.layer_norm_eps = layer_norm_eps
        check_ints(self, ('image_size', 'patch_size', 'num_channels'))
        _check_encoder(self)
        check_divisible(self, 'image_size', 'patch_size', '; pick a patch_size that divides the image size')

    @property
    def num_patches(self):
        return (self.image_size // self.patch_size) ** 2


def _sub_config(value, config_class, owner):
    if value is None:
        return config_class()
    if isinstance(value, config_class):
        return value
    if isinstance(value, dict):
        value = dict(value)
        kind = value.pop('type', config_class.__name__)
        if kind != config_class.__name__:
            raise ConfigError(f"{owner}: expected type {config_class.__name__}, got {kind}")
        return config_class(**value)
    raise ConfigError(f"{owner} must be a {config_class.__name__} or a mapping, got {type(value).__name__}")


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class CLIPConfig(BaseConfig):
    """Both encoders, the shared embedding size `projection_dim` and the initial log of the logit scale
    (`logit_scale_init_value` = ln(1 / 0.07)). `dtype` is upstream's compute dtype (float16 computes in float32
    on CPU); `compute_dtype`, when given, overrides it."""
    _support_list = CLIP_NAMES

    def __init__(self, text_config=None, vision_config=None, projection_dim=512, logit_scale_init_value=2.6592,
                 checkpoint_name_or_path='', dtype='float16', param_init_type='float32', compute_dtype=None,
                 layernorm_compute_type='float32', softmax_compute_type='float32', parallel_config='default',
                 moe_config='default', batch_size=1, **kwargs):
        super().__init__(**kwargs)
        self.text_config = _sub_config(text_config, CLIPTextConfig, 'CLIPConfig.text_config')
        self.vision_config = _sub_config(vision_config, CLIPVisionConfig, 'CLIPConfig.vision_config')
        self.projection_dim = projection_dim
        self.logit_scale_init_value = logit_scale_init_value
        self.checkpoint_name_or_path = checkpoint_name_or_path
        self.dtype = dtype
        self.param_init_type = param_init_type
        self.compute_dtype = compute_dtype if compute_dtype is not None else dtype
        self.layernorm_compute_type = layernorm_compute_type
        self.softmax_compute_type = softmax_compute_type
        self.parallel_config = None if parallel_config == 'default' else parallel_config
        self.moe_config = None if moe_config == 'default' else moe_config
        self.batch_size = batch_size
        self.validate()

    def validate(self):
        """Check sizes and names without allocating anything."""
        check_ints(self, ('projection_dim',))
        value = self.logit_scale_init_value
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ConfigError(f"CLIPConfig.logit_scale_init_value must be a number, got {value!r}")
        for name in _DTYPE_FIELDS:
            convert_mstype(getattr(self, name))

    @property
    def image_size(self):
        return self.vision_config.image_size

    @property
    def num_channels(self):
        return self.vision_config.num_channels

    def num_parameters(self):
        """Parameter count of both encoders, projections and the logit scale, from the sizes (no allocation)."""
        text, vision = self.text_config, self.vision_config

        def blocks(section):
            hidden, inner = section.hidden_size, section.intermediate_size
            return section.num_hidden_layers * (4 * hidden * hidden + 4 * hidden + 2 * hidden * inner + inner +
                                                hidden + 4 * hidden)
        text_count = (text.vocab_size + text.max_position_embeddings) * text.hidden_size + blocks(text) + \
            2 * text.hidden_size + text.hidden_size * self.projection_dim
        width = vision.hidden_size
        vision_count = width * vision.num_channels * vision.patch_size ** 2 + width + \
            (vision.num_patches + 1) * width + 4 * width + blocks(vision) + width * self.projection_dim
        return text_count + vision_count + 1
