"""LoRADense and LoraAdapter: a Linear plus a trainable low-rank update, and the walk that swaps it in."""
import math
import re

from mindspore import nn, ops, Parameter
from mindspore.common.initializer import initializer, HeUniform

from mindformers.tools.dtype import runtime_dtype
from mindformers.modules.layers import Linear
from mindformers.pet.utils import re_match_list

LORA_PREFIX = 'mindpet_delta_lora_'


class LoRADense(nn.Cell):
    """y = linear(x) + (dropout(x) @ A^T @ B^T) * lora_alpha / lora_rank, then the Linear's activation.

    The wrapped Linear's `weight`, `bias`, `matmul` and `bias_add` are reused as they are, so parameter
    names (and therefore pretrained checkpoints) and shard strategies are those of the base model.
    A `mindpet_delta_lora_a` (rank, in) starts HeUniform(negative_slope=sqrt 5), B
    `mindpet_delta_lora_b` (out, rank) starts at zero: at initialisation the output equals the Linear's.
    """

    def __init__(self, linear, lora_rank, lora_alpha, lora_dropout=0.0, param_init_type='float32',
                 compute_dtype='float32'):
        super().__init__()
        if not linear.transpose_b:
            raise ValueError("LoRADense wraps Linears with transpose_b=True (weight shaped (out, in))")
        self.in_channels = linear.in_channels
        self.out_channels = linear.out_channels
        self.has_bias = linear.has_bias
        self.transpose_b = True
        self.weight = linear.weight
        if self.has_bias:
            self.bias = linear.bias
        self.matmul = linear.matmul
        self.bias_add = linear.bias_add
        self.activation = linear.activation
        self.compute_dtype = runtime_dtype(compute_dtype, 'compute_dtype')
        self.strategy_matmul = linear.strategy_matmul
        if hasattr(linear, 'pipeline_stage'):
            self.pipeline_stage = linear.pipeline_stage

        param_dtype = runtime_dtype(param_init_type, 'param_init_type')
        self.lora_rank = lora_rank
        self.scaling = float(lora_alpha) / lora_rank
        self.mindpet_delta_lora_a = Parameter(
            initializer(HeUniform(negative_slope=math.sqrt(5)), (lora_rank, self.in_channels), param_dtype),
            name=LORA_PREFIX + 'a')
        self.mindpet_delta_lora_b = Parameter(
            initializer('zeros', (self.out_channels, lora_rank), param_dtype), name=LORA_PREFIX + 'b')
        self.lora_dropout = nn.Dropout(p=lora_dropout)
        self.lora_a_matmul = ops.MatMul(transpose_b=True)
        self.lora_b_matmul = ops.MatMul(transpose_b=True)
        if self.strategy_matmul is not None:
            # the low-rank factors are small: replicate them and split only the batch like the input
            data_parallel = self.strategy_matmul[0][0]
            self.lora_a_matmul.shard(((data_parallel, 1), (1, 1)))
            self.lora_b_matmul.shard(((data_parallel, 1), (1, 1)))

    def construct(self, x):
        out_shape = x.shape[:-1] + (self.out_channels,)
        x = ops.cast(ops.reshape(x, (-1, self.in_channels)), self.compute_dtype)
        out = self.matmul(x, ops.cast(self.weight, self.compute_dtype))
        if self.has_bias:
            out = self.bias_add(out, ops.cast(self.bias, self.compute_dtype))
        # delta: (tokens, in) @ A^T (in, rank) @ B^T (rank, out) -> (tokens, out)
        delta = self.lora_a_matmul(self.lora_dropout(x), ops.cast(self.mindpet_delta_lora_a, self.compute_dtype))
        delta = self.lora_b_matmul(delta, ops.cast(self.mindpet_delta_lora_b, self.compute_dtype))
        out = out + delta * self.scaling
        if self.activation is not None:
            out = self.activation(out)
        return ops.reshape(out, out_shape)


class LoraAdapter:
    """Replaces, inside a network, every Linear whose attribute name matches `target_modules` by a LoRADense."""

    @staticmethod
    def get_pet_model(network, config, prefix='', aliases=None):
        """Swap the matching Linears of `network` in place; returns the full names of the replaced cells.
        `prefix` is the network's own path in the model (e.g. 'model'), so parameter names stay full.
        `aliases` maps a child name to its upstream name (GPT-2 'wq' -> 'dense1'); a regex matching either
        selects the layer, so upstream YAMLs' target_modules keep working on our names."""
        return LoraAdapter._replace(network, prefix, config, aliases or {})

    @staticmethod
    def _replace(cell, prefix, config, aliases):
        """Upstream `recursive_replace_dense_cell`: a matching Linear child is replaced, a matching other child
        is left alone (not descended), a child matching `exclude_layers` is skipped, the rest are walked."""
        replaced = []
        for name, child in list(cell.name_cells().items()):
            full_name = f"{prefix}.{name}" if prefix else name
            if re_match_list(name, config.exclude_layers) or re_match_list(full_name, config.exclude_layers):
                continue
            if any(re.match(config.target_modules, candidate) for candidate in (name, aliases.get(name)) if candidate):
                if isinstance(child, Linear) and not isinstance(child, LoRADense):
                    LoraAdapter._swap(cell, name, full_name, child, config)
                    replaced.append(full_name)
                continue
            replaced.extend(LoraAdapter._replace(child, full_name, config, aliases))
        return replaced

    @staticmethod
    def _swap(parent, name, full_name, linear, config):
        lora = LoRADense(linear, config.lora_rank, config.lora_alpha, config.lora_dropout,
                         param_init_type=config.param_init_type, compute_dtype=config.compute_dtype)
        setattr(parent, name, lora)
        # setattr re-prefixes parameter names; give them their full path (the reused weight keeps its old name)
        for local_name, param in lora.parameters_and_names():
            param.name = f"{full_name}.{local_name}"
