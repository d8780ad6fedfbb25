"""One evaluation result from all data-parallel ranks: each rank updates its metrics on its shard of the eval data,
then the ranks exchange the metrics' accumulated state and every rank evaluates the union, so each logs the
same number, that of the whole eval set.

A metric names the attributes that hold its state in `_accumulators`; numbers are summed, lists concatenated
(those named in `_elementwise`: summed position by position), dicts merged (lists under a key concatenated).
MindSpore's own metrics that tasks use are listed in `_BUILTIN_ACCUMULATORS`.
"""
import pickle

import numpy as np

from mindformers.tools.errors import ConfigError

_BUILTIN_ACCUMULATORS = {'Accuracy': ('_correct_num', '_total_num')}


def metric_accumulators(metric):
    names = getattr(metric, '_accumulators', None) or _BUILTIN_ACCUMULATORS.get(type(metric).__name__)
    if names is None:
        raise ConfigError(f"metric {type(metric).__name__} does not say which of its state to combine across ranks "
                          f"(_accumulators); evaluate it on one process")
    return tuple(names)


def _merge_values(values, elementwise):
    first = values[0]
    if isinstance(first, (int, float, np.integer, np.floating)) and not isinstance(first, bool):
        return sum(values[1:], first)
    if isinstance(first, list):
        if elementwise:
            return [sum(column) for column in zip(*values)]
        return [item for value in values for item in value]
    if isinstance(first, dict):
        merged = {}
        for value in values:
            for key, item in value.items():
                if isinstance(item, list) and isinstance(merged.get(key), list):
                    merged[key] = merged[key] + item
                else:
                    merged[key] = item
        return merged
    raise ConfigError(f"cannot combine metric state of type {type(first).__name__} across ranks")


def merge_metric_states(metric, states):
    """Set `metric`'s accumulators to the combination of `states` (one {name: value} per rank, in rank order)."""
    elementwise = set(getattr(metric, '_elementwise', ()))
    for name in metric_accumulators(metric):
        setattr(metric, name, _merge_values([state[name] for state in states], name in elementwise))


def all_gather_objects(obj):
    """[obj of rank 0, obj of rank 1, ...]: pickled, padded to the longest, exchanged with AllGather."""
    from mindspore import Tensor, ops  # pylint: disable=import-outside-toplevel
    data = np.frombuffer(pickle.dumps(obj), np.uint8)
    sizes = ops.AllGather()(Tensor(np.array([data.size], np.int32))).asnumpy()
    padded = np.zeros(int(sizes.max()), np.int32)       # MindSpore's CPU AllGather takes no uint8: a byte an int
    padded[:data.size] = data
    gathered = ops.AllGather()(Tensor(padded.reshape(1, -1))).asnumpy()
    return [pickle.loads(row[:size].astype(np.uint8).tobytes()) for row, size in zip(gathered, sizes)]


def evaluate_metrics(metrics, group_size):
    """{name: metric.eval()} after combining every metric's state across `group_size` data-parallel ranks."""
    if group_size > 1:
        for metric in metrics.values():
            state = {name: getattr(metric, name) for name in metric_accumulators(metric)}
            merge_metric_states(metric, all_gather_objects(state))
    return {name: metric.eval() for name, metric in metrics.items()}
