"""One evaluation result from all data-parallel ranks: each rank updates its metrics on its shard of the eval data,
then the ranks exchange the metrics' accumulated state and every rank evaluates the union, so each logs the
same number, that of the whole eval set.

A metric names the attributes that hold its state in `_accumulators`; numbers and per-class count arrays are
summed, lists concatenated (those named in `_elementwise`: summed position by position), dicts merged (under a key
present on several ranks, lists concatenated and numbers summed). MindSpore's own metrics are listed in
`_BUILTIN_ACCUMULATORS`; any other metric stops a distributed evaluation before it starts.
"""
import numpy as np

from mindformers.tools.errors import ConfigError
from mindformers.tools.utils import all_gather_objects

_BUILTIN_ACCUMULATORS = {
    'Accuracy': ('_correct_num', '_total_num'),
    'Top1CategoricalAccuracy': ('_correct_num', '_samples_num'),
    'Top5CategoricalAccuracy': ('_correct_num', '_samples_num'),
    'TopKCategoricalAccuracy': ('_correct_num', '_samples_num'),
    'Loss': ('_sum_loss', '_total_num'),
    'MAE': ('_abs_error_sum', '_samples_num'),
    'MSE': ('_squared_error_sum', '_samples_num'),
    'F1': ('_true_positives', '_actual_positives', '_positives'),
    'Fbeta': ('_true_positives', '_actual_positives', '_positives'),
    'Precision': ('_true_positives', '_positives'),
    'Recall': ('_true_positives', '_actual_positives'),
}


def check_metrics_combinable(metrics, group_size):
    """Before a distributed evaluation starts: every metric must name the state to combine."""
    if group_size > 1:
        for metric in metrics.values():
            metric_accumulators(metric)


def metric_accumulators(metric):
    names = getattr(metric, '_accumulators', None) or _BUILTIN_ACCUMULATORS.get(type(metric).__name__)
    if names is None:
        raise ConfigError(f"metric {type(metric).__name__} does not say which of its state to combine across ranks "
                          f"(_accumulators); evaluate it on one process")
    return tuple(names)


def _merge_values(values, elementwise):
    first = values[0]
    if isinstance(first, (int, float, np.integer, np.floating, np.ndarray)) and not isinstance(first, bool):
        return sum(values[1:], first)     # counts, sums, and per-class count arrays
    if isinstance(first, list):
        if elementwise:
            return [sum(column) for column in zip(*values)]
        return [item for value in values for item in value]
    if isinstance(first, dict):
        merged = {}
        for value in values:
            for key, item in value.items():
                if key in merged and isinstance(item, (list, int, float)) and not isinstance(item, bool):
                    merged[key] = merged[key] + item       # lists concatenated, numbers summed
                else:
                    merged[key] = item
        return merged
    raise ConfigError(f"cannot combine metric state of type {type(first).__name__} across ranks")


def merge_metric_states(metric, states):
    """Set `metric`'s accumulators to the combination of `states` (one {name: value} per rank, in rank order)."""
    elementwise = set(getattr(metric, '_elementwise', ()))
    for name in metric_accumulators(metric):
        setattr(metric, name, _merge_values([state[name] for state in states], name in elementwise))


def evaluate_metrics(metrics, group_size):
    """{name: metric.eval()} after combining every metric's state across `group_size` data-parallel ranks."""
    if group_size > 1:
        for metric in metrics.values():
            state = {name: getattr(metric, name) for name in metric_accumulators(metric)}
            merge_metric_states(metric, all_gather_objects(state))
    return {name: metric.eval() for name, metric in metrics.items()}
