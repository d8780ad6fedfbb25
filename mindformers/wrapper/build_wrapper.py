"""build_wrapper: the train-step cell from `runner_wrapper`, with a nested `scale_sense` built first."""
import mindspore as ms
from mindspore import nn

from mindformers.tools.register import MindFormerRegister, MindFormerModuleType, MindFormerConfig

MindFormerRegister.register_cls(nn.TrainOneStepCell, MindFormerModuleType.WRAPPER, alias='wrapper')
MindFormerRegister.register_cls(nn.TrainOneStepCell, MindFormerModuleType.WRAPPER)
MindFormerRegister.register_cls(nn.TrainOneStepWithLossScaleCell, MindFormerModuleType.WRAPPER,
                                alias='loss_scale_wrapper')
_MF_WRAPPERS = ('MFTrainOneStepCell', 'mf_wrapper')


def build_wrapper(config=None, default_args=None, module_type='wrapper', class_name=None, **kwargs):
    if config is None and class_name is None:
        return None
    if config is not None:
        config = MindFormerConfig(config) if not isinstance(config, MindFormerConfig) else config
        config = MindFormerConfig(config.to_dict())
        default_args = dict(default_args or {})
        if config.type not in _MF_WRAPPERS:
            default_args.pop('parallel_config', None)
            default_args.pop('gradient_accumulation_steps', None)
        scale_sense = config.scale_sense
        if isinstance(scale_sense, dict) and scale_sense.get('type'):
            config.scale_sense = MindFormerRegister.get_instance_from_cfg(scale_sense, module_type)
        elif isinstance(scale_sense, (int, float)) and config.type not in _MF_WRAPPERS:
            config.scale_sense = ms.Tensor(float(scale_sense), ms.float32)
        return MindFormerRegister.get_instance_from_cfg(config, module_type, default_args)
    return MindFormerRegister.get_instance(module_type, class_name, **kwargs)
