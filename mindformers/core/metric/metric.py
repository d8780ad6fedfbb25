"""PerplexityMetric: mean masked next-token loss over an eval set, and its exponential."""
import math

import numpy as np
import mindspore as ms
from mindspore import Tensor, nn, ops
from mindspore.train.metrics import Metric

from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


def _numpy(value):
    return value.asnumpy() if isinstance(value, Tensor) else np.asarray(value)


class _TokenNLL(nn.Cell):
    """-log p(token[t+1] | ...) from logits[:, t] for every position: (batch, seq - 1)."""

    def construct(self, logits, tokens):
        # logits cover every token (seq) or all but a record's last one (seq - 1): either way the first
        # seq - 1 positions predict tokens[:, 1:]. The vocab-sized logits are never sliced (a strided copy
        # of them costs ~10x the log-softmax on CPU); the (batch, positions) result is.
        batch, seq_len = tokens.shape
        positions, vocab = logits.shape[1], logits.shape[2]
        labels = tokens[:, 1:]
        if positions == seq_len:
            labels = ops.concat((labels, ops.zeros((batch, 1), labels.dtype)), 1)
        log_probs = ops.log_softmax(ops.reshape(ops.cast(logits, ms.float32), (-1, vocab)), -1)
        nll = -ops.reshape(ops.gather_elements(log_probs, 1, ops.reshape(labels, (-1, 1))), (batch, positions))
        return nll[:, :seq_len - 1]


@MindFormerRegister.register(MindFormerModuleType.METRIC)
class PerplexityMetric(Metric):
    """update(logits, tokens, input_mask): logits[:, t] predicts tokens[:, t + 1] where mask[:, t + 1] is set
    (logits may omit the last token, which nothing follows).

    The loss of a batch is its masked mean cross entropy; the result averages batch losses, as
    upstream does: {'loss': mean_loss, 'PPL': exp(mean_loss)}.
    """

    def __init__(self, pipeline_parallel=False):
        super().__init__()
        self.pipeline_parallel = pipeline_parallel
        self._token_nll = _TokenNLL()
        self.clear()

    def clear(self):
        self.total_loss = 0.0
        self.num_batches = 0

    def update(self, *inputs):
        logits, tokens, mask = (x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs[:3])
        # the vocab-sized work stays in a compiled kernel; only (batch, seq) numbers come back to numpy
        nll = self._token_nll(logits, ops.cast(tokens, ms.int32)).asnumpy().astype(np.float64).reshape(-1)
        mask = _numpy(mask)[:, 1:].reshape(-1).astype(np.float64)
        if self.pipeline_parallel:
            mask = mask - 1  # the model adds 1 under pipeline parallelism
        self.total_loss += float((nll * mask).sum() / (mask.sum() + 1e-8))
        self.num_batches += 1

    def eval(self):
        if self.num_batches == 0:
            raise RuntimeError("PerplexityMetric: no batch was evaluated")
        loss = self.total_loss / self.num_batches
        return {'loss': loss, 'PPL': math.exp(min(loss, 700.0))}
