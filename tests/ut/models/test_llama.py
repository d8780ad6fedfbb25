"""LlamaForCausalLM on a tiny config: loss vs NumPy, masking, causality, GQA, tied embeddings, generate."""
import mindspore as ms
import numpy as np
import pytest
from mindspore import Tensor

from mindformers.models.llama import LlamaConfig, LlamaForCausalLM
from mindformers.tools.errors import ConfigError

SEQ = 16
VOCAB = 64
EOS = 2


def tiny_config(**overrides):
    values = dict(seq_length=SEQ, hidden_size=32, num_layers=2, num_heads=4, n_kv_heads=2, vocab_size=VOCAB,
                  compute_dtype='float32', param_init_type='float32')
    values.update(overrides)
    return LlamaConfig(**values)


def build(seed=0, **overrides):
    ms.set_seed(seed)
    return LlamaForCausalLM(tiny_config(**overrides))


pytestmark = pytest.mark.usefixtures("pynative")


@pytest.fixture(name="model", scope="module")
def fixture_model():
    return build(seed=0)


def random_ids(seed, batch=2, length=SEQ + 1):
    return np.random.default_rng(seed).integers(3, VOCAB, size=(batch, length)).astype(np.int32)


def eval_logits(model, tokens):
    model.set_train(False)
    logits, returned_tokens, input_mask = model(Tensor(tokens))
    np.testing.assert_array_equal(returned_tokens.asnumpy(), tokens)
    np.testing.assert_array_equal(input_mask.asnumpy(), (tokens != 0).astype(np.float32))
    return logits.asnumpy().astype(np.float64)


def train_loss(model, input_ids, labels=None):
    model.set_train(True)
    args = (Tensor(input_ids),) if labels is None else (Tensor(input_ids), Tensor(labels))
    loss = model(*args).asnumpy()
    model.set_train(False)
    return float(loss)


def numpy_masked_cross_entropy(logits, labels, mask):
    """sum(ce * mask) / (sum(mask) + 1e-5) over (batch, seq); logits (batch, seq, vocab)."""
    top = logits.max(axis=-1, keepdims=True)
    log_z = np.log(np.exp(logits - top).sum(axis=-1)) + top[..., 0]
    safe_labels = np.maximum(labels, 0)
    picked = np.take_along_axis(logits, safe_labels[..., None], axis=-1)[..., 0]
    return float(((log_z - picked) * mask).sum() / (mask.sum() + 1e-5))


# ---------------------------------------------------------------- loss


def test_training_loss_equals_numpy_cross_entropy_of_eval_logits(model):
    ids = random_ids(1)
    logits = eval_logits(model, ids[:, :SEQ])
    expected = numpy_masked_cross_entropy(logits, ids[:, 1:], np.ones((2, SEQ)))
    assert train_loss(model, ids) == pytest.approx(expected, rel=1e-5)
    assert expected == pytest.approx(np.log(VOCAB), rel=0.05)  # fresh init is close to uniform


def test_training_loss_masks_pad_input_tokens(model):
    ids = random_ids(2)
    ids[0, 10:] = 0  # first row right-padded with pad_token_id 0
    ids[1, 14:] = 0
    tokens = ids[:, :SEQ]
    logits = eval_logits(model, tokens)
    mask = (tokens != 0).astype(np.float64)
    expected = numpy_masked_cross_entropy(logits, ids[:, 1:], mask)
    unmasked = numpy_masked_cross_entropy(logits, ids[:, 1:], np.ones((2, SEQ)))
    loss = train_loss(model, ids)
    assert loss == pytest.approx(expected, rel=1e-5)
    assert abs(loss - unmasked) > 1e-3  # the mask really changed the result


def test_training_loss_masks_labels_equal_to_minus_100(model):
    ids = random_ids(3)
    labels = ids.copy()
    labels[:, :6] = -100  # e.g. a prompt that must not be learned
    labels[1, 12] = -100
    tokens = ids[:, :SEQ]
    logits = eval_logits(model, tokens)
    mask = (labels[:, 1:] != -100).astype(np.float64)
    expected = numpy_masked_cross_entropy(logits, labels[:, 1:], mask)
    assert train_loss(model, ids, labels) == pytest.approx(expected, rel=1e-5)


