"""ViTMAEConfig: masked-autoencoder (MAE) pre-training hyperparameters with upstream MindFormers field names."""
from mindformers.models.base_config import BaseConfig, check_divisible, check_ints, check_rates
from mindformers.tools.dtype import convert_mstype
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

MAE_NAMES = ['mae_vit_base_p16', 'mae_vit_tiny_p7_28_mnist']


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class ViTMAEConfig(BaseConfig):
    """A ViT encoder (the ViTConfig fields) that sees only the `1 - mask_ratio` share of patches left after random
    masking, and a light decoder (`decoder_*`) that rebuilds every patch's pixels from the encoded ones and mask
    tokens. Both use fixed 2-D sine-cosine positions. `norm_pixel_loss` (upstream's name; HF: norm_pix_loss)
    normalises each target patch by its own mean and variance."""
    _support_list = MAE_NAMES

    def __init__(self, image_size=224, patch_size=16, num_channels=3, hidden_size=768, num_hidden_layers=12,
                 num_attention_heads=12, intermediate_size=3072, qkv_bias=True, hidden_act='gelu',
                 layer_norm_eps=1e-6, initializer_range=0.02, attention_probs_dropout_prob=0.0, hidden_dropout_prob=0.0,
                 mask_ratio=0.75, decoder_hidden_size=512, decoder_num_hidden_layers=8,
                 decoder_num_attention_heads=16, decoder_intermediate_size=2048, norm_pixel_loss=True,
                 norm_pix_loss=None, post_layernorm_residual=False, checkpoint_name_or_path='', param_init_type='float32', compute_dtype='float32',
                 layernorm_compute_type='float32', softmax_compute_type='float32', parallel_config='default',
                 moe_config='default', batch_size=1, **kwargs):
        super().__init__(**kwargs)
        self.image_size = image_size
        self.patch_size = patch_size
        self.num_channels = num_channels
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.qkv_bias = qkv_bias
        self.hidden_act = hidden_act
        self.layer_norm_eps = layer_norm_eps
        self.initializer_range = initializer_range
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.hidden_dropout_prob = hidden_dropout_prob
        self.mask_ratio = mask_ratio
        self.decoder_hidden_size = decoder_hidden_size
        self.decoder_num_hidden_layers = decoder_num_hidden_layers
        self.decoder_num_attention_heads = decoder_num_attention_heads
        self.decoder_intermediate_size = decoder_intermediate_size
        # upstream's YAML writes Hugging Face's key `norm_pix_loss`; either name sets it
        self.norm_pixel_loss = norm_pixel_loss if norm_pix_loss is None else norm_pix_loss
        self.post_layernorm_residual = post_layernorm_residual
        self.checkpoint_name_or_path = checkpoint_name_or_path
        self.param_init_type = param_init_type
        self.compute_dtype = compute_dtype
        self.layernorm_compute_type = layernorm_compute_type
        self.softmax_compute_type = softmax_compute_type
        self.parallel_config = None if parallel_config == 'default' else parallel_config
        self.moe_config = None if moe_config == 'default' else moe_config
        self.batch_size = batch_size
        self.validate()

    @property
    def num_patches(self):
        return (self.image_size // self.patch_size) ** 2

    def validate(self):
        """Check sizes, rates and names without allocating anything."""
        check_ints(self, ('image_size', 'patch_size', 'num_channels', 'hidden_size', 'num_hidden_layers',
                          'num_attention_heads', 'intermediate_size', 'decoder_hidden_size',
                          'decoder_num_hidden_layers', 'decoder_num_attention_heads', 'decoder_intermediate_size'))
        check_divisible(self, 'image_size', 'patch_size')
        check_divisible(self, 'hidden_size', 'num_attention_heads')
        check_divisible(self, 'decoder_hidden_size', 'decoder_num_attention_heads')
        for name in ('param_init_type', 'compute_dtype', 'layernorm_compute_type', 'softmax_compute_type'):
            convert_mstype(getattr(self, name))
        if self.post_layernorm_residual:
            raise ConfigError("ViTMAEConfig.post_layernorm_residual: True is not supported; the MAE encoder is "
                              "pre-norm")
        if not isinstance(self.mask_ratio, (int, float)) or isinstance(self.mask_ratio, bool) or \
                not 0 < self.mask_ratio < 1:
            raise ConfigError(f"ViTMAEConfig.mask_ratio must be a number in (0, 1), got {self.mask_ratio!r}")
        if int(self.num_patches * (1 - self.mask_ratio)) < 1:
            raise ConfigError(f"ViTMAEConfig: mask_ratio {self.mask_ratio} leaves no visible patch of "
                              f"{self.num_patches}")
        for width, name in ((self.hidden_size, 'hidden_size'), (self.decoder_hidden_size, 'decoder_hidden_size')):
            if width % 4:
                raise ConfigError(f"ViTMAEConfig.{name} {width} must be divisible by 4 (2-D sine-cosine positions)")
        check_rates(self, ('attention_probs_dropout_prob', 'hidden_dropout_prob'))

    def num_parameters(self):
        """Parameter count of encoder and decoder (the fixed position tables included), from the sizes."""
        def blocks(width, inner, count):
            return count * (4 * width * width + (3 * width if self.qkv_bias else 0) + width + 4 * width +
                            2 * width * inner + inner + width)
        hidden, dec, tokens = self.hidden_size, self.decoder_hidden_size, self.num_patches + 1
        pixels = self.patch_size ** 2 * self.num_channels
        encoder = hidden * pixels + hidden + hidden + tokens * hidden + \
            blocks(hidden, self.intermediate_size, self.num_hidden_layers) + 2 * hidden
        decoder = hidden * dec + dec + dec + tokens * dec + \
            blocks(dec, self.decoder_intermediate_size, self.decoder_num_hidden_layers) + 2 * dec + dec * pixels + pixels
        return encoder + decoder

    @property
    def num_visible(self):
        """Patches the encoder sees."""
        return int(self.num_patches * (1 - self.mask_ratio))
