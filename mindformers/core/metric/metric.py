"""PerplexityMetric: mean masked next-token loss over an eval set, and its exponential; PromptAccMetric: accuracy
of picking, among candidate prompts, the one with the lowest loss; MLMPerplexityMetric: the same for masked-LM
predictions (no shift)."""
import math

import numpy as np
import mindspore as ms
from mindspore import Tensor, nn, ops
from mindspore.train.metrics import Metric

from mindformers.tools.logger import logger
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

    _accumulators = ('total_loss', 'num_batches')   # combined across data-parallel ranks

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


@MindFormerRegister.register(MindFormerModuleType.METRIC)
class PromptAccMetric(Metric):
    """update(logits, tokens, mask, labels): logits (batch, num_labels, seq, vocab) of each example's candidate
    texts, tokens and mask (batch * num_labels, seq), labels (batch,) the true candidate's index. A candidate's loss
    is its mean next-token cross entropy over the positions its mask marks (logits[t] predicts tokens[t + 1] where
    mask[t + 1] is set); the prediction is the candidate with the lowest loss (perplexity), as upstream.
    eval() -> {'Acc': correct / examples}."""
    _accumulators = ('num_data', 'total_acc_num')

    def __init__(self):
        super().__init__()
        self._token_nll = _TokenNLL()
        self.clear()

    def clear(self):
        self.num_data = 0
        self.total_acc_num = 0

    def update(self, *inputs):
        logits, tokens, mask, labels = inputs[:4]
        logits = logits if isinstance(logits, Tensor) else Tensor(np.asarray(logits, np.float32))
        bsz, num_labels = logits.shape[0], logits.shape[1]
        tokens = ops.cast(tokens if isinstance(tokens, Tensor) else Tensor(np.asarray(tokens)), ms.int32)
        nll = self._token_nll(ops.reshape(logits, (bsz * num_labels,) + tuple(logits.shape[2:])), tokens)
        nll = nll.asnumpy().astype(np.float64)
        mask = _numpy(mask).astype(np.float64)[:, 1:]
        losses = ((nll * mask).sum(-1) / np.maximum(mask.sum(-1), 1e-8)).reshape(bsz, num_labels)
        predicted = losses.argmin(-1)
        self.total_acc_num += int((predicted == _numpy(labels).reshape(-1)).sum())
        self.num_data += bsz

    def eval(self):
        if self.num_data == 0:
            raise RuntimeError("PromptAccMetric: no example was evaluated")
        result = {'Acc': self.total_acc_num / self.num_data}
        logger.info("Acc: %.3f, total_acc_num: %d, total_num: %d", result['Acc'], self.total_acc_num, self.num_data)
        return result


class _LabelNLL(nn.Cell):
    """-log p(labels) from logits (.., vocab) at the same positions: labels' shape, float32. Labels below 0
    (ignored positions, -100) are scored as id 0; their weight is 0."""

    def construct(self, logits, labels):
        vocab = logits.shape[-1]
        log_probs = ops.log_softmax(ops.reshape(ops.cast(logits, ms.float32), (-1, vocab)), -1)
        index = ops.reshape(ops.maximum(labels, 0), (-1, 1))
        return -ops.reshape(ops.gather_elements(log_probs, 1, index), labels.shape)


@MindFormerRegister.register(MindFormerModuleType.METRIC)
class MLMPerplexityMetric(Metric):
    """Masked-LM perplexity (fill_mask eval).

    update(prediction_scores, masked_lm_ids, masked_lm_weights=None, seq_relationship_score=None,
    next_sentence_labels=None), the eval outputs of BertForPreTraining (BertForMaskedLM gives the first two:
    scores and labels, -100 where nothing is predicted). The loss is the cross entropy of every predicted
    token, weighted by masked_lm_weights (default: labels >= 0) over the whole eval set;
    eval() -> {'loss', 'PPL': exp(loss)} plus {'NSP Acc'} when next-sentence labels were given.
    """
    _accumulators = ('total_nll', 'total_weight', 'nsp_correct', 'nsp_total')

    def __init__(self):
        super().__init__()
        self._label_nll = _LabelNLL()
        self.clear()

    def clear(self):
        self.total_nll = 0.0
        self.total_weight = 0.0
        self.nsp_correct = 0
        self.nsp_total = 0

    def update(self, *inputs):
        if len(inputs) < 2:
            raise ValueError("MLMPerplexityMetric.update needs (prediction_scores, masked_lm_ids, ...); the model "
                             "returned no labels: evaluate a masked-LM model on rows that have them")
        scores, labels = inputs[0], inputs[1]
        scores = scores if isinstance(scores, Tensor) else Tensor(np.asarray(scores, np.float32))
        labels = ops.cast(labels if isinstance(labels, Tensor) else Tensor(np.asarray(labels)), ms.int32)
        nll = self._label_nll(scores, labels).asnumpy().astype(np.float64)
        if len(inputs) > 2 and inputs[2] is not None:
            weights = _numpy(inputs[2]).astype(np.float64).reshape(nll.shape)
        else:
            weights = (labels.asnumpy() >= 0).astype(np.float64)
        self.total_nll += float((nll * weights).sum())
        self.total_weight += float(weights.sum())
        if len(inputs) > 4 and inputs[3] is not None and inputs[4] is not None:
            nsp_scores = _numpy(inputs[3])
            predicted = nsp_scores.reshape(-1, nsp_scores.shape[-1]).argmax(-1)
            truth = _numpy(inputs[4]).reshape(-1)
            self.nsp_correct += int((predicted == truth).sum())
            self.nsp_total += truth.size

    def eval(self):
        if self.total_weight == 0:
            raise RuntimeError("MLMPerplexityMetric: no masked token was evaluated")
        loss = self.total_nll / self.total_weight
        result = {'loss': loss, 'PPL': math.exp(min(loss, 700.0))}
        if self.nsp_total:
            result['NSP Acc'] = self.nsp_correct / self.nsp_total
        return result
