"""MindFormerBook: which tasks and model names exist, and the YAML behind each name."""
import difflib
import os

from mindformers.tools.errors import ConfigError, NotAvailableError

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
        'gpt2': 'configs/gpt2/run_gpt2.yaml',
        'gpt2_lora': 'configs/gpt2/run_gpt2_lora.yaml',
        'gpt2_xl': 'configs/gpt2/run_gpt2_xl.yaml',
        'gpt2_xl_lora': 'configs/gpt2/run_gpt2_xl_lora.yaml',
        'gpt2_13b': 'configs/gpt2/run_gpt2_13b.yaml',
        'gpt2_52b': 'configs/gpt2/run_gpt2_52b.yaml',
        'gpt2_tiny': 'configs/gpt2/run_gpt2_tiny.yaml',
        'gpt2_tiny_lora': 'configs/gpt2/run_gpt2_lora_tiny.yaml',
        'bloom_560m': 'configs/bloom/run_bloom_560m.yaml',
        'bloom_7.1b': 'configs/bloom/run_bloom_7.1b.yaml',
        'bloom_65b': 'configs/bloom/run_bloom_65b.yaml',
        'bloom_176b': 'configs/bloom/run_bloom_176b.yaml',
        'bloom_tiny': 'configs/bloom/run_bloom_tiny.yaml',
        'glm_6b': 'configs/glm/run_glm_6b_finetune.yaml',
        'glm_6b_chat': 'configs/glm/run_glm_6b_infer.yaml',
        'glm_6b_lora': 'configs/glm/run_glm_6b_lora.yaml',
        'glm_6b_lora_chat': 'configs/glm/run_glm_6b_lora_infer.yaml',
        'glm_tiny': 'configs/glm/run_glm_tiny.yaml',
        'glm_tiny_chat': 'configs/glm/run_glm_tiny_infer.yaml',
        'glm_tiny_lora': 'configs/glm/run_glm_tiny_lora.yaml',
        'glm_tiny_lora_chat': 'configs/glm/run_glm_tiny_lora_infer.yaml',
        'pangualpha_2_6b': 'configs/pangualpha/run_pangualpha_2_6b.yaml',
        'pangualpha_13b': 'configs/pangualpha/run_pangualpha_13b.yaml',
        'pangualpha_2_6b_prompt_txtcls': 'configs/pangualpha/run_pangualpha_2_6b_prompt_txtcls.yaml',
        'pangualpha_tiny': 'configs/pangualpha/run_pangualpha_tiny.yaml',
        'pangualpha_tiny_prompt_txtcls': 'configs/pangualpha/run_pangualpha_tiny_prompt_txtcls.yaml',
        'glm2_6b': 'configs/glm2/run_glm2_6b.yaml',
        'glm2_6b_lora': 'configs/glm2/run_glm2_6b_lora.yaml',
        'glm2_tiny': 'configs/glm2/run_glm2_tiny.yaml',
        'glm2_6b_ptuning2': 'configs/glm2/run_glm2_6b_ptuning2.yaml',
        'glm2_tiny_lora': 'configs/glm2/run_glm2_tiny_lora.yaml',
        'glm2_tiny_ptuning2': 'configs/glm2/run_glm2_tiny_ptuning2.yaml',
        'common': 'configs/gpt2/run_gpt2.yaml',
    },
    'text_classification': {
        'txtcls_bert_base_uncased': 'configs/txtcls/run_txtcls_bert_base_uncased.yaml',
        'txtcls_bert_base_uncased_mnli': 'configs/txtcls/run_txtcls_bert_base_uncased_mnli.yaml',
        'mindspore/txtcls_bert_base_uncased_mnli': 'configs/txtcls/run_txtcls_bert_base_uncased_mnli.yaml',
        'txtcls_bert_tiny_uncased': 'configs/txtcls/run_txtcls_bert_tiny_uncased.yaml',
        'gpt2_txtcls': 'configs/gpt2/run_gpt2_txtcls.yaml',
        'gpt2_txtcls_tiny': 'configs/gpt2/run_gpt2_txtcls_tiny.yaml',
        'common': 'configs/txtcls/run_txtcls_bert_base_uncased.yaml',
    },
    'token_classification': {
        'tokcls_bert_base_chinese': 'configs/tokcls/run_tokcls_bert_base_chinese.yaml',
        'tokcls_bert_base_chinese_cluener': 'configs/tokcls/run_tokcls_bert_base_chinese_cluener.yaml',
        'mindspore/tokcls_bert_base_chinese_cluener': 'configs/tokcls/run_tokcls_bert_base_chinese_cluener.yaml',
        'tokcls_bert_tiny_chinese': 'configs/tokcls/run_tokcls_bert_tiny_chinese.yaml',
        'common': 'configs/tokcls/run_tokcls_bert_base_chinese.yaml',
    },
    'fill_mask': {
        'bert_base_uncased': 'configs/bert/run_bert_base_uncased.yaml',
        'bert_tiny_uncased': 'configs/bert/run_bert_tiny_uncased.yaml',
        'common': 'configs/bert/run_bert_base_uncased.yaml',
    },
    'question_answering': {
        'qa_bert_base_uncased': 'configs/qa/run_qa_bert_base_uncased.yaml',
        'qa_bert_base_uncased_squad': 'configs/qa/run_qa_bert_base_uncased.yaml',
        'mindspore/qa_bert_base_uncased': 'configs/qa/run_qa_bert_base_uncased.yaml',
        'qa_bert_tiny_uncased': 'configs/qa/run_qa_bert_tiny_uncased.yaml',
        'common': 'configs/qa/run_qa_bert_base_uncased.yaml',
    },
    'masked_image_modeling': {
        'mae_vit_base_p16': 'configs/mae/run_mae_vit_base_p16_224_800ep.yaml',
        'mae_vit_tiny_p7_28_mnist': 'configs/mae/run_mae_vit_tiny_p7_28_mnist.yaml',
        'common': 'configs/mae/run_mae_vit_base_p16_224_800ep.yaml',
    },
    'contrastive_language_image_pretrain': {
        'clip_vit_b_32': 'configs/clip/run_clip_vit_b_32_pretrain_flickr8k.yaml',
        'clip_vit_b_16': 'configs/clip/run_clip_vit_b_16_pretrain_flickr8k.yaml',
        'clip_vit_l_14': 'configs/clip/run_clip_vit_l_14_pretrain_flickr8k.yaml',
        'clip_vit_l_14@336': 'configs/clip/run_clip_vit_l_14@336_pretrain_flickr8k.yaml',
        'clip_tiny_p7_28_mnist': 'configs/clip/run_clip_tiny_p7_28_pretrain_mnist.yaml',
        'common': 'configs/clip/run_clip_vit_b_32_pretrain_flickr8k.yaml',
    },
    'zero_shot_image_classification': {
        'clip_vit_b_32': 'configs/clip/run_clip_vit_b_32_zero_shot_image_classification_cifar100.yaml',
        'mindspore/clip_vit_b_32': 'configs/clip/run_clip_vit_b_32_zero_shot_image_classification_cifar100.yaml',
        'clip_vit_b_16': 'configs/clip/run_clip_vit_b_16_zero_shot_image_classification_cifar100.yaml',
        'clip_vit_l_14': 'configs/clip/run_clip_vit_l_14_zero_shot_image_classification_cifar100.yaml',
        'clip_vit_l_14@336': 'configs/clip/run_clip_vit_l_14@336_zero_shot_image_classification_cifar100.yaml',
        'clip_tiny_p7_28_mnist': 'configs/clip/run_clip_tiny_p7_28_zero_shot_image_classification_mnist.yaml',
        'common': 'configs/clip/run_clip_vit_b_32_zero_shot_image_classification_cifar100.yaml',
    },
    'image_classification': {
        'vit_base_p16': 'configs/vit/run_vit_base_p16_224_100ep.yaml',
        'mindspore/vit_base_p16': 'configs/vit/run_vit_base_p16_224_100ep.yaml',
        'vit_tiny_p7_28_mnist': 'configs/vit/run_vit_tiny_p7_28_mnist.yaml',
        'swin_base_p4w7': 'configs/swin/run_swin_base_p4w7_224_100ep.yaml',
        'mindspore/swin_base_p4w7': 'configs/swin/run_swin_base_p4w7_224_100ep.yaml',
        'swin_tiny_p2w7_28_mnist': 'configs/swin/run_swin_tiny_p2w7_28_mnist.yaml',
        'common': 'configs/vit/run_vit_base_p16_224_100ep.yaml',
    },
    'translation': {
        't5_small': 'configs/t5/run_t5_small_on_wmt16.yaml',
        't5_tiny': 'configs/t5/run_t5_tiny_on_wmt16.yaml',
        'common': 'configs/t5/run_t5_small_on_wmt16.yaml',
    },
}
# upstream tasks whose model families are not implemented in this build yet
_PLANNED_TASKS = ('image_to_text_retrieval',
                  'image_to_text_generation', 'segment_anything', 'multi_modal_to_text_generation')

