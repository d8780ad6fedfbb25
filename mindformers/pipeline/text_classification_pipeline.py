"""TextClassificationPipeline: texts -> padded token ids -> classifier logits -> [{'label', 'score'}, ...]."""
import numpy as np
import mindspore as ms

from mindformers.dataset.labels import labels as DATASET_LABELS
from mindformers.pipeline.base_pipeline import BasePipeline, LabelScoresMixin
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['TextClassificationPipeline']

_PREPROCESS_KEYS = ('max_length', 'padding', 'add_special_tokens')
_POSTPROCESS_KEYS = ('top_k', 'dataset')


@MindFormerRegister.register(MindFormerModuleType.PIPELINE, alias='text_classification')
class TextClassificationPipeline(LabelScoresMixin, BasePipeline):
    """`pipeline('text_classification', model=<classifier>, tokenizer=tok)("a text", top_k=1)`.

    Each text (or sentence pair `{'text': a, 'text_pair': b}`, encoded `[CLS] a [SEP] b [SEP]` with segment ids
    for BERT) gives a list of `{'label': name, 'score': softmax probability}` sorted best first; `top_k`
    keeps the first k. Label names come from `dataset=` (cola, sst_2, imdb, ag_news), else from the model
    config's `id2label`, else `LABEL_<id>`. Texts are padded (and cut) to `max_length`, by default the
    model's seq_length.
    """

    def __init__(self, model, tokenizer=None, **kwargs):
        if tokenizer is None:
            raise ConfigError("TextClassificationPipeline needs a tokenizer: pass tokenizer=<tokenizer instance>")
        super().__init__(model, tokenizer, **kwargs)

    def _sanitize_parameters(self, **kwargs):
        preprocess = {key: kwargs.pop(key) for key in _PREPROCESS_KEYS if key in kwargs}
        postprocess = {key: kwargs.pop(key) for key in _POSTPROCESS_KEYS if key in kwargs}
        if 'dataset' in postprocess and postprocess['dataset'] not in DATASET_LABELS:
            raise ConfigError(f"TextClassificationPipeline: unknown dataset '{postprocess['dataset']}'; label names "
                              f"are known for {sorted(DATASET_LABELS)}")
        if kwargs:
            raise ConfigError(f"TextClassificationPipeline: unknown arguments {sorted(kwargs)}; it takes "
                              f"{list(_PREPROCESS_KEYS + _POSTPROCESS_KEYS)}")
        return preprocess, {}, postprocess

    @staticmethod
    def _split_pairs(inputs):
        """(texts, second texts or None) of a string, a {'text', 'text_pair'} dict, or a list of one kind."""
        items = [inputs] if isinstance(inputs, (str, dict)) else list(inputs)
        if items and all(isinstance(item, str) for item in items):
            return items, None
        if items and all(isinstance(item, dict) for item in items):
            for item in items:
                if sorted(item) != ['text', 'text_pair'] or not all(isinstance(v, str) for v in item.values()):
                    raise ConfigError(f"TextClassificationPipeline: a sentence pair is {{'text': str, 'text_pair': "
                                      f"str}}, got keys {sorted(item)}")
            return [item['text'] for item in items], [item['text_pair'] for item in items]
        raise ConfigError("TextClassificationPipeline: inputs must be a string, a {'text', 'text_pair'} dict, or a "
                          "list of one of them")

    def preprocess(self, inputs, max_length=None, padding='max_length', add_special_tokens=True):
        texts, pairs = self._split_pairs(inputs)
        max_length = max_length or getattr(getattr(self.network, 'config', None), 'seq_length', None)
        tokens = self.tokenizer(texts, text_pair=pairs, max_length=max_length, padding=padding,
                                truncation=max_length is not None, add_special_tokens=add_special_tokens,
                                return_tensors='np')
        model_inputs = {'input_ids': np.asarray(tokens['input_ids'], np.int32),
                        'attention_mask': np.asarray(tokens['attention_mask'], np.int32)}
        if 'token_type_ids' in tokens:   # BERT-style models take the segments third
            model_inputs['token_type_ids'] = np.asarray(tokens['token_type_ids'], np.int32)
        return model_inputs

    def forward(self, model_inputs, **forward_params):
        args = [model_inputs[key] for key in ('input_ids', 'attention_mask', 'token_type_ids') if key in model_inputs]
        logits = self.network(*(ms.Tensor(arg) for arg in args))
        logits = logits[0] if isinstance(logits, (tuple, list)) else logits
        return logits.asnumpy().astype(np.float64)

    def postprocess(self, model_outputs, top_k=None, dataset=None):
        return self.label_scores(model_outputs, top_k, dataset)


# also reachable by its class name, as `type: TextClassificationPipeline`
MindFormerRegister.register_cls(TextClassificationPipeline, MindFormerModuleType.PIPELINE)
