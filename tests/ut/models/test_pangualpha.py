"""PanGu-Alpha against a NumPy reference written from the published architecture (learned positions, pre-LayerNorm
blocks with fast GELU, the top query layer whose queries are a second position embedding, tied head), plus the KV
cache, the loss, prompt classification with PromptAccMetric and the config rules."""
import numpy as np
import pytest
from mindspore import Tensor
import mindspore as ms

from mindformers import (PanguAlphaConfig, PanguAlphaHeadModel, PanguAlphaPromptTextClassificationModel,
                         PromptAccMetric)
from mindformers.tools.errors import ConfigError
from tests.ut.models.decoder_checks import (assert_cached_generation_matches_full, masked_ce,
                                            randomize_norms_and_biases)

pytestmark = pytest.mark.usefixtures("pynative")

SEQ, PAD = 16, 3


def tiny_config(**overrides):
    base = dict(vocab_size=60, hidden_size=32, num_layers=3, num_heads=4, ffn_hidden_size=48, seq_length=SEQ,
                compute_dtype='float32', softmax_compute_type='float32', embedding_dropout_prob=0.0,
                hidden_dropout_rate=0.0, attention_dropout_rate=0.0, pad_token_id=PAD, eos_token_id=4,
                do_sample=False)
    base.update(overrides)
    return PanguAlphaConfig(**base)


def build(seed=0, cls=PanguAlphaHeadModel, **overrides):
    ms.set_seed(seed)
    model = randomize_norms_and_biases(cls(tiny_config(**overrides)), seed)
    for param in model.get_parameters():   # peaked attention and logits of a few units, so errors show
        factor = 20.0 if 'top_query' in param.name else 4.0      # the top layer's queries: its own table
        if param.name.endswith(('wq.weight', 'wk.weight')) or 'embedding' in param.name:
            param.set_data(Tensor(param.asnumpy() * factor))
    model.set_train(False)
    return model


@pytest.fixture(name="model", scope="module")
def fixture_model():
    return build()


