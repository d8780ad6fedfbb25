"""Logits processors and warpers on numpy arrays (batch, vocab), applied in order each decode step."""
import numpy as np

from mindformers.tools.errors import ConfigError

FILTER_VALUE = -np.inf


class RepetitionPenaltyLogitsProcessor:
    """Tokens already in the sequence: positive logits divided by `penalty`, negative multiplied."""

    def __init__(self, penalty):
        if penalty <= 0:
            raise ConfigError(f"repetition_penalty must be > 0, got {penalty}")
        self.penalty = float(penalty)

    def __call__(self, input_ids, scores):
        for row, seen in enumerate(input_ids):
            seen = np.unique(seen)
            values = scores[row, seen]
            scores[row, seen] = np.where(values > 0, values / self.penalty, values * self.penalty)
        return scores


class TemperatureLogitsWarper:
    def __init__(self, temperature):
        if temperature <= 0:
            raise ConfigError(f"temperature must be > 0 when sampling, got {temperature}")
        self.temperature = float(temperature)

    def __call__(self, input_ids, scores):
        return scores / self.temperature


class TopKLogitsWarper:
    def __init__(self, top_k):
        if int(top_k) < 1:  # a negative k would index the sorted row from the wrong end
            raise ConfigError(f"top_k must be a positive integer (0 turns top-k off in generate), got {top_k}")
        self.top_k = int(top_k)

    def __call__(self, input_ids, scores):
        k = min(self.top_k, scores.shape[-1])
        kth = np.sort(scores, axis=-1)[:, -k][:, None]
        return np.where(scores < kth, FILTER_VALUE, scores)


class TopPLogitsWarper:
    """Keep the smallest set of tokens whose probability mass reaches top_p (at least one)."""

    def __init__(self, top_p):
        if not 0 < top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1], got {top_p}")
        self.top_p = float(top_p)

    def __call__(self, input_ids, scores):
        order = np.argsort(-scores, axis=-1)
        sorted_scores = np.take_along_axis(scores, order, -1)
        probs = softmax(sorted_scores)
        cumulative = np.cumsum(probs, axis=-1)
        remove_sorted = cumulative - probs >= self.top_p   # mass before this token already reached top_p
        remove = np.zeros_like(remove_sorted)
        np.put_along_axis(remove, order, remove_sorted, -1)
        return np.where(remove, FILTER_VALUE, scores)


def softmax(scores):
    shifted = scores - np.max(scores, axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / np.sum(exp, axis=-1, keepdims=True)


class LogitsProcessorList(list):
    def __call__(self, input_ids, scores):
        for processor in self:
            scores = processor(input_ids, scores)
        return scores
