"""Generation metrics: ADGENMetric (ROUGE-1/2/L on jieba words, character BLEU-4, ADGEN's scores) and
EmF1Metric (exact match and longest-common-substring F1 on mixed Chinese/English segments). Both take decoded
strings: update(predictions, labels)."""
import logging
import re

import numpy as np
from mindspore.train.metrics import Metric

from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['ADGENMetric', 'EmF1Metric', 'GENERATION_METRICS', 'as_texts']

# metrics scored on generated text: the trainer generates for them instead of running the loss
GENERATION_METRICS = ('ADGENMetric', 'EmF1Metric', 'BleuMetric')


def _jieba():
    import jieba  # pylint: disable=import-outside-toplevel
    jieba.setLogLevel(logging.WARNING)   # not the "Building prefix dict" lines on every first cut
    return jieba


def as_texts(values, name):
    if isinstance(values, tuple) and values and not isinstance(values[0], str):
        values = values[0]
    if isinstance(values, str):
        values = [values]
    values = list(values)
    if not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{name} takes decoded strings (decode the generated ids first), got "
                          f"{type(values[0]).__name__ if values else 'nothing'}")
    return values


@MindFormerRegister.register(MindFormerModuleType.METRIC)
class ADGENMetric(Metric):
    """update(predictions, labels) with lists of strings; eval() -> {'rouge-1', 'rouge-2', 'rouge-l', 'bleu-4'}
    as percentages averaged over the pairs. ROUGE F-scores use jieba words (rouge_chinese); BLEU-4 uses
    characters with NIST geometric smoothing (nltk method3). An empty prediction is skipped, as upstream."""

    KEYS = ('rouge-1', 'rouge-2', 'rouge-l', 'bleu-4')

    _accumulators = ('score_dict',)   # combined across data-parallel ranks

    def __init__(self):
        super().__init__()
        self.clear()

    def clear(self):
        self.score_dict = {key: [] for key in self.KEYS}

    def update(self, *inputs):
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu  # pylint: disable=import-outside-toplevel
        from rouge_chinese import Rouge  # pylint: disable=import-outside-toplevel
        jieba = _jieba()
        predictions, labels = as_texts(inputs[0], 'ADGENMetric'), as_texts(inputs[1], 'ADGENMetric')
        for prediction, label in zip(predictions, labels):
            logger.info("pred is:\n%s\nlabel is:\n%s", prediction, label)
            hypothesis = ' '.join(jieba.cut(prediction))
            reference = ' '.join(jieba.cut(label))
            if not hypothesis.strip():
                continue
            if not reference.strip():   # rouge cannot score against nothing: every score is 0
                scores = {key: {'f': 0.0} for key in self.KEYS[:3]}
            else:
                scores = Rouge().get_scores(hypothesis, reference)[0]
            for key in self.KEYS[:3]:
                self.score_dict[key].append(round(scores[key]['f'] * 100, 4))
            bleu = sentence_bleu([list(label)], list(prediction), smoothing_function=SmoothingFunction().method3)
            self.score_dict['bleu-4'].append(round(bleu * 100, 4))

    def eval(self):
        if not self.score_dict['bleu-4']:
            raise RuntimeError("ADGENMetric: no non-empty prediction was scored")
        result = {key: float(np.mean(values)) for key, values in self.score_dict.items()}
        logger.info("metric: ADGENMetric\nrouge-1: %.4f\nrouge-2: %.4f\nrouge-l: %.4f\nbleu-4: %.4f",
                    *(result[key] for key in self.KEYS))
        return result


# characters EmF1Metric ignores (and cuts segments at)
_PUNCTUATION = frozenset(['-', ':', '_', '*', '^', '/', '\\', '~', '`', '+', '=', '，', '。', '：', '？', '！', '“',
                          '”', '；', '’', '《', '》', '……', '·', '、', '「', '」', '（', '）', '－', '～', '『', '』'])
_CHINESE = re.compile(r'[\u4e00-\u9fa5]')


def mixed_segmentation(text, remove_punctuation=False):
    """Each Chinese character (and punctuation mark) is a segment; other stretches are cut by jieba."""
    jieba = _jieba()
    segments, stretch = [], ''
    for char in str(text).lower().strip():
        if remove_punctuation and char in _PUNCTUATION:
            continue
        if _CHINESE.search(char) or char in _PUNCTUATION:
            if stretch:
                segments.extend(jieba.cut(stretch))
                stretch = ''
            segments.append(char)
        else:
            stretch += char
    if stretch:
        segments.extend(jieba.cut(stretch))
    return segments


def longest_common_substring(first, second):
    """Length of the longest run of equal consecutive items in both sequences."""
    best = 0
    previous = [0] * (len(second) + 1)
    for item in first:
        current = [0] * (len(second) + 1)
        for j, other in enumerate(second):
            if item == other:
                current[j + 1] = previous[j] + 1
                best = max(best, current[j + 1])
        previous = current
    return best


@MindFormerRegister.register(MindFormerModuleType.METRIC)
class EmF1Metric(Metric):
    """update(predictions, labels) with lists of strings; eval() -> {'F1', 'Em'} in percent. A prediction is cut
    at its first newline; Em compares without punctuation; F1 is the harmonic mean of precision and recall of
    the longest common run of segments (upstream's definition)."""

    _accumulators = ('predictions', 'labels')

    def __init__(self):
        super().__init__()
        self.clear()

    def clear(self):
        self.predictions, self.labels = [], []

    @staticmethod
    def f1_score(answer, prediction):
        answer_segments = mixed_segmentation(answer, remove_punctuation=True)
        prediction_segments = mixed_segmentation(prediction, remove_punctuation=True)
        common = longest_common_substring(answer_segments, prediction_segments)
        if common == 0:
            return 0.0
        precision, recall = common / len(prediction_segments), common / len(answer_segments)
        return 2 * precision * recall / (precision + recall)

    @staticmethod
    def em_score(answer, prediction):
        def strip(text):
            return ''.join(c for c in str(text).lower().strip() if c not in _PUNCTUATION)
        return float(strip(answer) == strip(prediction))

    def update(self, *inputs):
        predictions = [p.strip().split('\n')[0] for p in as_texts(inputs[0], 'EmF1Metric')]
        labels = as_texts(inputs[1], 'EmF1Metric')
        logger.info("pred is:\n %s\nlabel is:\n %s", predictions, labels)
        self.predictions.extend(predictions)
        self.labels.extend(labels)

    def eval(self):
        if not self.predictions:
            raise RuntimeError("EmF1Metric: no prediction was scored")
        pairs = list(zip(self.predictions, self.labels))
        result = {'F1': 100.0 * sum(self.f1_score(a, p) for p, a in pairs) / len(pairs),
                  'Em': 100.0 * sum(self.em_score(a, p) for p, a in pairs) / len(pairs)}
        logger.info("F1 score: %s, Em score: %s, total_count: %s", result['F1'], result['Em'], len(pairs))
        return result
