"""TranslationPipeline: source texts -> token ids -> model.generate -> [{'translation_text': [translations]}]."""
from mindformers.pipeline.text_generation_pipeline import TextGenerationPipeline
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['TranslationPipeline']


@MindFormerRegister.register(MindFormerModuleType.PIPELINE, alias='translation')
class TranslationPipeline(TextGenerationPipeline):
    """An encoder-decoder model (T5) translates each input (with its task prefix, e.g. 'translate English to German:
    ...'); generation kwargs (max_length, do_sample, top_k, top_p, eos_token_id, ...) go to `model.generate`. A
    dict input gives its text as `src_language` (or `text`)."""

    def __init__(self, model, tokenizer=None, **kwargs):
        if not getattr(model, 'is_encoder_decoder', False):
            raise ConfigError(f"TranslationPipeline needs an encoder-decoder model (T5ForConditionalGeneration), got "
                              f"{type(model).__name__}")
        super().__init__(model, tokenizer, **kwargs)

    def preprocess(self, inputs, keys='input_ids', add_special_tokens=True):
        if isinstance(inputs, dict):
            inputs = inputs.get('src_language', inputs.get('text'))
        return super().preprocess(inputs, keys, add_special_tokens)

    def forward(self, model_inputs, **generate_kwargs):
        generate_kwargs.setdefault('eos_token_id', self.tokenizer.eos_token_id)
        generate_kwargs.setdefault('pad_token_id', self.tokenizer.pad_token_id)
        return super().forward(model_inputs, **generate_kwargs)

    def postprocess(self, model_outputs, skip_special_tokens=True):
        texts = [self.tokenizer.decode([int(t) for t in row], skip_special_tokens=skip_special_tokens)
                 for row in model_outputs]
        return [{'translation_text': texts}]


MindFormerRegister.register_cls(TranslationPipeline, MindFormerModuleType.PIPELINE)
