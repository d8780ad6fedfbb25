"""SQuADMetric: exact match and token F1 of the answers BertForQuestionAnswering extracts (SQuAD v1.1's official
scoring: lower-cased, punctuation and articles removed, the best over a question's reference answers)."""
import collections
import re
import string

import numpy as np
from mindspore.train.metrics import Metric

from mindformers.dataset.dataloader.squad_dataloader import best_answers, group_features, read_squad_temp
from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['SQuADMetric', 'normalize_answer', 'squad_exact_match', 'squad_f1']


def normalize_answer(text):
    """Lower case, no punctuation, no articles (a, an, the), single spaces: SQuAD's answer normal form."""
    text = ''.join(char for char in str(text).lower() if char not in set(string.punctuation))
    text = re.sub(r'\b(a|an|the)\b', ' ', text)
    return ' '.join(text.split())


def squad_exact_match(prediction, truth):
    return float(normalize_answer(prediction) == normalize_answer(truth))


def squad_f1(prediction, truth):
    """F1 of the normal-form words of prediction and truth (bags of words)."""
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(truth).split()
    same = sum((collections.Counter(predicted) & collections.Counter(expected)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(expected)
    return 2 * precision * recall / (precision + recall)


@MindFormerRegister.register(MindFormerModuleType.METRIC)
class SQuADMetric(Metric):
    """`SQuADMetric(dataset_dir, n_best_size=20, max_answer_len=30, do_lower_case=True, temp_file_dir='./squad_temp')`.

    update(unique_id, start_logits, end_logits) per batch (BertForQuestionAnswering's eval outputs); eval() ->
    `{'exact_match', 'f1'}` in percent over every question of the eval data, a question without a result scoring
    0 (with a warning). The answers are decoded against the examples and features the eval dataset's
    SQuADDataLoader wrote to `temp_file_dir`, which come from the same dev file as the eval rows (`dataset_dir` is
    kept for upstream's YAMLs; a `--eval_dataset_dir` override needs no change here). Answers keep the context's
    own case; the comparison is case-free as SQuAD's (`do_lower_case` is upstream's key and changes nothing).
    """

    _accumulators = ('results',)   # combined across data-parallel ranks

    def __init__(self, dataset_dir=None, n_best_size=20, max_answer_len=30, do_lower_case=True,
                 temp_file_dir='./squad_temp'):
        super().__init__()
        del do_lower_case
        if int(n_best_size) < 1 or int(max_answer_len) < 1:
            raise ConfigError(f"SQuADMetric: n_best_size ({n_best_size}) and max_answer_len ({max_answer_len}) "
                              f"must be >= 1")
        self.dataset_dir = dataset_dir
        self.n_best_size = int(n_best_size)
        self.max_answer_len = int(max_answer_len)
        self.temp_file_dir = temp_file_dir
        self.predictions = {}
        self.clear()

    def clear(self):
        self.results = {}

    def update(self, *inputs):
        if len(inputs) != 3:
            raise ConfigError(f"SQuADMetric.update takes (unique_id, start_logits, end_logits), got {len(inputs)} "
                              f"values; the eval data needs its unique_id column")
        ids, starts, ends = (np.asarray(value.asnumpy() if hasattr(value, 'asnumpy') else value) for value in inputs)
        for unique_id, start, end in zip(ids.reshape(-1), starts, ends):
            self.results[int(unique_id)] = (start.astype(np.float64), end.astype(np.float64))

    def eval(self):
        examples, features = read_squad_temp(self.temp_file_dir)
        by_example = group_features(features)
        exact = f1 = 0.0
        unanswered = 0
        self.predictions = {}
        for index, example in enumerate(examples):
            truths = [answer['text'] for answer in example['answers']]
            windows = by_example.get(index, [])
            if not any(f['unique_id'] in self.results for f in windows):
                unanswered += 1
                continue
            answer = best_answers(example, windows, self.results, self.n_best_size,
                                  self.max_answer_len)[0]['text']
            self.predictions[example['qas_id']] = answer
            if truths:
                exact += max(squad_exact_match(answer, truth) for truth in truths)
                f1 += max(squad_f1(answer, truth) for truth in truths)
        if unanswered:
            logger.warning("SQuADMetric: %d of %d questions got no result (e.g. batches dropped by drop_remainder); "
                           "they score 0", unanswered, len(examples))
        return {'exact_match': 100.0 * exact / len(examples), 'f1': 100.0 * f1 / len(examples)}
