"""Logits processors and warpers against small hand-computed NumPy examples."""
import numpy as np
import pytest

from mindformers import (GenerationConfig, LogitNormalization, LogitsProcessor, LogitsProcessorList,
                         RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper)
from mindformers.generation.logits_process import softmax
from mindformers.tools.errors import ConfigError

NEG_INF = -np.inf
AS_GENERATE = {'filter_value': NEG_INF, 'candidate_token_num': None}   # how generate() builds it


def reference_top_p_keep(scores, top_p):
    """Per row: sort by probability, keep tokens until the kept mass reaches top_p (the crossing token included)."""
    keep = np.zeros(scores.shape, dtype=bool)
    for row in range(scores.shape[0]):
        probs = np.exp(scores[row] - scores[row].max())
        probs /= probs.sum()
        mass = 0.0
        for index in np.argsort(-probs, kind='stable'):
            keep[row, index] = True
            mass += probs[index]
            if mass >= top_p:
                break
    return keep


# ---------------------------------------------------------------- repetition penalty


def test_repetition_penalty_divides_positive_and_multiplies_negative_seen_logits():
    scores = np.array([[1.0, 2.0, -1.0, -4.0, 0.5]], dtype=np.float32)
    out = RepetitionPenaltyLogitsProcessor(2.0)([np.array([1, 3, 1])], scores.copy())
    np.testing.assert_array_equal(out, [[1.0, 1.0, -1.0, -8.0, 0.5]])  # token 1 penalised once despite 2 hits


def test_repetition_penalty_uses_each_rows_own_history():
    scores = np.array([[4.0, 4.0, 4.0], [-2.0, -2.0, -2.0]], dtype=np.float32)
    out = RepetitionPenaltyLogitsProcessor(4.0)([np.array([0]), np.array([1, 2])], scores.copy())
    np.testing.assert_array_equal(out, [[1.0, 4.0, 4.0], [-2.0, -8.0, -8.0]])


def test_repetition_penalty_below_one_encourages_repeats():
    scores = np.array([[2.0, -2.0, 1.0]], dtype=np.float32)
    out = RepetitionPenaltyLogitsProcessor(0.5)([np.array([0, 1])], scores.copy())
    np.testing.assert_array_equal(out, [[4.0, -1.0, 1.0]])


@pytest.mark.parametrize("penalty", [0.0, -1.0])
def test_repetition_penalty_must_be_positive(penalty):
    with pytest.raises(ConfigError, match='repetition_penalty'):
        RepetitionPenaltyLogitsProcessor(penalty)


# ---------------------------------------------------------------- temperature


def test_temperature_divides_logits():
    scores = np.array([[1.0, -2.0, 0.5]], dtype=np.float32)
    np.testing.assert_allclose(TemperatureLogitsWarper(0.5)(None, scores), [[2.0, -4.0, 1.0]])
    np.testing.assert_allclose(TemperatureLogitsWarper(2.0)(None, scores), [[0.5, -1.0, 0.25]])


@pytest.mark.parametrize("temperature", [0.0, -0.5])
def test_temperature_must_be_positive(temperature):
    with pytest.raises(ConfigError, match='temperature'):
        TemperatureLogitsWarper(temperature)


# ---------------------------------------------------------------- top-k


def test_top_k_keeps_the_k_largest_per_row():
    scores = np.array([[1.0, 3.0, 2.0, 0.0], [5.0, -1.0, 4.0, 6.0]], dtype=np.float32)
    out = TopKLogitsWarper(2, filter_value=NEG_INF)(None, scores)
    np.testing.assert_array_equal(out, [[NEG_INF, 3.0, 2.0, NEG_INF], [5.0, NEG_INF, NEG_INF, 6.0]])


def test_top_k_keeps_ties_with_the_kth_value():
    scores = np.array([[1.0, 2.0, 2.0, 0.0]], dtype=np.float32)
    out = TopKLogitsWarper(2, filter_value=NEG_INF)(None, scores)
    np.testing.assert_array_equal(out, [[NEG_INF, 2.0, 2.0, NEG_INF]])


def test_top_k_larger_than_vocab_keeps_everything():
    scores = np.array([[1.0, 3.0, 2.0]], dtype=np.float32)
    np.testing.assert_array_equal(TopKLogitsWarper(10, filter_value=NEG_INF)(None, scores), scores)


