"""build_metric: metrics by YAML `type`, including every MindSpore `nn.metrics` class."""
import inspect

from mindspore.train import metrics as ms_metrics

from mindformers.tools.register import MindFormerRegister, MindFormerModuleType, MindFormerConfig

for _name, _cls in inspect.getmembers(ms_metrics, inspect.isclass):
    if issubclass(_cls, ms_metrics.Metric) and not MindFormerRegister.is_exist(MindFormerModuleType.METRIC, _name):
        MindFormerRegister.register_cls(_cls, MindFormerModuleType.METRIC)


def build_metric(config=None, default_args=None, module_type='metric', class_name=None, **kwargs):
    if config is None and class_name is None:
        return None
    if config is not None:
        if isinstance(config, (list, tuple)):
            return [build_metric(item, default_args, module_type) for item in config]
        return MindFormerRegister.get_instance_from_cfg(MindFormerConfig(dict(config)), module_type, default_args)
    return MindFormerRegister.get_instance(module_type, class_name, **kwargs)
