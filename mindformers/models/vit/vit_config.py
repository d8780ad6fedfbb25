"""ViTConfig: Vision Transformer hyperparameters with upstream MindFormers field names and defaults."""
from mindformers.models.base_config import BaseConfig, check_divisible, check_ints, check_rates
from mindformers.tools.dtype import convert_mstype
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

# the names of the upstream book (mindformer_book.py) a ViT config / model answers to (+ our tiny one)
VIT_NAMES = ['vit_base_p16', 'mindspore/vit_base_p16', 'vit_tiny_p7_28_mnist']
LOSS_TYPES = ('SoftTargetCrossEntropy', 'CrossEntropyLoss')
_DTYPE_FIELDS = ('layernorm_compute_type', 'softmax_compute_type', 'param_init_type', 'compute_dtype')


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class ViTConfig(BaseConfig):
    """Image and patch sizes, encoder sizes, dropouts and dtypes of a ViT classifier.

    As upstream: `use_mean_pooling: True` averages the patch tokens and normalises the average (`fc_norm`);
    False classifies the [CLS] token after a final LayerNorm (`norm`), which is what Hugging Face ViT checkpoints
    hold. `hidden_act: gelu` is the tanh-approximated GELU (upstream's meaning); `gelu_exact` is the erf form
    Hugging Face ViT uses. `drop_path_rate` is stochastic depth, growing linearly from 0 at the first block.
    `loss_type` SoftTargetCrossEntropy takes class ids or (batch, num_labels) soft targets (mixup).
    """
    _support_list = VIT_NAMES

    def __init__(self, image_size=224, patch_size=16, num_channels=3, initializer_range=0.02, hidden_size=768,
                 num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072, qkv_bias=True,
                 hidden_act='gelu', post_layernorm_residual=False, layer_norm_eps=1e-12,
                 attention_probs_dropout_prob=0.0, hidden_dropout_prob=0.0, drop_path_rate=0.1,
                 use_mean_pooling=True, num_labels=1000, loss_type='SoftTargetCrossEntropy', encoder_stride=16,
                 checkpoint_name_or_path='', layernorm_compute_type='float32', softmax_compute_type='float32',
                 param_init_type='float32', compute_dtype='float32', parallel_config='default',
                 moe_config='default', batch_size=1, **kwargs):
        super().__init__(**kwargs)
        self.image_size = image_size
        self.patch_size = patch_size
        self.num_channels = num_channels
        self.initializer_range = initializer_range
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.qkv_bias = qkv_bias
        self.hidden_act = hidden_act
        self.post_layernorm_residual = post_layernorm_residual
        self.layer_norm_eps = layer_norm_eps
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.hidden_dropout_prob = hidden_dropout_prob
        self.drop_path_rate = drop_path_rate
        self.use_mean_pooling = use_mean_pooling
        self.num_labels = num_labels
        self.loss_type = loss_type
        self.encoder_stride = encoder_stride
        self.checkpoint_name_or_path = checkpoint_name_or_path
        self.layernorm_compute_type = layernorm_compute_type
        self.softmax_compute_type = softmax_compute_type
        self.param_init_type = param_init_type
        self.compute_dtype = compute_dtype
        self.parallel_config = None if parallel_config == 'default' else parallel_config
        self.moe_config = None if moe_config == 'default' else moe_config
        self.batch_size = batch_size
        self.validate()

    @property
    def num_patches(self):
        return (self.image_size // self.patch_size) ** 2

    @property
    def seq_length(self):
        """Tokens the encoder sees: the patches and [CLS]."""
        return self.num_patches + 1

    def validate(self):
        """Check sizes, rates and names without allocating anything."""
        check_ints(self, ('image_size', 'patch_size', 'num_channels', 'hidden_size', 'num_hidden_layers',
                          'num_attention_heads', 'intermediate_size', 'num_labels'))
        check_divisible(self, 'image_size', 'patch_size', '; pick a patch_size that divides the image size')
        check_divisible(self, 'hidden_size', 'num_attention_heads')
        check_rates(self, ('attention_probs_dropout_prob', 'hidden_dropout_prob', 'drop_path_rate'))
        if self.post_layernorm_residual:
            raise ConfigError("ViTConfig.post_layernorm_residual: True is not supported; ViT normalises before "
                              "each residual branch (pre-norm)")
        if self.loss_type not in LOSS_TYPES:
            raise ConfigError(f"ViTConfig.loss_type '{self.loss_type}' is not supported; choose one of "
                              f"{list(LOSS_TYPES)}")
        for name in _DTYPE_FIELDS:
            convert_mstype(getattr(self, name))

    def num_parameters(self):
        """Parameter count of the encoder and classifier, computed from the sizes (no allocation)."""
        hidden, inner, patch = self.hidden_size, self.intermediate_size, self.patch_size
        qkv_bias = 3 * hidden if self.qkv_bias else 0
        embeddings = hidden * self.num_channels * patch * patch + hidden + hidden + self.seq_length * hidden
        per_layer = 4 * hidden * hidden + qkv_bias + hidden + 2 * hidden * inner + inner + hidden + 4 * hidden
        return embeddings + self.num_hidden_layers * per_layer + 2 * hidden + hidden * self.num_labels + \
            self.num_labels