def test_top_k_1_leaves_only_the_argmax():
    scores = np.random.default_rng(0).standard_normal((3, 7)).astype(np.float32)
    out = TopKLogitsWarper(1, filter_value=NEG_INF)(None, scores)
    assert (np.isfinite(out).sum(axis=-1) == 1).all()
    np.testing.assert_array_equal(np.argmax(out, axis=-1), np.argmax(scores, axis=-1))


@pytest.mark.parametrize("top_k", [0, -2])
def test_top_k_below_one_is_an_error(top_k):
    with pytest.raises(ConfigError, match='top_k'):
        TopKLogitsWarper(top_k)


# ---------------------------------------------------------------- top-p


def test_top_p_keeps_smallest_set_reaching_the_mass():
    scores = np.log(np.array([[0.05, 0.5, 0.15, 0.3]], dtype=np.float64))
    kept = np.isfinite(TopPLogitsWarper(0.7, **AS_GENERATE)(None, scores))
    np.testing.assert_array_equal(kept, [[False, True, False, True]])
    kept = np.isfinite(TopPLogitsWarper(0.45, **AS_GENERATE)(None, scores))
    np.testing.assert_array_equal(kept, [[False, True, False, False]])
    kept = np.isfinite(TopPLogitsWarper(0.9, **AS_GENERATE)(None, scores))
    np.testing.assert_array_equal(kept, [[False, True, True, True]])


def test_top_p_kept_logits_are_unchanged():
    scores = np.log(np.array([[0.05, 0.5, 0.15, 0.3]], dtype=np.float64))
    out = TopPLogitsWarper(0.7, **AS_GENERATE)(None, scores)
    np.testing.assert_array_equal(out[0, [1, 3]], scores[0, [1, 3]])
    assert (out[0, [0, 2]] == NEG_INF).all()


def test_top_p_matches_reference_on_random_rows():
    scores = 2.0 * np.random.default_rng(1).standard_normal((6, 13))
    for top_p in (0.1, 0.33, 0.6, 0.95):
        kept = np.isfinite(TopPLogitsWarper(top_p, **AS_GENERATE)(None, scores))
        np.testing.assert_array_equal(kept, reference_top_p_keep(scores, top_p), err_msg=f"top_p={top_p}")


def test_top_p_always_keeps_the_most_likely_token():
    scores = np.array([[0.1, 0.2, 5.0]], dtype=np.float32)
    out = TopPLogitsWarper(1e-6, **AS_GENERATE)(None, scores)
    np.testing.assert_array_equal(np.isfinite(out), [[False, False, True]])


def test_top_p_one_keeps_everything():
    scores = np.random.default_rng(2).standard_normal((2, 5))
    np.testing.assert_array_equal(TopPLogitsWarper(1.0, **AS_GENERATE)(None, scores), scores)


@pytest.mark.parametrize("top_p", [0.0, -0.1, 1.5])
def test_top_p_outside_zero_one_is_an_error(top_p):
    with pytest.raises(ConfigError, match='top_p'):
        TopPLogitsWarper(top_p)


# ---------------------------------------------------------------- helpers


def test_softmax_matches_numpy_and_is_stable_for_large_logits():
    scores = np.array([[1000.0, 1001.0, 999.0]])
    expected = np.exp([-1.0, 0.0, -2.0]) / np.exp([-1.0, 0.0, -2.0]).sum()
    np.testing.assert_allclose(softmax(scores), [expected], rtol=1e-12)


def test_softmax_gives_zero_probability_to_filtered_tokens():
    probs = softmax(np.array([[NEG_INF, 0.0, 0.0]]))
    np.testing.assert_allclose(probs, [[0.0, 0.5, 0.5]])


def test_processor_list_applies_processors_in_order():
    scores = np.array([[4.0, 1.0, -2.0, 3.0]])
    processors = LogitsProcessorList([RepetitionPenaltyLogitsProcessor(4.0), TopKLogitsWarper(2, filter_value=NEG_INF),
                                      TemperatureLogitsWarper(0.5)])
    out = processors([np.array([0])], scores.copy())
    # penalty: 4 -> 1; top-2 of [1, 1, -2, 3] keeps 3 and both 1s (tie); then doubled
    np.testing.assert_array_equal(out, [[2.0, 2.0, NEG_INF, 6.0]])