# upstream r1.0 AutoModel names per model type (the seeds' model matrix); only _IMPLEMENTED_FAMILIES build here,
# the other rows are kept so that a user asking for them gets "not available yet" instead of "unknown name"
_MODEL_SUPPORT_LIST = {
    'clip': ['clip_vit_b_32', 'clip_vit_b_16', 'clip_vit_l_14', 'clip_vit_l_14@336', 'mindspore/clip_vit_b_32',
             'clip_tiny_p7_28_mnist'],
    'blip2': {'stage1': ['blip2_stage1_vit_g', 'blip2_stage1_evaluator', 'blip2_stage1_classification'],
              'stage2': ['blip2_stage2_vit_g_baichuan_7b', 'blip2_stage2_vit_g_llama_7b']},
    'itt': {'blip2': ['itt_blip2_stage2_vit_g_baichuan_7b', 'itt_blip2_stage2_vit_g_llama_7b']},
    'mae': ['mae_vit_base_p16', 'mae_vit_tiny_p7_28_mnist'],
    'vit': ['vit_base_p16', 'mindspore/vit_base_p16', 'vit_g_p16', 'vit_tiny_p7_28_mnist'],
    'swin': ['swin_base_p4w7', 'mindspore/swin_base_p4w7', 'swin_tiny_p2w7_28_mnist'],
    'bert': ['bert_base_uncased', 'bert_tiny_uncased'],
    'tokcls': {'bert': ['tokcls_bert_base_chinese', 'tokcls_bert_base_chinese_cluener',
                        'mindspore/tokcls_bert_base_chinese_cluener', 'tokcls_bert_tiny_chinese']},
    'txtcls': {'bert': ['txtcls_bert_base_uncased', 'txtcls_bert_base_uncased_mnli',
                        'mindspore/txtcls_bert_base_uncased_mnli', 'txtcls_bert_tiny_uncased'],
               'gpt2': ['gpt2_txtcls', 'gpt2_txtcls_tiny']},
    'qa': {'bert': ['qa_bert_base_uncased', 'qa_bert_base_uncased_squad', 'mindspore/qa_bert_base_uncased',
                    'qa_bert_tiny_uncased']},
    't5': ['t5_small', 't5_tiny'],
    'mt5': ['t5_pegasus_base'],
    'gpt2': ['gpt2', 'gpt2_lora', 'gpt2_xl', 'gpt2_xl_lora', 'gpt2_13b', 'gpt2_52b', 'gpt2_tiny', 'gpt2_tiny_lora'],
    'llama': ['llama_7b', 'llama_13b', 'llama_65b', 'llama_7b_lora'],
    'llama2': ['llama2_7b', 'llama2_13b', 'llama2_70b', 'llama2_7b_lora', 'llama2_tiny'],
    'codellama': ['codellama_34b'],
    'pangualpha': ['pangualpha_2_6b', 'pangualpha_13b', 'pangualpha_2_6b_prompt_txtcls', 'pangualpha_tiny',
                   'pangualpha_tiny_prompt_txtcls'],
    'bloom': ['bloom_560m', 'bloom_7.1b', 'bloom_65b', 'bloom_176b', 'bloom_tiny'],
    'glm': ['glm_6b', 'glm_6b_chat', 'glm_6b_lora', 'glm_6b_lora_chat', 'glm_tiny', 'glm_tiny_chat', 'glm_tiny_lora',
            'glm_tiny_lora_chat'],
    'glm2': ['glm2_6b', 'glm2_6b_lora', 'glm2_6b_ptuning2', 'glm2_tiny', 'glm2_tiny_lora', 'glm2_tiny_ptuning2'],
    'glm3': ['glm3_6b'],
    'codegeex2': ['codegeex2_6b'],
    'internlm': ['internlm_7b', 'internlm_7b_lora'],
    'baichuan': ['baichuan_7b'],
    'baichuan2': ['baichuan2_7b', 'baichuan2_13b'],
    'ziya': ['ziya_13b'],
    'skywork': ['skywork_13b'],
    'qwen': ['qwen_7b', 'qwen_7b_lora'],
    'sam': ['sam_vit_b', 'sam_vit_l', 'sam_vit_h'],
}
_IMPLEMENTED_FAMILIES = ('llama', 'llama2', 'gpt2', 'bloom', 'glm', 'glm2', 'pangualpha', 'bert', 'txtcls', 'tokcls',
                        'qa', 't5', 'vit', 'swin', 'mae', 'clip')

