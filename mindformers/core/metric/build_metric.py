"""build_metric: metrics by YAML `type`, including every MindSpore `nn.metrics` class."""
import inspect

from mindspore.train import metrics as ms_metrics

from mindformers.tools.register import MindFormerModuleType
from mindformers.tools.register.register import build_from_registry, register_subclasses

register_subclasses([c for _, c in inspect.getmembers(ms_metrics, inspect.isclass)], ms_metrics.Metric,
                    MindFormerModuleType.METRIC)


def build_metric(config=None, default_args=None, module_type='metric', class_name=None, **kwargs):
    if isinstance(config, (list, tuple)):
        return [build_metric(item, default_args, module_type) for item in config]
    return build_from_registry(config, default_args, module_type, class_name, **kwargs)
