"""PerplexityMetric: mean masked next-token loss over an eval set, and its exponential."""
import math

import numpy as np
from mindspore import Tensor
from mindspore.train.metrics import Metric

from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


def _numpy(value):
    return value.asnumpy() if isinstance(value, Tensor) else np.asarray(value)


@MindFormerRegister.register(MindFormerModuleType.METRIC)
class PerplexityMetric(Metric):
    """update(logits, tokens, input_mask): logits[:, :-1] predict tokens[:, 1:] where mask[:, 1:] is set.

    The loss of a batch is its masked mean cross entropy; the result averages batch losses, as
    upstream does: {'loss': mean_loss, 'PPL': exp(mean_loss)}.
    """

    def __init__(self, pipeline_parallel=False):
        super().__init__()
        self.pipeline_parallel = pipeline_parallel
        self.clear()

    def clear(self):
        self.total_loss = 0.0
        self.num_batches = 0

    def update(self, *inputs):
        logits, tokens, mask = (_numpy(x) for x in inputs[:3])
        logits = logits.astype(np.float64)[:, :-1]
        labels = tokens[:, 1:].astype(np.int64)
        mask = mask[:, 1:].astype(np.float64)
        if self.pipeline_parallel:
            mask = mask - 1  # the model adds 1 under pipeline parallelism
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        nll = -np.take_along_axis(log_probs, labels[..., None], axis=-1)[..., 0]
        self.total_loss += float((nll * mask).sum() / (mask.sum() + 1e-8))
        self.num_batches += 1

    def eval(self):
        if self.num_batches == 0:
            raise RuntimeError("PerplexityMetric: no batch was evaluated")
        loss = self.total_loss / self.num_batches
        return {'loss': loss, 'PPL': math.exp(min(loss, 700.0))}
