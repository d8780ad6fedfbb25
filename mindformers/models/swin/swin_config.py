"""SwinConfig: Swin Transformer hyperparameters with upstream MindFormers field names and defaults."""
from mindformers.models.base_config import BaseConfig, check_divisible, check_ints, check_rates
from mindformers.tools.dtype import convert_mstype
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

# the names of the upstream book (mindformer_book.py) a Swin config / model answers to (+ our tiny one)
SWIN_NAMES = ['swin_base_p4w7', 'mindspore/swin_base_p4w7', 'swin_tiny_p2w7_28_mnist']
LOSS_TYPES = ('SoftTargetCrossEntropy', 'CrossEntropyLoss')
_DTYPE_FIELDS = ('layernorm_compute_type', 'softmax_compute_type', 'param_init_type', 'compute_dtype')


@MindFormerRegister.register(MindFormerModuleType.CONFIG)
class SwinConfig(BaseConfig):
    """Patch, window and stage sizes, dropouts and dtypes of a Swin classifier.

    Stage i has `depths[i]` blocks of width `embed_dim * 2**i` with `num_heads[i]` heads; every second block of a
    stage shifts its windows by window_size // 2; a patch merging layer halves the resolution between stages.
    Every stage's resolution must be a multiple of `window_size` (a stage as small as one window attends over it
    whole, unshifted). `hidden_act: gelu` is the tanh GELU (upstream's meaning; `gelu_exact` is Hugging Face's).
    """
    _support_list = SWIN_NAMES

    def __init__(self, image_size=224, patch_size=4, num_channels=3, embed_dim=128, depths=(2, 2, 18, 2),
                 num_heads=(4, 8, 16, 32), window_size=7, shift_size=0, mlp_ratio=4.0, qkv_bias=True,
                 layer_norm_eps=1e-5, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, drop_path_rate=0.1,
                 use_absolute_embeddings=False, patch_norm=True, hidden_act='gelu', weight_init='normal',
                 num_labels=1000, loss_type='SoftTargetCrossEntropy', initializer_range=0.02,
                 param_init_type='float32', compute_dtype='float32', layernorm_compute_type='float32',
                 softmax_compute_type='float32', moe_config='default', parallel_config='default',
                 checkpoint_name_or_path='', batch_size=1, **kwargs):
        super().__init__(**kwargs)
        self.image_size = image_size
        self.patch_size = patch_size
        self.num_channels = num_channels
        self.embed_dim = embed_dim
        self.depths = list(depths) if isinstance(depths, (list, tuple)) else depths
        self.num_heads = list(num_heads) if isinstance(num_heads, (list, tuple)) else num_heads
        self.window_size = window_size
        self.shift_size = shift_size   # upstream's key; the shift of every second block is window_size // 2
        self.mlp_ratio = mlp_ratio
        self.qkv_bias = qkv_bias
        self.layer_norm_eps = layer_norm_eps
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.drop_path_rate = drop_path_rate
        self.use_absolute_embeddings = use_absolute_embeddings
        self.patch_norm = patch_norm
        self.hidden_act = hidden_act
        self.weight_init = weight_init
        self.num_labels = num_labels
        self.loss_type = loss_type
        self.initializer_range = initializer_range
        self.param_init_type = param_init_type
        self.compute_dtype = compute_dtype
        self.layernorm_compute_type = layernorm_compute_type
        self.softmax_compute_type = softmax_compute_type
        self.moe_config = None if moe_config == 'default' else moe_config
        self.parallel_config = None if parallel_config == 'default' else parallel_config
        self.checkpoint_name_or_path = checkpoint_name_or_path
        self.batch_size = batch_size
        self.validate()

    @property
    def num_hidden_layers(self):
        """Blocks over all stages (the layer count of layer-wise learning rates)."""
        return sum(self.depths)

    @property
    def num_features(self):
        """Width after the last stage."""
        return self.embed_dim * 2 ** (len(self.depths) - 1)

    @property
    def hidden_size(self):
        return self.num_features

    def stage_resolutions(self):
        """The (square) token grid side of every stage."""
        side = self.image_size // self.patch_size
        return [side // 2 ** i for i in range(len(self.depths))]

    def validate(self):
        """Check sizes, rates and names without allocating anything."""
        check_ints(self, ('image_size', 'patch_size', 'num_channels', 'embed_dim', 'window_size', 'num_labels'))
        if not isinstance(self.depths, list) or not self.depths or not isinstance(self.num_heads, list) or \
                len(self.depths) != len(self.num_heads):
            raise ConfigError(f"SwinConfig: depths {self.depths!r} and num_heads {self.num_heads!r} must be lists of "
                              f"the same length (one entry per stage)")
        for values, name in ((self.depths, 'depths'), (self.num_heads, 'num_heads')):
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
                raise ConfigError(f"SwinConfig.{name} must hold integers >= 1, got {values!r}")
        check_divisible(self, 'image_size', 'patch_size')
        side = self.image_size // self.patch_size
        for stage, heads in enumerate(self.num_heads):
            width = self.embed_dim * 2 ** stage
            if width % heads:
                raise ConfigError(f"SwinConfig: stage {stage} has width {width}, not divisible by num_heads[{stage}] "
                                  f"{heads}")
        for stage in range(len(self.depths)):
            resolution = side // 2 ** stage
            if stage and (side // 2 ** (stage - 1)) % 2:
                raise ConfigError(f"SwinConfig: stage {stage - 1} has an odd resolution {side // 2 ** (stage - 1)}; "
                                  f"patch merging needs an even one (image_size / patch_size / 2**stage)")
            if resolution % self.window_size and resolution > self.window_size or resolution < self.window_size:
                raise ConfigError(f"SwinConfig: window_size {self.window_size} does not divide the {resolution}x"
                                  f"{resolution} feature map of stage {stage}; pick a window_size that divides "
                                  f"image_size / patch_size / 2**stage for every stage")
        if not isinstance(self.mlp_ratio, (int, float)) or self.mlp_ratio <= 0:
            raise ConfigError(f"SwinConfig.mlp_ratio must be a positive number, got {self.mlp_ratio!r}")
        check_rates(self, ('attention_probs_dropout_prob', 'hidden_dropout_prob', 'drop_path_rate'))
        if self.loss_type not in LOSS_TYPES:
            raise ConfigError(f"SwinConfig.loss_type '{self.loss_type}' is not supported; choose one of "
                              f"{list(LOSS_TYPES)}")
        for name in _DTYPE_FIELDS:
            convert_mstype(getattr(self, name))

    def num_parameters(self):
        """Parameter count of the encoder and classifier, computed from the sizes (no allocation)."""
        patch, window = self.patch_size, self.window_size
        total = self.embed_dim * self.num_channels * patch * patch + self.embed_dim
        total += 2 * self.embed_dim if self.patch_norm else 0
        total += (self.image_size // patch) ** 2 * self.embed_dim if self.use_absolute_embeddings else 0
        for stage, (depth, heads) in enumerate(zip(self.depths, self.num_heads)):
            dim = self.embed_dim * 2 ** stage
            inner = int(dim * self.mlp_ratio)
            per_block = 4 * dim * dim + (3 * dim if self.qkv_bias else 0) + dim + 4 * dim + \
                2 * dim * inner + inner + dim + (2 * window - 1) ** 2 * heads
            total += depth * per_block
            if stage < len(self.depths) - 1:
                total += 4 * dim * 2 + 4 * dim * 2 * dim          # merging: norm over 4C, reduction 4C -> 2C
        return total + 2 * self.num_features + self.num_features * self.num_labels + self.num_labels
