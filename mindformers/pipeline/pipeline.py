"""pipeline(task, model, tokenizer, ...): build the task's pipeline from a model name, directory or instance."""
import difflib
import os

from mindformers.mindformer_book import MindFormerBook
from mindformers.tools.errors import ConfigError, NotAvailableError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['pipeline']

# keyword arguments that configure the model built from a name (upstream forwards these into model_config)
_MODEL_CONFIG_KEYS = ('batch_size', 'use_past', 'seq_length')
# tasks whose inputs are images: they take an image_processor instead of a tokenizer
_IMAGE_TASKS = ('image_classification', 'masked_image_modeling', 'zero_shot_image_classification')
# image tasks whose model also reads text: they take a tokenizer too
_IMAGE_TEXT_TASKS = ('zero_shot_image_classification',)


def _check_task(task):
    tasks = MindFormerBook.get_pipeline_support_task_list()
    if task not in tasks:
        close = difflib.get_close_matches(str(task), list(tasks))
        raise ConfigError(f"unknown pipeline task '{task}'" + (f"; did you mean {close}?" if close else "") +
                          f" supported tasks: {sorted(tasks)}")
    if not MindFormerRegister.is_exist(MindFormerModuleType.PIPELINE, task):
        raise NotAvailableError(f"pipeline task '{task}' is an upstream task whose models are not available yet in "
                                f"this build; available: text_generation, text_classification, "
                                f"token_classification, question_answering, fill_mask, translation, "
                                f"image_classification, masked_image_modeling, zero_shot_image_classification (with a "
                                f"model instance or a Hugging Face directory)")


def pipeline(task=None, model=None, tokenizer=None, image_processor=None, audio_processor=None, backend='ms',
             **kwargs):
    """`pipeline('text_generation', model='llama2_7b' | <dir> | <model>, tokenizer=<tokenizer>, max_length=50)`."""
    if backend == 'mslite':
        from mindformers.inference import get_mslite_pipeline  # pylint: disable=import-outside-toplevel
        return get_mslite_pipeline(task, model, tokenizer, image_processor, audio_processor, **kwargs)
    if backend != 'ms':
        raise ConfigError(f"pipeline: backend '{backend}' is not supported; use 'ms' or 'mslite'")
    if task is None:
        raise ConfigError("pipeline: give a task, e.g. task='text_generation'")
    _check_task(task)
    if audio_processor is not None:
        raise NotAvailableError("pipeline: audio processors belong to tasks that are not available yet")
    image_task = task in _IMAGE_TASKS
    if image_processor is not None and not image_task:
        raise ConfigError(f"pipeline('{task}') is a text task; image_processor belongs to {sorted(_IMAGE_TASKS)}")
    if model is None:
        raise ConfigError(f"pipeline('{task}'): give model=<model name, directory or instance>")
    if isinstance(model, str):
        from mindformers.auto_class import AutoModel, AutoTokenizer  # pylint: disable=import-outside-toplevel
        model_kwargs = {key: kwargs.pop(key) for key in _MODEL_CONFIG_KEYS if key in kwargs}
        if not os.path.isdir(model):
            names = MindFormerBook.get_pipeline_support_task_list()[task]
            if not names:
                raise NotAvailableError(f"pipeline('{task}'): model names for this task are not available yet in "
                                        f"this build ('{model}'); pass model=<model instance> or a Hugging Face "
                                        f"model directory")
            if model not in names or model == 'common':
                close = difflib.get_close_matches(model, list(names))
                raise ConfigError(f"pipeline('{task}'): model '{model}' is not supported for this task" +
                                  (f"; did you mean {close}?" if close else "") + f" supported: {sorted(names)}")
        if 'batch_size' in model_kwargs:
            kwargs['batch_size'] = model_kwargs['batch_size']
        if image_task and image_processor is None:
            from mindformers.auto_class import AutoProcessor  # pylint: disable=import-outside-toplevel
            image_processor = AutoProcessor.from_pretrained(model).image_processor
        if (not image_task or task in _IMAGE_TEXT_TASKS) and tokenizer is None:
            tokenizer = AutoTokenizer.from_pretrained(model)
        model = AutoModel.from_pretrained(model, **model_kwargs)
    model.set_train(False)
    config = getattr(model, 'config', None)
    if getattr(config, 'use_past', False) and 'batch_size' not in kwargs:
        kwargs['batch_size'] = config.batch_size  # the KV cache holds exactly this many rows
    pipeline_class = MindFormerRegister.get_cls(MindFormerModuleType.PIPELINE, task)
    if image_task:
        return pipeline_class(model=model, image_processor=image_processor, tokenizer=tokenizer, **kwargs)
    return pipeline_class(model=model, tokenizer=tokenizer, **kwargs)