# pipeline tasks (r1.0): the trainer tasks minus general / contrastive_language_image_pretrain
_PIPELINE_SUPPORT_TASK_LIST = ('masked_image_modeling', 'image_classification', 'fill_mask',
                               'image_to_text_retrieval', 'zero_shot_image_classification', 'image_to_text_generation',
                               'translation', 'text_classification', 'token_classification', 'question_answering',
                               'text_generation', 'segment_anything')

# upstream hosts released weights and tokenizers on Huawei OBS under MindFormers/<family>/<file>
_OBS_ROOT = 'https://ascend-repo-modelzoo.obs.cn-east-2.myhuaweicloud.com/MindFormers'
_DOWNLOADABLE = ('clip_vit_b_32', 'clip_vit_b_16', 'clip_vit_l_14', 'clip_vit_l_14@336', 'mae_vit_base_p16',
                 'vit_base_p16', 'swin_base_p4w7', 'bert_base_uncased', 'tokcls_bert_base_chinese_cluener',
                 'txtcls_bert_base_uncased_mnli', 'qa_bert_base_uncased_squad', 't5_small', 'gpt2', 'gpt2_13b',
                 'gpt2_xl', 'llama_7b', 'llama_13b', 'llama2_7b', 'llama2_13b', 'llama2_70b', 'codellama_34b',
                 'pangualpha_2_6b', 'pangualpha_13b', 'bloom_560m', 'bloom_7.1b', 'glm_6b', 'glm_6b_lora',
                 'glm2_6b', 'glm2_6b_lora', 'glm3_6b', 'codegeex2_6b', 'internlm_7b', 'baichuan2_7b',
                 'baichuan2_13b', 'sam_vit_b', 'sam_vit_l', 'sam_vit_h', 'blip2_stage1_vit_g')