def _layer_norm(x, weight, bias, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _fast_gelu(x):
    return x / (1.0 + np.exp(-1.702 * x))


def _block(p, x, heads, query=None):
    """One pre-LayerNorm block; with `query`, the queries are projected from it (the top query layer)."""
    seq, dim = x.shape
    hd = dim // heads
    normed = _layer_norm(x, p['attention_norm.weight'], p['attention_norm.bias'])

    def project(name, source):
        return (source @ p[f'attention.{name}.weight'].T + p[f'attention.{name}.bias']).reshape(seq, heads, hd)
    q = project('wq', normed if query is None else query)
    k, v = project('wk', normed), project('wv', normed)
    scores = np.einsum('qhd,khd->hqk', q, k) / np.sqrt(hd)
    scores = np.where(np.triu(np.ones((seq, seq), bool), 1)[None], -np.inf, scores)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    context = np.einsum('hqk,khd->qhd', probs, v).reshape(seq, dim)
    h = x + context @ p['attention.wo.weight'].T + p['attention.wo.bias']
    mlp = _fast_gelu(_layer_norm(h, p['ffn_norm.weight'], p['ffn_norm.bias']) @ p['feed_forward.w1.weight'].T +
                     p['feed_forward.w1.bias'])
    return h + mlp @ p['feed_forward.w2.weight'].T + p['feed_forward.w2.bias']


def reference_logits(params, cfg, ids):
    def sub(prefix):
        return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
    seq = len(ids)
    x = params['model.tok_embeddings.embedding_weight'][np.asarray(ids)] + \
        params['model.position_embeddings.embedding_weight'][:seq]
    for layer in range(cfg.num_layers - 1):
        x = _block(sub(f'model.layers.{layer}.'), x, cfg.num_heads)
    x = _layer_norm(x, params['model.norm_out.weight'], params['model.norm_out.bias'])
    x = _block(sub('model.top_query_layer.'), x, cfg.num_heads,
               query=params['model.top_query_embedding.embedding_weight'][:seq])
    return x @ params['model.tok_embeddings.embedding_weight'].T


def params_of(model):
    return {p.name: p.asnumpy().astype(np.float64) for p in model.get_parameters()}


def random_ids(seed, batch=2, length=SEQ):
    return np.random.default_rng(seed).integers(5, 60, (batch, length)).astype(np.int32)


def test_logits_match_the_pangu_alpha_reference(model):
    ids = random_ids(1)
    got = model(Tensor(ids))[0].asnumpy()
    want = np.stack([reference_logits(params_of(model), model.config, row) for row in ids])
    assert np.abs(want).max() > 1.0
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def test_the_top_query_layer_takes_its_queries_from_the_position_table(model):
    ids = random_ids(2, batch=1)
    base = model(Tensor(ids))[0].asnumpy()
    table = model.model.top_query_embedding.embedding_weight
    saved = table.asnumpy()
    try:
        changed = saved.copy()
        changed[5] += 0.5
        table.set_data(Tensor(changed))
        after = model(Tensor(ids))[0].asnumpy()
    finally:
        table.set_data(Tensor(saved))
    np.testing.assert_array_equal(after[0, :5], base[0, :5])     # only position 5's query moved
    assert np.abs(after[0, 5] - base[0, 5]).max() > 1e-3
    np.testing.assert_array_equal(after[0, 6:], base[0, 6:])


def test_training_loss_skips_padded_inputs_as_upstream(model):
    ids = random_ids(3, length=SEQ + 1)
    ids[1, 10:] = PAD
    logits = np.stack([reference_logits(params_of(model), model.config, row[:-1]) for row in ids])
    want = masked_ce(logits, ids[:, 1:], (ids[:, :-1] != PAD).astype(np.float64))
    model.set_train(True)
    try:
        got = float(model(Tensor(ids)).asnumpy())
    finally:
        model.set_train(False)
    assert abs(got - want) < 1e-5


@pytest.mark.parametrize("prompts", [[[21, 22, 23]], [[21, 22], [30, 31, 32, 33, 34, 35]]], ids=["batch1", "ragged2"])
def test_use_past_gives_the_per_step_logits_of_full_recompute(prompts):
    full = build(seed=3)
    cached = build(seed=3, use_past=True, batch_size=len(prompts))
    assert_cached_generation_matches_full(full, cached, prompts, max_length=14, min_steps=8)


def test_prompt_classification_picks_the_candidate_with_the_lowest_passage_loss():
    model = build(cls=PanguAlphaPromptTextClassificationModel, num_labels=3)
    candidates = random_ids(4, batch=3)               # one example, three candidate texts
    mask = np.zeros_like(candidates)
    mask[:, 6:12] = 1                                 # the passage's tokens count, not the prompt's
    logits, tokens, got_mask, labels = model(Tensor(candidates.reshape(1, -1)), Tensor(np.array([2], np.int32)),
                                             Tensor(mask.reshape(1, -1)))
    assert logits.shape == (1, 3, SEQ, 60) and tokens.shape == (3, SEQ) and int(labels.asnumpy()[0]) == 2
    reference = [reference_logits(params_of(model), model.config, row) for row in candidates]
    np.testing.assert_allclose(logits.asnumpy()[0], np.stack(reference), rtol=0, atol=1e-4)
    losses = [masked_ce(r[None, :-1], row[None, 1:], m[None, 1:].astype(np.float64))
              for r, row, m in zip(reference, candidates, mask)]
    best = int(np.argmin(losses))
    for truth, expected in ((best, 1.0), ((best + 1) % 3, 0.0)):
        metric = PromptAccMetric()
        metric.update(logits, tokens, got_mask, Tensor(np.array([truth], np.int32)))
        assert metric.eval() == {'Acc': expected}
    model.set_train(True)
    with pytest.raises(ConfigError, match="only evaluates"):
        model(Tensor(candidates.reshape(1, -1)), Tensor(np.array([2], np.int32)), Tensor(mask.reshape(1, -1)))
    model.set_train(False)


def test_prompt_acc_metric_by_hand():
    # two examples of two candidates over a 2-word vocabulary; candidate losses are set by the logits at t=0
    logits = np.zeros((2, 2, 2, 2), np.float32)
    logits[0, 0, 0] = [0.0, 5.0]     # example 0: candidate 0 predicts its next token (1) well
    logits[0, 1, 0] = [5.0, 0.0]
    logits[1, 0, 0] = [5.0, 0.0]     # example 1: candidate 1 does
    logits[1, 1, 0] = [0.0, 5.0]
    tokens = np.array([[0, 1]] * 4, np.int32)
    mask = np.ones((4, 2), np.int32)
    metric = PromptAccMetric()
    metric.update(logits, tokens, mask, np.array([0, 0]))
    metric.update(logits, tokens, mask, np.array([0, 1]))
    assert metric.eval() == {'Acc': 0.75}
    metric.clear()
    with pytest.raises(RuntimeError, match="no example"):
        metric.eval()


def test_config_rules():
    with pytest.raises(ConfigError, match="num_layers 1 must be >= 2"):
        tiny_config(num_layers=1)
    with pytest.raises(ConfigError, match="not divisible by num_heads"):
        tiny_config(num_heads=5)
    with pytest.raises(ConfigError, match="post_layernorm_residual"):
        tiny_config(post_layernorm_residual=True)
    with pytest.raises(ConfigError, match="needs model_config.num_labels"):
        PanguAlphaPromptTextClassificationModel(tiny_config())
    assert tiny_config().num_parameters() == sum(p.size for p in build().get_parameters())
