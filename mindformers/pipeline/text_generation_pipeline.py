"""TextGenerationPipeline: prompts -> token ids -> model.generate -> [{'text_generation_text': [texts]}]."""
from mindformers.pipeline.base_pipeline import BasePipeline
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['TextGenerationPipeline']

_PREPROCESS_KEYS = ('keys', 'add_special_tokens')
_POSTPROCESS_KEYS = ('skip_special_tokens',)


@MindFormerRegister.register(MindFormerModuleType.PIPELINE, alias='text_generation')
class TextGenerationPipeline(BasePipeline):
    """Generation kwargs (max_length, max_new_tokens, do_sample, top_k, top_p, ...) go to `model.generate`."""

    def __init__(self, model, tokenizer=None, **kwargs):
        if tokenizer is None:
            raise ConfigError("TextGenerationPipeline needs a tokenizer: pass tokenizer=<tokenizer instance>")
        if not hasattr(model, 'generate'):
            raise ConfigError(f"TextGenerationPipeline: {type(model).__name__} has no generate()")
        super().__init__(model, tokenizer, **kwargs)

    def _sanitize_parameters(self, **kwargs):
        preprocess = {key: kwargs.pop(key) for key in _PREPROCESS_KEYS if key in kwargs}
        postprocess = {key: kwargs.pop(key) for key in _POSTPROCESS_KEYS if key in kwargs}
        return preprocess, kwargs, postprocess

    def preprocess(self, inputs, keys='input_ids', add_special_tokens=True):
        if isinstance(inputs, dict):
            inputs = inputs['text']
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        if not all(isinstance(text, str) for text in texts):
            raise ConfigError("TextGenerationPipeline: inputs must be a string or a list of strings")
        # one list per prompt (no padding): generate takes rows of different lengths
        return {keys: [self.tokenizer(text, add_special_tokens=add_special_tokens)['input_ids'] for text in texts]}

    def forward(self, model_inputs, **generate_kwargs):
        input_ids = model_inputs.get('input_ids', next(iter(model_inputs.values())))
        output = self.network.generate(input_ids, **generate_kwargs)
        return getattr(output, 'sequences', output)

    def postprocess(self, model_outputs, skip_special_tokens=True):
        texts = [self.tokenizer.decode([int(t) for t in row], skip_special_tokens=skip_special_tokens)
                 for row in model_outputs]
        return [{'text_generation_text': texts}]


# also reachable by its class name, as `type: TextGenerationPipeline`
MindFormerRegister.register_cls(TextGenerationPipeline, MindFormerModuleType.PIPELINE)
