"""PerplexityMetric against a direct NumPy computation of the masked next-token loss."""
import math

import numpy as np
import pytest
from mindspore import Tensor

from mindformers.core.metric import PerplexityMetric
from mindformers.core.metric.build_metric import build_metric


pytestmark = pytest.mark.usefixtures("pynative")


def numpy_batch_loss(logits, tokens, mask):
    """Masked mean of -log softmax(logits[:, t])[tokens[:, t+1]] over positions where mask[:, t+1] is set."""
    logits = logits.astype(np.float64)
    total, count = 0.0, 0.0
    for b in range(logits.shape[0]):
        for t in range(logits.shape[1] - 1):
            row = logits[b, t]
            log_z = np.log(np.sum(np.exp(row - row.max()))) + row.max()
            nll = log_z - row[tokens[b, t + 1]]
            total += nll * mask[b, t + 1]
            count += mask[b, t + 1]
    return total / count


def make_batch(seed, batch=2, seq=6, vocab=11):
    rng = np.random.default_rng(seed)
    logits = (3.0 * rng.standard_normal((batch, seq, vocab))).astype(np.float32)
    tokens = rng.integers(1, vocab, size=(batch, seq)).astype(np.int32)
    mask = np.ones((batch, seq), dtype=np.float32)
    mask[0, -2:] = 0.0  # right padding in the first row
    tokens[0, -2:] = 0
    return logits, tokens, mask


def test_perplexity_of_one_batch_matches_numpy():
    logits, tokens, mask = make_batch(0)
    metric = PerplexityMetric()
    metric.update(Tensor(logits), Tensor(tokens), Tensor(mask))
    result = metric.eval()
    expected = numpy_batch_loss(logits, tokens, mask)
    assert result['loss'] == pytest.approx(expected, rel=1e-5)
    assert result['PPL'] == pytest.approx(math.exp(expected), rel=1e-5)


def test_perplexity_of_logits_without_the_last_position_matches_numpy():
    # decoder models evaluate a record of seq + 1 tokens on its first seq tokens: logits omit the last one
    logits, tokens, mask = make_batch(3, seq=7)
    metric = PerplexityMetric()
    metric.update(Tensor(logits[:, :-1]), Tensor(tokens), Tensor(mask))
    assert metric.eval()['loss'] == pytest.approx(numpy_batch_loss(logits, tokens, mask), rel=1e-5)


def test_perplexity_averages_batch_losses():
    batches = [make_batch(1), make_batch(2, batch=3, seq=5)]
    metric = PerplexityMetric()
    for logits, tokens, mask in batches:
        metric.update(Tensor(logits), Tensor(tokens), Tensor(mask))
    expected = np.mean([numpy_batch_loss(*batch) for batch in batches])
    assert metric.eval()['loss'] == pytest.approx(expected, rel=1e-5)


def test_perplexity_ignores_masked_positions_completely():
    logits, tokens, mask = make_batch(3)
    changed = logits.copy()
    changed[0, -3:] = 100.0 * np.random.default_rng(9).standard_normal(changed[0, -3:].shape)  # predicts masked
    first, second = PerplexityMetric(), PerplexityMetric()
    first.update(Tensor(logits), Tensor(tokens), Tensor(mask))
    second.update(Tensor(changed), Tensor(tokens), Tensor(mask))
    assert first.eval()['loss'] == pytest.approx(second.eval()['loss'], rel=1e-6)


def test_perplexity_accepts_numpy_inputs():
    logits, tokens, mask = make_batch(4)
    metric = PerplexityMetric()
    metric.update(logits, tokens, mask)
    assert metric.eval()['loss'] == pytest.approx(numpy_batch_loss(logits, tokens, mask), rel=1e-5)


def test_perplexity_pipeline_parallel_subtracts_the_model_offset_from_the_mask():
    logits, tokens, mask = make_batch(5)
    metric = PerplexityMetric(pipeline_parallel=True)
    metric.update(Tensor(logits), Tensor(tokens), Tensor(mask + 1.0))
    assert metric.eval()['loss'] == pytest.approx(numpy_batch_loss(logits, tokens, mask), rel=1e-5)


def test_perplexity_uniform_logits_give_vocab_size():
    vocab = 8
    logits = np.zeros((1, 5, vocab), dtype=np.float32)
    tokens = np.array([[1, 2, 3, 4, 5]], dtype=np.int32)
    metric = PerplexityMetric()
    metric.update(logits, tokens, np.ones((1, 5), dtype=np.float32))
    assert metric.eval()['PPL'] == pytest.approx(vocab, rel=1e-5)  # float32 log-softmax


def test_perplexity_clear_resets_and_eval_without_batches_raises():
    metric = PerplexityMetric()
    metric.update(*make_batch(6))
    metric.clear()
    with pytest.raises(RuntimeError, match='no batch'):
        metric.eval()


def test_build_metric_builds_perplexity_by_name():
    metric = build_metric({'type': 'PerplexityMetric'})
    assert isinstance(metric, PerplexityMetric)


