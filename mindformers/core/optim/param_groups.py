"""get_optimizer_grouped_parameters: split a model's trainable parameters into decay / no-decay groups."""
from mindformers.tools.errors import NotAvailableError
from mindformers.tools.logger import logger

__all__ = ['get_optimizer_grouped_parameters']


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


def get_optimizer_grouped_parameters(model, weight_decay=0.0, dynamic_lr_schedule=None, layer_scale=False,
                                     layer_decay=1.0):
    """Return `[{'params': decay, 'weight_decay': weight_decay}, {'params': no_decay, 'weight_decay': 0.0},
    {'order_params': model.trainable_params()}]`, leaving out a group that would be empty.

    `dynamic_lr_schedule` and `layer_decay` only matter for layer-wise learning rates (`layer_scale=True`),
    which upstream offers for ViT/Swin image classifiers only and this build does not implement.
    """
    if layer_scale:
        raise NotAvailableError(f"layer_scale=True (layer_decay={layer_decay}) is only for ViT/Swin image "
                                f"classifiers, which this build does not include; set layer_scale: False")
    del dynamic_lr_schedule  # a single schedule is given to the optimizer itself, not per group
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
    groups = []
    if decay_params:
        groups.append({'params': decay_params, 'weight_decay': weight_decay})
    if no_decay_params:
        groups.append({'params': no_decay_params, 'weight_decay': 0.0})
    groups.append({'order_params': trainable})
    return groups
