"""AdaAdapter: bottleneck adapters (Houlsby et al.) on every transformer block's feed-forward output: y +
up(act(down(y))), the up projection starting at zero so the adapted model starts as the base one; every other
weight frozen."""
from mindspore import nn
from mindspore.common.initializer import Zero

from mindformers.modules.activation import get_activation
from mindformers.modules.layers import Linear
from mindformers.modules.transformer import TransformerBlock
from mindformers.pet.constants import PetType
from mindformers.pet.pet_config import PetConfig
from mindformers.tools.errors import ConfigError

__all__ = ['AdaAdapter', 'AdapterConfig']


class AdapterConfig(PetConfig):
    """`reduction_factor`: the bottleneck is hidden_size / reduction_factor wide; `non_linearity` its activation."""

    def __init__(self, reduction_factor=16, non_linearity='relu', pet_type=PetType.ADAPTER.value, **kwargs):
        if getattr(pet_type, 'value', pet_type) != PetType.ADAPTER.value:
            raise ConfigError(f"AdapterConfig: pet_type is '{pet_type}'; it is always 'adapter'")
        super().__init__(pet_type=PetType.ADAPTER.value, **kwargs)
        if not isinstance(reduction_factor, int) or isinstance(reduction_factor, bool) or reduction_factor <= 0:
            raise ConfigError(f"pet_config.reduction_factor must be a positive integer, got {reduction_factor!r}")
        get_activation(non_linearity)
        self.reduction_factor = reduction_factor
        self.non_linearity = non_linearity


class BottleneckAdapter(nn.Cell):
    """x -> x + up(act(down(x))); `up` starts at zero."""

    def __init__(self, hidden_size, bottleneck, non_linearity, param_init_type, compute_dtype):
        super().__init__()
        linear = dict(param_init_type=param_init_type, compute_dtype=compute_dtype)
        self.mindpet_delta_adapter_down = Linear(hidden_size, bottleneck, **linear)
        self.mindpet_delta_adapter_up = Linear(bottleneck, hidden_size, weight_init=Zero(), **linear)
        self.activation = get_activation(non_linearity)

    def construct(self, x):
        return x + self.mindpet_delta_adapter_up(self.activation(self.mindpet_delta_adapter_down(x)))


class AdaAdapter:
    """`AdaAdapter.get_pet_model(model, config)` adapts every TransformerBlock of `model` in place (and returns
    it): the block's MLP output goes through `ffn_adapter` (parameters `...ffn_adapter.mindpet_delta_adapter_*`,
    the only trainable ones; the base parameters keep their names)."""

    @staticmethod
    def get_pet_model(model, config):
        if not isinstance(config, AdapterConfig):
            config = AdapterConfig(**dict(config))
        blocks = [(path, cell) for path, cell in model.cells_and_names() if isinstance(cell, TransformerBlock)]
        if not blocks:
            raise ConfigError(f"adapter tuning needs transformer blocks; {type(model).__name__} has none")
        model_config = model.config
        hidden = model_config.hidden_size
        bottleneck = max(hidden // config.reduction_factor, 1)
        for path, block in blocks:
            if block.ffn_adapter is None:
                block.ffn_adapter = BottleneckAdapter(hidden, bottleneck, config.non_linearity,
                                                      model_config.param_init_type, model_config.compute_dtype)
                # a cell attached after construction is named from its parent only: give it its full path
                block.ffn_adapter.update_parameters_name(f'{path}.ffn_adapter.')
        for param in model.get_parameters():
            param.requires_grad = 'mindpet_delta_adapter' in param.name
        model.pet_config = config
        return model