def test_mlm_perplexity_weights_tokens_over_the_whole_set_and_scores_next_sentences():
    from mindformers.core.metric import MLMPerplexityMetric  # pylint: disable=import-outside-toplevel
    rng = np.random.default_rng(3)
    metric = build_metric({'type': 'MLMPerplexityMetric'})
    assert isinstance(metric, MLMPerplexityMetric)
    total, count, correct = 0.0, 0.0, 0
    for _ in range(2):
        scores = (2.0 * rng.standard_normal((3, 4, 9))).astype(np.float32)
        ids = rng.integers(0, 9, size=(3, 4)).astype(np.int32)
        weights = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]], np.float32)
        nsp = rng.standard_normal((3, 2)).astype(np.float32)
        labels = np.array([[0], [1], [1]], np.int32)
        metric.update(Tensor(scores), Tensor(ids), Tensor(weights), Tensor(nsp), Tensor(labels))
        log_z = np.log(np.exp(scores.astype(np.float64)).sum(-1))
        nll = log_z - np.take_along_axis(scores, ids[..., None], -1)[..., 0]
        total, count = total + (nll * weights).sum(), count + weights.sum()
        correct += int((nsp.argmax(-1) == labels[:, 0]).sum())
    result = metric.eval()
    assert math.isclose(result['loss'], total / count, rel_tol=1e-5)
    assert math.isclose(result['PPL'], math.exp(total / count), rel_tol=1e-4)
    assert result['NSP Acc'] == correct / 6
    metric.clear()   # BertForMaskedLM's (scores, labels): -100 marks what is not predicted
    scores = rng.standard_normal((1, 3, 5)).astype(np.float32)
    metric.update(Tensor(scores), Tensor(np.array([[2, -100, 4]], np.int32)))
    log_z = np.log(np.exp(scores[0].astype(np.float64)).sum(-1))
    want = ((log_z[0] - scores[0, 0, 2]) + (log_z[2] - scores[0, 2, 4])) / 2
    assert math.isclose(metric.eval()['loss'], want, rel_tol=1e-5) and 'NSP Acc' not in metric.eval()
    metric.clear()
    with pytest.raises(RuntimeError, match='no masked token was evaluated'):
        metric.eval()


# ------------------------------------------------- one result from data-parallel ranks' shards


def _split_between_two_ranks(make, updates):
    """Rank r updates on every other input (as MindRecord sharding reads); -> (merged rank 0, one process)."""
    from mindformers.core.metric import distributed  # pylint: disable=import-outside-toplevel
    merge_metric_states, metric_accumulators = distributed.merge_metric_states, distributed.metric_accumulators
    ranks, alone = [make(), make()], make()
    for index, inputs in enumerate(updates):
        ranks[index % 2].update(*inputs)
        alone.update(*inputs)
    states = [{name: getattr(metric, name) for name in metric_accumulators(metric)} for metric in ranks]
    merge_metric_states(ranks[0], states)
    return ranks[0].eval(), alone.eval()


def test_ranks_states_combine_into_the_result_of_one_process_for_every_kind_of_state():
    from mindspore.train import Accuracy  # pylint: disable=import-outside-toplevel
    from mindformers.core.metric import BleuMetric, EmF1Metric  # pylint: disable=import-outside-toplevel
    batches = [tuple(Tensor(x) for x in make_batch(seed)) for seed in range(4)]
    merged, alone = _split_between_two_ranks(PerplexityMetric, batches)                      # sums
    assert merged['loss'] == pytest.approx(alone['loss'], rel=1e-12)
    pairs = [(['the cat sat on the mat'], ['the cat sat on a mat']), (['a b c d e'], ['a b c d f']),
             (['one two three four'], ['one two three four']), (['x y z w v'], ['x y q w v'])]
    merged, alone = _split_between_two_ranks(BleuMetric, pairs)                              # n-gram columns
    assert merged == pytest.approx(alone, rel=1e-12)
    merged, alone = _split_between_two_ranks(EmF1Metric, pairs)                              # lists
    assert merged == pytest.approx(alone, rel=1e-12)
    rng = np.random.default_rng(0)
    scores = [(rng.standard_normal((4, 3)).astype(np.float32), rng.integers(0, 3, 4)) for _ in range(5)]
    merged, alone = _split_between_two_ranks(lambda: Accuracy('classification'), scores)    # MindSpore's own
    assert merged == alone and 0 < alone < 1
    from mindspore.train import F1  # pylint: disable=import-outside-toplevel
    merged, alone = _split_between_two_ranks(F1, scores)                                     # per-class arrays
    np.testing.assert_allclose(merged, alone, rtol=1e-12)
    assert len(alone) == 3


def test_a_metric_that_names_no_state_cannot_be_combined_across_ranks():
    from mindformers.core.metric.distributed import evaluate_metrics  # pylint: disable=import-outside-toplevel
    from mindformers.tools.errors import ConfigError  # pylint: disable=import-outside-toplevel

    class Custom:  # pylint: disable=too-few-public-methods
        def eval(self):
            return 1.0
    assert evaluate_metrics({'c': Custom()}, 1) == {'c': 1.0}
    with pytest.raises(ConfigError, match='metric Custom does not say which of its state to combine across ranks'):
        evaluate_metrics({'c': Custom()}, 2)
