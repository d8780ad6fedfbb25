"""EntityScore: span precision / recall / F1 of BIOS-tagged entities (CLUENER token classification)."""
import numpy as np
from mindspore import Tensor
from mindspore.train.metrics import Metric

from mindformers.dataset.labels import cluener_labels
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['EntityScore', 'bios_entities']


def bios_entities(tags):
    """[(type, start, end), ...] (end inclusive) of a BIOS tag sequence: `S-X` alone, or `B-X` followed by one or
    more `I-X`. A `B-X` with no `I-X` after it, and `I-X` not continuing a span of X, make no entity."""
    entities = []
    current = None   # [type, start, end] of the span being read

    def close():
        if current is not None and current[2] > current[1]:
            entities.append(tuple(current))

    for index, tag in enumerate(tags):
        head, _, kind = str(tag).partition('-')
        if head == 'I' and current is not None and current[0] == kind:
            current[2] = index
            continue
        close()
        current = None
        if head == 'S':
            entities.append((kind, index, index))
        elif head == 'B':
            current = [kind, index, index]
    close()
    return entities


def _scores(found, gold, right):
    precision = right / found if found else 0.0
    recall = right / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {'precision': round(precision, 4), 'recall': round(recall, 4), 'f1': round(f1, 4)}


@MindFormerRegister.register(MindFormerModuleType.METRIC)
class EntityScore(Metric):
    """update(logits, labels): logits (batch, seq, num_labels) and gold label ids (batch, seq); positions whose gold
    label is negative (-100: padding, ignored tokens) count as 'O' on both sides. Predicted and gold entities
    (bios_entities over `id2label`, CLUENER's 31 tags by default) are compared as exact (type, start, end) spans.

    eval() -> (overall, per_type): `{'precision', 'recall', 'f1'}` over all spans, and the same per entity type
    present in the gold data, as upstream.
    """

    _accumulators = ('gold', 'found', 'right')   # combined across data-parallel ranks

    def __init__(self, id2label=None):
        super().__init__()
        self.id2label = list(id2label) if id2label is not None else list(cluener_labels)
        self.clear()

    def clear(self):
        self.gold, self.found, self.right = [], [], []

    def _tags(self, ids, keep):
        return [self.id2label[i] if k and 0 <= i < len(self.id2label) else 'O' for i, k in zip(ids, keep)]

    def update(self, *inputs):
        logits, labels = (x.asnumpy() if isinstance(x, Tensor) else np.asarray(x) for x in inputs[:2])
        predicted = logits.argmax(-1).reshape(labels.shape)
        for pred_row, gold_row in zip(predicted.reshape(-1, labels.shape[-1]), labels.reshape(-1, labels.shape[-1])):
            keep = gold_row >= 0
            gold = bios_entities(self._tags(gold_row.tolist(), keep))
            found = bios_entities(self._tags(pred_row.tolist(), keep))
            self.gold.extend(gold)
            self.found.extend(found)
            gold_set = set(gold)
            self.right.extend(span for span in found if span in gold_set)

    def eval(self):
        overall = _scores(len(self.found), len(self.gold), len(self.right))
        per_type = {}
        for kind in sorted({span[0] for span in self.gold}):
            per_type[kind] = _scores(sum(s[0] == kind for s in self.found), sum(s[0] == kind for s in self.gold),
                                     sum(s[0] == kind for s in self.right))
        logger.info("entity spans: %d gold, %d predicted, %d right", len(self.gold), len(self.found), len(self.right))
        return overall, per_type
