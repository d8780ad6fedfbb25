"""TokenClassificationPipeline: texts -> one token per character -> BIOS tags -> entity groups with offsets."""
import numpy as np
import mindspore as ms

from mindformers.core.metric.token_classification_metrics import bios_entities
from mindformers.dataset.labels import cluener_labels
from mindformers.dataset.transforms.text_transforms import char_token_ids
from mindformers.generation.logits_process import softmax
from mindformers.pipeline.base_pipeline import BasePipeline
from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['TokenClassificationPipeline']

_PREPROCESS_KEYS = ('max_length', 'padding')


@MindFormerRegister.register(MindFormerModuleType.PIPELINE, alias='token_classification')
class TokenClassificationPipeline(BasePipeline):
    """`pipeline('token_classification', model=<BertForTokenClassification>, tokenizer=tok)("text")`.

    Each text gives a list of entities `{'entity_group': type, 'start': first character, 'end': last character
    (inclusive), 'score': mean probability of the span's tags, 'word': text[start:end + 1]}`; a single string gives
    `[[...]]`, a list one inner list per text. Tags are BIOS label names: `id2label=` (a list, or a dict id -> name),
    else the model config's id2label, else CLUENER's 31 tags. The tokenizer must give one token per character
    (BertTokenizer with is_tokenize_char=True); texts are cut to `max_length` - 2 characters (default: the
    model's seq_length).
    """

    def __init__(self, model, id2label=None, tokenizer=None, **kwargs):
        if tokenizer is None:
            raise ConfigError("TokenClassificationPipeline needs a tokenizer: pass tokenizer=<BertTokenizer with "
                              "is_tokenize_char=True>")
        super().__init__(model, tokenizer, **kwargs)
        self.id2label = self._label_names(id2label)

    def _label_names(self, id2label):
        config = getattr(self.network, 'config', None)
        num_labels = getattr(config, 'num_labels', None)
        id2label = id2label if id2label is not None else getattr(config, 'id2label', None)
        if id2label is None:
            if num_labels not in (None, len(cluener_labels)):
                raise ConfigError(f"TokenClassificationPipeline: the model has {num_labels} labels; pass "
                                  f"id2label=[BIOS tag of each id] (CLUENER's {len(cluener_labels)} are the default)")
            return list(cluener_labels)
        if isinstance(id2label, dict):
            id2label = [id2label.get(i, id2label.get(str(i))) for i in range(len(id2label))]
        names = [str(name) for name in id2label]
        if num_labels is not None and len(names) != num_labels:
            raise ConfigError(f"TokenClassificationPipeline: id2label has {len(names)} names but the model predicts "
                              f"{num_labels} labels")
        return names

    def _sanitize_parameters(self, **kwargs):
        preprocess = {key: kwargs.pop(key) for key in _PREPROCESS_KEYS if key in kwargs}
        if kwargs:
            raise ConfigError(f"TokenClassificationPipeline: unknown arguments {sorted(kwargs)}; it takes "
                              f"{list(_PREPROCESS_KEYS)}")
        return preprocess, {}, {}

    def preprocess(self, inputs, max_length=None, padding='max_length'):
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        if not texts or not all(isinstance(text, str) for text in texts):
            raise ConfigError("TokenClassificationPipeline: inputs must be a string or a list of strings")
        max_length = max_length or getattr(getattr(self.network, 'config', None), 'seq_length', None) or 128
        try:
            ids = [char_token_ids(self.tokenizer, text, 'use a BertTokenizer with is_tokenize_char=True')
                   for text in texts]
        except DatasetError as err:
            raise ConfigError(f"TokenClassificationPipeline: {err}") from None
        tokens = self.tokenizer(ids, max_length=max_length, padding=padding, truncation=True, return_tensors='np')
        return {'texts': [text[:max_length - 2] for text in texts],
                'input_ids': np.asarray(tokens['input_ids'], np.int32),
                'attention_mask': np.asarray(tokens['attention_mask'], np.int32),
                'token_type_ids': np.asarray(tokens['token_type_ids'], np.int32)}

    def forward(self, model_inputs, **forward_params):
        logits = self.network(ms.Tensor(model_inputs['input_ids']), ms.Tensor(model_inputs['attention_mask']),
                              ms.Tensor(model_inputs['token_type_ids']))
        logits = logits[0] if isinstance(logits, (tuple, list)) else logits
        return {'texts': model_inputs['texts'], 'logits': logits.asnumpy().astype(np.float64)}

    def postprocess(self, model_outputs, **postprocess_params):
        probs = softmax(model_outputs['logits'])
        results = []
        for text, row in zip(model_outputs['texts'], probs):
            row = row[1:1 + len(text)]          # position i + 1 is character i ([CLS] first)
            ids, best = row.argmax(-1), row.max(-1)
            tags = [self.id2label[i] for i in ids]
            results.append([{'entity_group': kind, 'start': start, 'end': end,
                             'score': round(float(best[start:end + 1].mean()), 5), 'word': text[start:end + 1]}
                            for kind, start, end in bios_entities(tags)])
        return results


MindFormerRegister.register_cls(TokenClassificationPipeline, MindFormerModuleType.PIPELINE)
