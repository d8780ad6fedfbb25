"""MindFormerBook: which tasks and model names exist, and the YAML behind each name."""
import difflib
import os

from mindformers.tools.errors import ConfigError

_PROJECT_PATH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# task -> model name -> YAML path relative to the project root
_TRAINER_SUPPORT_TASKS_LIST = {
    'general': {'common': 'configs/general/run_general_task.yaml'},
    'text_generation': {
        'llama_7b': 'configs/llama/run_llama_7b.yaml',
        'llama_13b': 'configs/llama/run_llama_13b.yaml',
        'llama_65b': 'configs/llama/run_llama_65b.yaml',
        'llama_7b_lora': 'configs/llama/run_llama_7b_lora.yaml',
        'llama2_7b': 'configs/llama2/pretrain_llama2_7b.yaml',
        'llama2_13b': 'configs/llama2/pretrain_llama2_13b.yaml',
        'llama2_70b': 'configs/llama2/pretrain_llama2_70b.yaml',
        'llama2_7b_lora': 'configs/llama2/lora_llama2_7b.yaml',
        'llama2_tiny': 'configs/llama2/pretrain_llama2_tiny.yaml',
        'common': 'configs/llama2/pretrain_llama2_tiny.yaml',
    },
}
# upstream tasks whose model families are not implemented in this build yet
_PLANNED_TASKS = ('masked_image_modeling', 'image_classification', 'fill_mask',
                  'contrastive_language_image_pretrain', 'image_to_text_retrieval', 'zero_shot_image_classification',
                  'image_to_text_generation', 'translation', 'text_classification', 'token_classification',
                  'question_answering', 'segment_anything', 'multi_modal_to_text_generation')


class MindFormerBook:
    """Static tables of tasks -> model names -> packaged YAMLs."""

    @staticmethod
    def get_project_path():
        return _PROJECT_PATH

    @staticmethod
    def get_trainer_support_task_list():
        return {task: dict(names) for task, names in _TRAINER_SUPPORT_TASKS_LIST.items()}

    @staticmethod
    def get_planned_task_list():
        return list(_PLANNED_TASKS)

    @staticmethod
    def get_model_name_support_list():
        return sorted({name for names in _TRAINER_SUPPORT_TASKS_LIST.values() for name in names})

    @staticmethod
    def check_task(task):
        if task in _TRAINER_SUPPORT_TASKS_LIST:
            return
        if task in _PLANNED_TASKS:
            raise ConfigError(f"task '{task}' is an upstream task whose models are not available yet in this build; "
                              f"available tasks: {sorted(_TRAINER_SUPPORT_TASKS_LIST)}")
        close = difflib.get_close_matches(str(task), list(_TRAINER_SUPPORT_TASKS_LIST) + list(_PLANNED_TASKS))
        raise ConfigError(f"unknown task '{task}'" + (f"; did you mean {close}?" if close else "") +
                          f" available tasks: {sorted(_TRAINER_SUPPORT_TASKS_LIST)}")

    @staticmethod
    def get_task_config_path(task, model_name):
        """Absolute path of the YAML for (task, model_name); unknown names list close matches."""
        MindFormerBook.check_task(task)
        names = _TRAINER_SUPPORT_TASKS_LIST[task]
        if model_name not in names:
            close = difflib.get_close_matches(str(model_name), list(names))
            raise ConfigError(f"model '{model_name}' is not supported for task '{task}'" +
                              (f"; did you mean {close}?" if close else "") + f" supported: {sorted(names)}")
        local = os.path.join(os.getcwd(), names[model_name])
        return local if os.path.isfile(local) else os.path.join(_PROJECT_PATH, names[model_name])
