"""get_optimizer_grouped_parameters: split a model's trainable parameters into decay / no-decay groups (and, with
layer_scale, into per-layer learning rates)."""
import re

from mindspore.nn.learning_rate_schedule import LearningRateSchedule

from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger

__all__ = ['get_optimizer_grouped_parameters', 'ScaledLearningRate']

# parameter-name fragments of the embeddings (layer 0 of layer-wise learning-rate decay)
_EMBEDDING_KEYS = ('patch_embed', 'cls_tokens', 'pos_embed', 'embedding', 'tok_embeddings', 'wte', 'wpe')


def _names_from(model, method_name):
    method = getattr(model, method_name, None)
    if not callable(method):
        return set()
    return set(method() or ())


def _skips_weight_decay(param, no_decay_names, no_decay_keywords):
    """1-D tensors (biases, norm scales), `*.bias`, and whatever the model names in no_weight_decay*()."""
    name = param.name
    return (len(param.shape) <= 1
            or name == 'bias' or name.endswith('.bias')
            or name in no_decay_names
            or any(keyword in name for keyword in no_decay_keywords))


class ScaledLearningRate(LearningRateSchedule):
    """`schedule(global_step) * scale`: one layer's share of a schedule under layer-wise decay."""

    def __init__(self, schedule, scale):
        super().__init__()
        self.schedule = schedule
        self.scale = float(scale)

    def construct(self, global_step):
        return self.schedule(global_step) * self.scale


def _layer_id(name, num_layers):
    """0 for the embeddings (patch / token / position / [CLS]), i + 1 for block i, num_layers + 1 for the rest
    (final norms, heads): the layer numbering of layer-wise learning-rate decay (BEiT / MAE fine-tuning)."""
    match = re.search(r'\.(?:layers|blocks)\.(\d+)\.', '.' + name)
    if match:
        return int(match.group(1)) + 1
    if any(key in name for key in _EMBEDDING_KEYS):
        return 0
    return num_layers + 1


def get_optimizer_grouped_parameters(model, weight_decay=0.0, dynamic_lr_schedule=None, layer_scale=False,
                                     layer_decay=1.0):
    """Return `[{'params': decay, 'weight_decay': weight_decay}, {'params': no_decay, 'weight_decay': 0.0},
    {'order_params': model.trainable_params()}]`, leaving out a group that would be empty.

    With `layer_scale` (upstream's per-layer learning rates for ViT / Swin fine-tuning) each group is also split by
    layer, and layer i of L gets `dynamic_lr_schedule` (a LearningRateSchedule or a number) times
    `layer_decay ** (L + 1 - i)`: the head keeps the full rate, the embeddings get the smallest.
    """
    no_decay_names = _names_from(model, 'no_weight_decay')
    no_decay_keywords = _names_from(model, 'no_weight_decay_keywords')
    trainable = model.trainable_params()
    decay_params, no_decay_params = [], []
    for param in trainable:
        if _skips_weight_decay(param, no_decay_names, no_decay_keywords):
            no_decay_params.append(param)
        else:
            decay_params.append(param)
    logger.info("Parameters with weight decay %s: %d tensors; without: %d tensors",
                weight_decay, len(decay_params), len(no_decay_params))
    if layer_scale:
        return _layer_scaled_groups(model, decay_params, no_decay_params, weight_decay, dynamic_lr_schedule,
                                    layer_decay) + [{'order_params': trainable}]
    groups = []
    if decay_params:
        groups.append({'params': decay_params, 'weight_decay': weight_decay})
    if no_decay_params:
        groups.append({'params': no_decay_params, 'weight_decay': 0.0})
    groups.append({'order_params': trainable})
    return groups


def _layer_scaled_groups(model, decay_params, no_decay_params, weight_decay, schedule, layer_decay):
    config = getattr(model, 'config', None)
    num_layers = getattr(config, 'num_hidden_layers', None) or getattr(config, 'num_layers', None)
    if not num_layers:
        raise ConfigError(f"layer_scale: True needs a model whose config has num_hidden_layers / num_layers; "
                          f"{type(model).__name__} has none")
    if schedule is None:
        raise ConfigError("layer_scale: True needs the learning rate (lr_schedule or optimizer.learning_rate)")
    if not isinstance(layer_decay, (int, float)) or isinstance(layer_decay, bool) or not 0 < layer_decay <= 1:
        raise ConfigError(f"layer_decay must be a number in (0, 1], got {layer_decay!r}")
    groups = []
    for params, decay in ((decay_params, weight_decay), (no_decay_params, 0.0)):
        by_layer = {}
        layer_of = getattr(model, 'layer_id', None)   # a family with its own numbering (Swin's stages)
        for param in params:
            layer_id = layer_of(param.name) if callable(layer_of) else _layer_id(param.name, num_layers)
            by_layer.setdefault(layer_id, []).append(param)
        for layer_id in sorted(by_layer):
            scale = layer_decay ** (num_layers + 1 - layer_id)
            rate = ScaledLearningRate(schedule, scale) if isinstance(schedule, LearningRateSchedule) \
                else float(schedule) * scale
            groups.append({'params': by_layer[layer_id], 'weight_decay': decay, 'lr': rate})
    logger.info("layer-wise learning rates: layer_decay %s over %d layers (embeddings x %.4g, head x 1)",
                layer_decay, num_layers, layer_decay ** (num_layers + 1))
    return groups
