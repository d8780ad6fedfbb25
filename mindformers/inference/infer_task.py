"""InferTask: the MindSpore Lite task factory (text_generation), and the `backend="mslite"` pipeline."""
import os

from mindformers.inference.infer_config import InferConfig
from mindformers.inference.lite import mindspore_lite
from mindformers.tools.errors import ConfigError


class InferTask:
    """`get_infer_task(task_type, task_config, **kwargs)` builds the Lite inferer of a task; `support_list()` names
    the tasks (text_generation), `check_task_valid(task)` tells whether one is supported."""
    task_mapping = {'text_generation': 'TextGeneratorInfer'}

    @classmethod
    def support_list(cls):
        return cls.task_mapping.keys()

    @classmethod
    def check_task_valid(cls, task_type):
        return task_type in cls.support_list()

    @classmethod
    def get_infer_task(cls, task_type, task_config, **kwargs):
        del kwargs
        if not cls.check_task_valid(task_type):
            raise ConfigError(f"InferTask: task '{task_type}' is not supported; supported: {list(cls.support_list())}")
        if not isinstance(task_config, InferConfig):
            raise ConfigError(f"InferTask: task_config must be an InferConfig, got {type(task_config).__name__}")
        for path in (task_config.prefill_model_path, task_config.increment_model_path):
            if path and not os.path.isfile(path):
                raise ConfigError(f"InferTask: MindIR file not found: {path}")
        mindspore_lite()
        raise ConfigError("InferTask: MindSpore Lite is installed, but this build has no Lite text generator yet; "
                          "use pipeline(..., backend='ms')")


def get_mslite_pipeline(task=None, model=None, tokenizer=None, image_processor=None, audio_processor=None,
                        ge_config_path=None, **kwargs):
    """pipeline(..., backend='mslite'): checks the task and the MindIR paths, then needs MindSpore Lite."""
    del tokenizer, image_processor, audio_processor
    if not InferTask.check_task_valid(task):
        raise ConfigError(f"pipeline backend 'mslite': task '{task}' is not supported; supported: "
                          f"{list(InferTask.support_list())}")
    if isinstance(model, (tuple, list)):
        prefill, increment = (list(model) + [''])[:2]
    elif isinstance(model, str) and os.path.isfile(model):
        prefill, increment = model, ''
    else:
        raise ConfigError(f"pipeline backend 'mslite': model must be a MindIR file path or a (prefill, increment) "
                          f"pair of them, got {model!r}")
    config = InferConfig(prefill_model_path=prefill, increment_model_path=increment,
                         ge_config_path=ge_config_path or '', **kwargs)
    return InferTask.get_infer_task(task, config)
