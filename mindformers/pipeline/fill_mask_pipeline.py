"""FillMaskPipeline: texts with the tokenizer's mask token -> masked-LM scores -> the likeliest fillers."""
import numpy as np
import mindspore as ms

from mindformers.generation.logits_process import softmax
from mindformers.pipeline.base_pipeline import BasePipeline
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['FillMaskPipeline']

_PREPROCESS_KEYS = ('max_length',)
_POSTPROCESS_KEYS = ('top_k',)


@MindFormerRegister.register(MindFormerModuleType.PIPELINE, alias='fill_mask')
class FillMaskPipeline(BasePipeline):
    """`pipeline('fill_mask', model=<masked LM>, tokenizer=tok)("Paris is the [MASK] of France.", top_k=5)`.

    Each text gives, best first, `top_k` (default 5) dicts `{'score', 'token', 'token_str', 'sequence'}`:
    the softmax probability, the filler's id, its text, and the input with the filler in place (special
    tokens removed). A text with several mask tokens gives one such list per mask. Texts are padded to the
    longest in the batch and cut to `max_length` (by default the model's seq_length).
    """

    def __init__(self, model, tokenizer=None, **kwargs):
        if tokenizer is None:
            raise ConfigError("FillMaskPipeline needs a tokenizer: pass tokenizer=<tokenizer instance>")
        if tokenizer.mask_token_id is None:
            raise ConfigError(f"FillMaskPipeline: {type(tokenizer).__name__} has no mask_token")
        super().__init__(model, tokenizer, **kwargs)

    def _sanitize_parameters(self, **kwargs):
        preprocess = {key: kwargs.pop(key) for key in _PREPROCESS_KEYS if key in kwargs}
        postprocess = {key: kwargs.pop(key) for key in _POSTPROCESS_KEYS if key in kwargs}
        top_k = postprocess.get('top_k', 5)
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise ConfigError(f"FillMaskPipeline: top_k must be a positive integer, got {top_k!r}")
        if kwargs:
            raise ConfigError(f"FillMaskPipeline: unknown arguments {sorted(kwargs)}; it takes "
                              f"{list(_PREPROCESS_KEYS + _POSTPROCESS_KEYS)}")
        return preprocess, {}, postprocess

    def preprocess(self, inputs, max_length=None):
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        if not texts or not all(isinstance(text, str) for text in texts):
            raise ConfigError("FillMaskPipeline: inputs must be a string or a list of strings")
        max_length = max_length or getattr(getattr(self.network, 'config', None), 'seq_length', None)
        tokens = self.tokenizer(texts, max_length=max_length, padding='longest', truncation=max_length is not None,
                                return_tensors='np')
        ids = np.asarray(tokens['input_ids'], np.int32)
        for text, row in zip(texts, ids):
            if not (row == self.tokenizer.mask_token_id).any():
                raise ConfigError(f"FillMaskPipeline: no {self.tokenizer.mask_token} in {text[:60]!r} (after "
                                  f"truncation to {ids.shape[1]} tokens)")
        types = tokens.get('token_type_ids')
        types = np.zeros_like(ids) if types is None else np.asarray(types, np.int32)
        return {'input_ids': ids, 'attention_mask': np.asarray(tokens['attention_mask'], np.int32),
                'token_type_ids': types}

    def forward(self, model_inputs, **forward_params):
        score = getattr(self.network, 'masked_lm_scores', self.network)   # BertForPreTraining returns more
        scores = score(ms.Tensor(model_inputs['input_ids']), ms.Tensor(model_inputs['attention_mask']),
                       ms.Tensor(model_inputs['token_type_ids']))
        scores = scores[0] if isinstance(scores, (tuple, list)) else scores
        return {'input_ids': model_inputs['input_ids'], 'attention_mask': model_inputs['attention_mask'],
                'scores': scores.asnumpy().astype(np.float64)}

    def postprocess(self, model_outputs, top_k=5):
        results = []
        for ids, keep, scores in zip(model_outputs['input_ids'], model_outputs['attention_mask'],
                                     model_outputs['scores']):
            ids = ids[keep.astype(bool)]
            per_mask = []
            for position in np.flatnonzero(ids == self.tokenizer.mask_token_id):
                probs = softmax(scores[position])
                best = np.argsort(-probs, kind='stable')[:top_k]
                candidates = []
                for token in best:
                    filled = ids.copy()
                    filled[position] = token
                    candidates.append({'score': float(probs[token]), 'token': int(token),
                                       'token_str': self.tokenizer.decode([int(token)]),
                                       'sequence': self.tokenizer.decode(filled.tolist(), skip_special_tokens=True)})
                per_mask.append(candidates)
            results.append(per_mask[0] if len(per_mask) == 1 else per_mask)
        return results


# also reachable by its class name, as `type: FillMaskPipeline`
MindFormerRegister.register_cls(FillMaskPipeline, MindFormerModuleType.PIPELINE)
