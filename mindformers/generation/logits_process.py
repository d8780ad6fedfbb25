"""Logits processors and warpers on numpy arrays (batch, vocab), applied in order each decode step.

The public face of what `generate()` does (upstream's `mindformers.generation` names and arguments); each works on
its own: `processor(input_ids, scores) -> scores`, where `input_ids` is (batch, length) or one id list per row.
"""
import inspect

import numpy as np

from mindformers.tools.errors import ConfigError

FILTER_VALUE = -np.inf
UPSTREAM_FILTER_VALUE = -50000.0     # upstream's default for the top-k / top-p warpers


class LogitsProcessor:
    """Base class of the processors applied to every generation (greedy, sampling, beam search)."""

    def __call__(self, input_ids, scores):
        raise NotImplementedError(f"{type(self).__name__} is abstract: subclass LogitsProcessor and define __call__")


class LogitsWarper:
    """Base class of the warpers applied only when sampling."""

    def __call__(self, input_ids, scores):
        raise NotImplementedError(f"{type(self).__name__} is abstract: subclass LogitsWarper and define __call__")


def _min_tokens(value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"min_tokens_to_keep must be a non-negative integer, got {value!r}")
    return value


class RepetitionPenaltyLogitsProcessor(LogitsProcessor):
    """Tokens already in the sequence: positive logits divided by `repetition_penalty`, negative multiplied."""

    def __init__(self, repetition_penalty):
        if repetition_penalty <= 0:
            raise ConfigError(f"repetition_penalty must be > 0, got {repetition_penalty}")
        self.penalty = float(repetition_penalty)

    def __call__(self, input_ids, scores):
        for row, seen in enumerate(input_ids):
            seen = np.unique(seen)
            values = scores[row, seen]
            scores[row, seen] = np.where(values > 0, values / self.penalty, values * self.penalty)
        return scores


class TemperatureLogitsWarper(LogitsWarper):
    """Logits divided by `temperature` (> 1 flattens the distribution, < 1 sharpens it)."""

    def __init__(self, temperature):
        if temperature <= 0:
            raise ConfigError(f"temperature must be > 0 when sampling, got {temperature}")
        self.temperature = float(temperature)

    def __call__(self, input_ids, scores):
        return scores / self.temperature


class TopKLogitsWarper(LogitsWarper):
    """Logits below the k-th largest of their row set to `filter_value` (ties with the k-th are kept); at least
    `min_tokens_to_keep` survive."""

    def __init__(self, top_k, filter_value=UPSTREAM_FILTER_VALUE, min_tokens_to_keep=1):
        if isinstance(top_k, bool) or int(top_k) < 1:  # a negative k would index the sorted row from the wrong end
            raise ConfigError(f"top_k must be a positive integer (0 turns top-k off in generate), got {top_k}")
        self.top_k = max(int(top_k), _min_tokens(min_tokens_to_keep))
        self.filter_value = float(filter_value)

    def __call__(self, input_ids, scores):
        k = min(self.top_k, scores.shape[-1])
        kth = np.sort(scores, axis=-1)[:, -k][:, None]
        return np.where(scores < kth, self.filter_value, scores)


class TopPLogitsWarper(LogitsWarper):
    """Keep the smallest set of most probable tokens whose probability mass reaches top_p (at least
    `min_tokens_to_keep`); the others get `filter_value`. As upstream, only the `candidate_token_num` most probable
    tokens are candidates, and the mass is counted over them (None: all of them)."""

    def __init__(self, top_p, filter_value=UPSTREAM_FILTER_VALUE, min_tokens_to_keep=1, candidate_token_num=200):
        if not 0 < top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1], got {top_p}")
        if candidate_token_num is not None and (not isinstance(candidate_token_num, int) or candidate_token_num < 1):
            raise ConfigError(f"candidate_token_num must be a positive integer or None, got {candidate_token_num!r}")
        self.top_p = float(top_p)
        self.filter_value = float(filter_value)
        self.min_tokens_to_keep = _min_tokens(min_tokens_to_keep)
        self.candidate_token_num = candidate_token_num

    def __call__(self, input_ids, scores):
        order = np.argsort(-scores, axis=-1, kind='stable')
        sorted_scores = np.take_along_axis(scores, order, -1)
        count = scores.shape[-1] if self.candidate_token_num is None else min(self.candidate_token_num,
                                                                               scores.shape[-1])
        probs = softmax(sorted_scores[:, :count])      # as upstream: the distribution over the candidates only
        cumulative = np.cumsum(probs, axis=-1)
        remove_sorted = np.ones(scores.shape, dtype=bool)
        remove_sorted[:, :count] = cumulative - probs >= self.top_p   # the mass before this token reached top_p
        remove_sorted[:, :max(self.min_tokens_to_keep, 1)] = False
        remove = np.zeros_like(remove_sorted)
        np.put_along_axis(remove, order, remove_sorted, -1)
        return np.where(remove, self.filter_value, scores)


class LogitNormalization(LogitsProcessor, LogitsWarper):
    """Log-softmax over the vocabulary (beam search compares normalised scores)."""

    def __call__(self, input_ids, scores):
        shifted = scores - np.max(scores, axis=-1, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax(scores):
    shifted = scores - np.max(scores, axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / np.sum(exp, axis=-1, keepdims=True)


class LogitsProcessorList(list):
    """Processors applied in order; keyword arguments reach those whose __call__ takes more than
    (input_ids, scores)."""

    def __call__(self, input_ids, scores, **kwargs):
        for processor in self:
            extra = list(inspect.signature(processor.__call__).parameters)[2:]
            if extra:
                missing = [name for name in extra if name not in kwargs]
                if missing:
                    raise ConfigError(f"{type(processor).__name__} needs the arguments {missing} passed to the "
                                      f"processor list")
                scores = processor(input_ids, scores, **{name: kwargs[name] for name in extra})
            else:
                scores = processor(input_ids, scores)
        return scores