_MODEL_CKPT_URL_LIST = {name: [f"{_OBS_ROOT}/{name.split('_')[0]}/{name}.ckpt"] for name in _DOWNLOADABLE}
# tokenizer files per family (sentencepiece models and BPE vocabularies)
_TOKENIZER_SUPPORT_URL_LIST = {
    'llama': [f"{_OBS_ROOT}/llama/tokenizer.model"],
    'llama2': [f"{_OBS_ROOT}/llama2/tokenizer.model"],
    'codellama': [f"{_OBS_ROOT}/codellama/tokenizer.model"],
    'gpt2': [f"{_OBS_ROOT}/gpt2/vocab.json", f"{_OBS_ROOT}/gpt2/merges.txt"],
    'bloom': [f"{_OBS_ROOT}/bloom/tokenizer.json"],
    'glm': [f"{_OBS_ROOT}/glm/ice_text.model"],
    'pangualpha': [f"{_OBS_ROOT}/pangualpha/vocab.model"],
    'glm2': [f"{_OBS_ROOT}/glm2/tokenizer.model"],
    'bert': [f"{_OBS_ROOT}/bert/vocab.txt"],
    'txtcls': [f"{_OBS_ROOT}/txtcls/vocab.txt"],
    'tokcls': [f"{_OBS_ROOT}/tokcls/vocab.txt"],
    'qa': [f"{_OBS_ROOT}/qa/vocab.txt"],
    't5': [f"{_OBS_ROOT}/t5/spiece.model"],
    'clip': [f"{_OBS_ROOT}/clip/bpe_simple_vocab_16e6.txt.gz"],
}


