"""BleuMetric: corpus BLEU of generated translations against one reference each (update(predictions, labels))."""
import collections
import math
import re

from mindspore.train.metrics import Metric

from mindformers.core.metric.text_generation_metrics import as_texts
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['BleuMetric', 'bleu_tokens']

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def bleu_tokens(text, lowercase=False):
    """Words and single punctuation marks (so 'house.' and 'house .' score alike)."""
    return _TOKEN.findall(text.lower() if lowercase else text)


def _ngrams(tokens, order):
    return collections.Counter(tuple(tokens[i:i + order]) for i in range(len(tokens) - order + 1))


@MindFormerRegister.register(MindFormerModuleType.METRIC)
class BleuMetric(Metric):
    """Corpus BLEU (Papineni et al. 2002): clipped n-gram precisions for n = 1..max_order summed over the whole
    set, their geometric mean, times the brevity penalty exp(1 - r/c) when the predictions (c tokens) are shorter
    than the references (r). eval() -> {'bleu': percent, 'precisions': [percent per order], 'brevity_penalty',
    'count'}; an order with no matching n-gram gives BLEU 0, as the unsmoothed definition does."""

    # combined across data-parallel ranks; the n-gram counts position by position
    _accumulators = ('matches', 'possible', 'prediction_length', 'reference_length', 'count')
    _elementwise = ('matches', 'possible')

    def __init__(self, max_order=4, lowercase=False):
        super().__init__()
        self.max_order = int(max_order)
        self.lowercase = bool(lowercase)
        self.clear()

    def clear(self):
        self.matches = [0] * self.max_order
        self.possible = [0] * self.max_order
        self.prediction_length = self.reference_length = self.count = 0

    def update(self, *inputs):
        predictions, labels = as_texts(inputs[0], 'BleuMetric'), as_texts(inputs[1], 'BleuMetric')
        for prediction, label in zip(predictions, labels):
            hypothesis, reference = bleu_tokens(prediction, self.lowercase), bleu_tokens(label, self.lowercase)
            self.prediction_length += len(hypothesis)
            self.reference_length += len(reference)
            self.count += 1
            for order in range(1, self.max_order + 1):
                reference_counts = _ngrams(reference, order)
                hypothesis_counts = _ngrams(hypothesis, order)
                self.matches[order - 1] += sum(min(count, reference_counts[gram])
                                               for gram, count in hypothesis_counts.items())
                self.possible[order - 1] += max(len(hypothesis) - order + 1, 0)

    def eval(self):
        if not self.count:
            raise RuntimeError("BleuMetric: no prediction was scored")
        precisions = [m / p if p else 0.0 for m, p in zip(self.matches, self.possible)]
        penalty = 1.0 if self.prediction_length > self.reference_length else \
            math.exp(1 - self.reference_length / max(self.prediction_length, 1))
        bleu = penalty * math.exp(sum(math.log(p) for p in precisions) / self.max_order) if min(precisions) > 0 \
            else 0.0
        result = {'bleu': 100.0 * bleu, 'precisions': [100.0 * p for p in precisions],
                  'brevity_penalty': penalty, 'count': self.count}
        logger.info("BLEU = %.2f (precisions %s, brevity penalty %.4f, %d sentences)", result['bleu'],
                    '/'.join(f'{p:.1f}' for p in result['precisions']), penalty, self.count)
        return result
