"""BasePipeline: inputs -> preprocess -> forward -> postprocess, with lists batched by `batch_size`."""
import numpy as np

from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger


class BasePipeline:
    """Subclasses implement `_sanitize_parameters`, `preprocess`, `forward` and `postprocess`.

    Keyword arguments given at construction are defaults; those given at call time win.
    """

    def __init__(self, model, tokenizer=None, batch_size=None, **kwargs):
        self.network = model
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self._preprocess_params, self._forward_params, self._postprocess_params = self._sanitize_parameters(**kwargs)
        self.call_count = 0

    def _sanitize_parameters(self, **kwargs):
        raise NotImplementedError

    def preprocess(self, inputs, **preprocess_params):
        raise NotImplementedError

    def forward(self, model_inputs, **forward_params):
        raise NotImplementedError

    def postprocess(self, model_outputs, **postprocess_params):
        raise NotImplementedError

    def __call__(self, inputs=None, batch_size=None, **kwargs):
        if inputs is None:
            raise ConfigError(f"{type(self).__name__}: give the inputs to predict on")
        self.call_count += 1
        if self.call_count == 20:
            logger.info("%s has been called 20 times one by one; pass a list of inputs with batch_size to batch "
                        "them", type(self).__name__)
        pre, fwd, post = self._sanitize_parameters(**kwargs)
        pre = {**self._preprocess_params, **pre}
        fwd = {**self._forward_params, **fwd}
        post = {**self._postprocess_params, **post}
        batch_size = batch_size or self.batch_size
        if isinstance(inputs, (list, tuple)):
            inputs = list(inputs)
            batch_size = batch_size or 1
            if len(inputs) % batch_size:
                raise ConfigError(f"{type(self).__name__}: {len(inputs)} inputs are not a multiple of batch_size "
                                  f"{batch_size}; give a batch_size that divides the number of inputs")
            chunks = [inputs[i:i + batch_size] for i in range(0, len(inputs), batch_size)]
        else:
            chunks = [inputs]
        outputs = []
        for chunk in chunks:
            outputs.extend(self.postprocess(self.forward(self.preprocess(chunk, **pre), **fwd), **post))
        return outputs


class LabelScoresMixin:
    """Classifier logits -> per row `[{'label', 'score'}, ...]` sorted best first (text and image classification).

    Label names come from `dataset=` (a key of dataset/labels.py), else the model config's `id2label`, else
    `LABEL_<id>`."""

    def _label_names(self, num_labels, dataset):
        from mindformers.dataset.labels import labels  # pylint: disable=import-outside-toplevel
        if dataset:
            names = labels[dataset]
            if len(names) != num_labels:
                raise ConfigError(f"{type(self).__name__}: dataset '{dataset}' has {len(names)} labels but the model "
                                  f"predicts {num_labels}")
            return list(names)
        id2label = getattr(getattr(self.network, 'config', None), 'id2label', None) or {}
        return [str(id2label.get(i, id2label.get(str(i), f'LABEL_{i}'))) for i in range(num_labels)]

    def label_scores(self, logits, top_k=None, dataset=None):
        return sorted_label_scores(logits, self._label_names(logits.shape[-1], dataset), top_k)


def sorted_label_scores(logits, names, top_k=None):
    """(rows, labels) logits -> per row the softmax scores `[{'label', 'score'}, ...]`, best first, `top_k` kept."""
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    probs = shifted / shifted.sum(-1, keepdims=True)
    results = []
    for row in probs:
        scores = sorted(({'label': names[i], 'score': float(p)} for i, p in enumerate(row)),
                        key=lambda item: item['score'], reverse=True)
        results.append(scores[:top_k] if top_k is not None else scores)
    return results