def _flatten(names):
    if isinstance(names, dict):
        return [name for sub in names.values() for name in _flatten(sub)]
    return list(names)


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

    # ---- model matrix, URLs and named-weight resolution ------------------------------------------
    @staticmethod
    def get_model_support_list():
        return {family: (dict(names) if isinstance(names, dict) else list(names))
                for family, names in _MODEL_SUPPORT_LIST.items()}

    @staticmethod
    def get_implemented_family_list():
        return list(_IMPLEMENTED_FAMILIES)

    @staticmethod
    def get_pipeline_support_task_list():
        return {task: (dict(_TRAINER_SUPPORT_TASKS_LIST[task]) if task in _TRAINER_SUPPORT_TASKS_LIST else {})
                for task in _PIPELINE_SUPPORT_TASK_LIST}

    @staticmethod
    def get_model_ckpt_url_list():
        return {name: list(urls) for name, urls in _MODEL_CKPT_URL_LIST.items()}

    @staticmethod
    def get_downloadable_model_name_list():
        return sorted(_MODEL_CKPT_URL_LIST)

    @staticmethod
    def get_tokenizer_url_list():
        return {family: list(urls) for family, urls in _TOKENIZER_SUPPORT_URL_LIST.items()}

    @staticmethod
    def get_default_checkpoint_download_folder():
        return os.getenv('CHECKPOINT_DOWNLOAD_FOLDER', './checkpoint_download')

    @staticmethod
    def show_model_support_list():
        from mindformers.tools.logger import logger  # pylint: disable=import-outside-toplevel
        for family, names in _MODEL_SUPPORT_LIST.items():
            state = '' if family in _IMPLEMENTED_FAMILIES else ' (not available yet)'
            logger.info("%s%s: %s", family, state, _flatten(names))

    @staticmethod
    def get_model_config_path(name):
        """Packaged YAML of a model name; names of families not built yet, and unknown names, are errors."""
        for task, names in _TRAINER_SUPPORT_TASKS_LIST.items():
            if name in names and name != 'common' and task != 'general':
                return MindFormerBook.get_task_config_path(task, name)
        for family, names in _MODEL_SUPPORT_LIST.items():
            if name in _flatten(names) and family in _IMPLEMENTED_FAMILIES:
                built = [n for n in _flatten(names) if any(n in task_names for task_names in
                                                           _TRAINER_SUPPORT_TASKS_LIST.values())]
                raise NotAvailableError(f"model '{name}' (family '{family}') is not available yet in this build; "
                                        f"its family has: {built}")
            if name in _flatten(names):
                raise NotAvailableError(f"model '{name}' (family '{family}') is an upstream model that is not "
                                        f"available yet in this build; available families: "
                                        f"{list(_IMPLEMENTED_FAMILIES)}")
        known = [n for names in _TRAINER_SUPPORT_TASKS_LIST.values() for n in names if n != 'common']
        known += [n for names in _MODEL_SUPPORT_LIST.values() for n in _flatten(names)]
        close = difflib.get_close_matches(str(name), known)
        raise ConfigError(f"unknown model name '{name}'" + (f"; did you mean {close}?" if close else "") +
                          " (MindFormerBook.show_model_support_list() prints every name)")