def test_generation_config_normalises_eos_and_max_decode_length():
    config = GenerationConfig(max_decode_length=33, eos_token_id=2)
    assert config.max_length == 33 and config.eos_token_id == [2]
    unused = config.update(top_k=3, eos_token_id=None, input_position=1)
    assert config.top_k == 3 and config.eos_token_id == [] and unused == {'input_position': 1}


# ---------------------------------------------------------------- the public classes against transformers
def _reference():
    torch = pytest.importorskip('torch')
    generation = pytest.importorskip('transformers.generation.logits_process')
    return torch, generation


@pytest.mark.parametrize('seed', [0, 1])
def test_each_processor_equals_transformers_on_random_scores(seed):
    torch, hf = _reference()
    Penalty, Temperature, TopK, TopP = (RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper,
                                        TopPLogitsWarper)
    rng = np.random.default_rng(seed)
    scores = (rng.standard_normal((4, 50)) * 3).astype(np.float32)
    input_ids = rng.integers(0, 50, (4, 7))
    pairs = [
        (Penalty(1.7), hf.RepetitionPenaltyLogitsProcessor(1.7)),
        (Penalty(0.6), hf.RepetitionPenaltyLogitsProcessor(0.6)),
        (Temperature(0.35), hf.TemperatureLogitsWarper(0.35)),
        (TopK(5, filter_value=-np.inf), hf.TopKLogitsWarper(5)),
        (TopK(2, filter_value=-1e4, min_tokens_to_keep=6), hf.TopKLogitsWarper(2, -1e4, 6)),
        (TopP(0.8, filter_value=-np.inf, candidate_token_num=None), hf.TopPLogitsWarper(0.8)),
        (TopP(0.3, filter_value=-np.inf, min_tokens_to_keep=4, candidate_token_num=None),
         hf.TopPLogitsWarper(0.3, min_tokens_to_keep=4)),
        (LogitNormalization(), hf.LogitNormalization()),
    ]
    for ours, theirs in pairs:
        expected = theirs(torch.tensor(input_ids), torch.tensor(scores)).numpy()
        got = ours(input_ids, scores.copy())
        assert np.array_equal(np.isfinite(got), np.isfinite(expected)), type(ours).__name__
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6, err_msg=type(ours).__name__)


def test_upstream_defaults_and_a_list_passing_keyword_arguments():
    rng = np.random.default_rng(3)
    scores = rng.standard_normal((2, 300)).astype(np.float32)
    # upstream's defaults: filtered logits become -50000; top-p looks at the 200 most probable tokens only
    top_k = TopKLogitsWarper(3)(None, scores.copy())
    assert (top_k == -50000).sum() == 2 * 297 and np.isfinite(top_k).all()
    kept = TopPLogitsWarper(0.9)(None, scores.copy()) != -50000
    for row in range(2):                        # the mass is that of the softmax over the 200 candidates alone
        order = np.argsort(-scores[row], kind='stable')[:200]
        probs = softmax(scores[row][order][None])[0]
        expected = set(order[np.cumsum(probs) - probs < 0.9].tolist())
        assert set(np.flatnonzero(kept[row]).tolist()) == expected
        whole = softmax(scores[row][None])[0][order]        # over the whole vocabulary more would be kept
        assert len(expected) < int((np.cumsum(whole) - whole < 0.9).sum()) <= 200

    class Ban(LogitsProcessor):      # a user's processor with an argument of its own
        def __call__(self, input_ids, scores, banned):
            scores[:, banned] = -np.inf
            return scores

    chain = LogitsProcessorList([Ban(), TopKLogitsWarper(1, filter_value=-np.inf)])
    best = np.argmax(scores, axis=-1)
    out = chain(None, scores.copy(), banned=best)
    second = np.argsort(-scores, axis=-1)[:, 1]
    assert [int(np.argmax(row)) for row in out] == second.tolist() and np.isfinite(out).sum() == 2
    with pytest.raises(ConfigError, match=r"Ban needs the arguments \['banned'\] passed to the processor list"):
        chain(None, scores.copy())
    with pytest.raises(NotImplementedError, match="LogitsProcessor is abstract"):
        LogitsProcessor()(None, scores)
    with pytest.raises(ConfigError, match="min_tokens_to_keep must be a non-negative integer, got -1"):
        TopPLogitsWarper(0.5, min_tokens_to_keep=-1)