def test_training_loss_combines_pad_and_ignore_masks(model):
    ids = random_ids(4)
    ids[0, 12:] = 0
    labels = ids.copy()
    labels[0, :4] = -100
    tokens = ids[:, :SEQ]
    logits = eval_logits(model, tokens)
    mask = (tokens != 0) * (labels[:, 1:] != -100)
    expected = numpy_masked_cross_entropy(logits, labels[:, 1:], mask.astype(np.float64))
    assert train_loss(model, ids, labels) == pytest.approx(expected, rel=1e-5)


def test_training_loss_in_graph_mode_equals_pynative(model):
    ids = random_ids(5)
    pynative_loss = train_loss(model, ids)
    ms.set_context(mode=ms.GRAPH_MODE)
    graph_loss = train_loss(model, ids)
    assert graph_loss == pytest.approx(pynative_loss, rel=1e-5)


# ---------------------------------------------------------------- attention structure


def test_changing_a_later_token_leaves_earlier_logits_unchanged(model):
    tokens = random_ids(6, batch=1, length=SEQ)
    changed = tokens.copy()
    changed[0, 9] = (changed[0, 9] + 7) % VOCAB
    before = eval_logits(model, tokens)
    after = eval_logits(model, changed)
    np.testing.assert_allclose(after[:, :9], before[:, :9], rtol=0, atol=1e-6)
    assert np.abs(after[:, 9:] - before[:, 9:]).max() > 1e-4


def test_eval_of_a_seq_length_plus_one_record_runs_its_first_seq_length_tokens(model):
    tokens = random_ids(7, batch=1, length=SEQ + 1)
    model.set_train(False)
    logits, returned, mask = (x.asnumpy() for x in model(Tensor(tokens)))
    assert logits.shape == (1, SEQ, VOCAB)  # the record's last token is only a label
    np.testing.assert_array_equal(returned, tokens)
    np.testing.assert_array_equal(mask, (tokens != 0).astype(np.float32))
    np.testing.assert_allclose(logits, eval_logits(model, tokens[:, :SEQ]), rtol=0, atol=1e-6)


@pytest.mark.parametrize("n_kv_heads", [2, 4])
def test_gqa_and_mha_variants_run_with_expected_kv_shapes(n_kv_heads):
    net = build(seed=1, n_kv_heads=n_kv_heads)
    head_dim = 32 // 4
    assert net.model.layers[0].attention.wk.weight.shape == (n_kv_heads * head_dim, 32)
    assert net.model.layers[0].attention.wv.weight.shape == (n_kv_heads * head_dim, 32)
    loss = train_loss(net, random_ids(8))
    assert np.isfinite(loss)
    assert sum(p.size for p in net.get_parameters()) == net.config.num_parameters()


def test_gqa_equals_mha_with_each_kv_head_repeated():
    """Query head h reads KV head h // (num_heads / n_kv_heads): duplicating KV heads gives the same logits."""
    gqa = build(seed=2, n_kv_heads=2)
    mha = build(seed=3, n_kv_heads=4)
    head_dim = 8
    gqa_params = {p.name: p.asnumpy() for p in gqa.get_parameters()}
    for param in mha.get_parameters():
        value = gqa_params[param.name]
        if param.name.endswith(('attention.wk.weight', 'attention.wv.weight')):
            value = np.repeat(value.reshape(2, head_dim, 32), 2, axis=0).reshape(32, 32)
        param.set_data(Tensor(value))
    tokens = random_ids(9, length=SEQ)
    np.testing.assert_allclose(eval_logits(mha, tokens), eval_logits(gqa, tokens), rtol=0, atol=1e-5)


def test_tie_word_embeddings_shares_the_embedding_table():
    net = build(seed=4, tie_word_embeddings=True)
    names = [p.name for p in net.get_parameters()]
    assert not any('lm_head' in name for name in names)
    assert sum(p.size for p in net.get_parameters()) == net.config.num_parameters()
    tokens = random_ids(10, batch=1, length=SEQ)
    hidden = net.model(Tensor(tokens)).asnumpy().astype(np.float64)
    table = net.model.tok_embeddings.embedding_weight.asnumpy().astype(np.float64)
    np.testing.assert_allclose(eval_logits(net, tokens), hidden @ table.T, rtol=1e-5, atol=1e-6)


def test_untied_model_has_its_own_lm_head(model):
    assert model.lm_head.weight.shape == (VOCAB, 32)
    assert sum(p.size for p in model.get_parameters()) == model.config.num_parameters()


# ---------------------------------------------------------------- generate


def manual_greedy(model, prompt, max_length):
    """argmax over the last real position, one token at a time, input right-padded to seq_length."""
    ids = list(prompt)
    while len(ids) < max_length:
        padded = np.zeros((1, SEQ), dtype=np.int32)
        padded[0, :len(ids)] = ids
        logits = eval_logits(model, padded)
        token = int(np.argmax(logits[0, len(ids) - 1]))
        ids.append(token)
        if token == EOS:
            break
    return ids


def test_generate_greedy_equals_manual_argmax_loop(model):
    output = model.generate([[5, 6, 7]], max_length=10, do_sample=False)
    assert len(output) == 1
    assert output[0].tolist() == manual_greedy(model, [5, 6, 7], 10)
    assert output[0].tolist()[:3] == [5, 6, 7]


def test_generate_sampling_with_top_k_1_equals_greedy(model):
    greedy = model.generate([[5, 6, 7]], max_length=10, do_sample=False)
    sampled = model.generate([[5, 6, 7]], max_length=10, do_sample=True, top_k=1, top_p=1.0, temperature=0.7)
    assert sampled[0].tolist() == greedy[0].tolist()


def test_generate_batch_of_different_lengths_equals_single_prompts(model):
    prompts = [[5, 6, 7], [9, 10, 11, 12, 13]]
    batched = model.generate(prompts, max_length=9, do_sample=False)
    singles = [model.generate([p], max_length=9, do_sample=False)[0] for p in prompts]
    assert [row.tolist() for row in batched] == [row.tolist() for row in singles]


def test_generate_sampling_is_reproducible_for_a_seed(model):
    first = model.generate([[5, 6, 7]], max_length=7, do_sample=True, top_k=0, top_p=1.0, seed=3)
    second = model.generate([[5, 6, 7]], max_length=7, do_sample=True, top_k=0, top_p=1.0, seed=3)
    assert first[0].tolist() == second[0].tolist()


def test_generate_restores_training_flag(model):
    model.set_train(True)
    model.generate([[5, 6, 7]], max_length=5, do_sample=False)
    assert model.training
    model.set_train(False)


@pytest.mark.parametrize("kwargs, match", [
    ({'do_sample': True, 'top_p': 0.0}, 'top_p'),
    ({'do_sample': True, 'top_p': 1.5}, 'top_p'),
    ({'do_sample': True, 'temperature': 0.0}, 'temperature'),
    ({'do_sample': True, 'temperature': -1.0}, 'temperature'),
    ({'do_sample': True, 'top_k': -1}, 'top_k'),
    ({'do_sample': False, 'repetition_penalty': 0.0}, 'repetition_penalty'),
    ({'do_sample': False, 'repetition_penalty': -2.0}, 'repetition_penalty'),
    ({'do_sample': False, 'max_length': 3}, 'max_length'),
])
def test_generate_rejects_bad_settings_with_config_error(model, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        model.generate([[5, 6, 7]], **kwargs)


def test_generate_rejects_prompt_longer_than_seq_length(model):
    with pytest.raises(ConfigError, match='seq_length'):
        model.generate([list(range(3, 3 + SEQ + 1))], max_length=SEQ + 4, do_sample=False)


@pytest.mark.parametrize('tied', [False, True])
def test_training_flops_per_sample_counts_each_matmul_by_hand(tied):
    """hidden 32, 4 heads of 8, 2 KV heads (k/v: 32 -> 16), FFN 96 (gate, up, down), head 32 -> 64, seq 16."""
    model = build(intermediate_size=96, tie_word_embeddings=tied)
    hidden, kv, ffn, layers = 32, 16, 96, 2
    per_layer = hidden * hidden * 2 + hidden * kv * 2 + hidden * ffn * 3     # q, o; k, v; w1, w2, w3
    weights = layers * per_layer + hidden * VOCAB                            # + the head (tied or not)
    forward_and_backward = 3 * 2 * weights * SEQ                             # 2 FLOPs a weight, 3 passes
    attention = 3 * layers * (2 * SEQ * SEQ * hidden) * 2                    # q.k and p.v, 3 passes
    assert model.training_flops_per_sample() == forward_and_backward + attention
