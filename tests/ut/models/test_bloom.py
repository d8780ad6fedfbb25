"""BLOOM on tiny configs: ALiBi slopes and bias, loss mask at EOS inputs, KV-cache decoding vs full recompute,
embedding LayerNorm, LoRA with upstream names, config rules (embedding_size, batch_size None)."""
import mindspore as ms
import numpy as np
import pytest
from mindspore import Tensor

from mindformers import BloomConfig, BloomLMHeadModel
from mindformers.modules.position_bias import alibi_slopes
from mindformers.pet import LoraConfig, get_pet_model
from mindformers.tools.errors import ConfigError

from decoder_checks import assert_cached_generation_matches_full, masked_ce, randomize_norms_and_biases

SEQ, VOCAB, EOS = 16, 64, 2

pytestmark = pytest.mark.usefixtures("pynative")


def tiny_config(**overrides):
    values = dict(seq_length=SEQ, vocab_size=VOCAB, hidden_size=48, num_layers=2, num_heads=6, batch_size=3,
                  compute_dtype='float32', param_init_type='float32', hidden_dropout_rate=0.0,
                  attention_dropout_rate=0.0)
    values.update(overrides)
    return BloomConfig(**values)


def build(seed=0, **overrides):
    ms.set_seed(seed)
    return randomize_norms_and_biases(BloomLMHeadModel(tiny_config(**overrides)), seed)


@pytest.fixture(name="model", scope="module")
def fixture_model():
    return build()


def random_ids(seed, batch=2, length=SEQ + 1):
    return np.random.default_rng(seed).integers(4, VOCAB, size=(batch, length)).astype(np.int32)


def eval_logits(model, tokens):
    model.set_train(False)
    return model(Tensor(tokens))[0].asnumpy().astype(np.float64)


def train_loss(model, ids):
    model.set_train(True)
    loss = float(model(Tensor(ids)).asnumpy())
    model.set_train(False)
    return loss


def test_alibi_slopes_follow_the_paper_for_powers_of_two_and_interleave_otherwise():
    np.testing.assert_allclose(alibi_slopes(8), [2.0 ** -(i + 1) for i in range(8)], rtol=1e-7)
    # 6 heads: the 4 slopes of 4 heads, then the 1st and 3rd slopes of 8 heads (2^-1, 2^-3)
    np.testing.assert_allclose(alibi_slopes(6), [2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8, 2 ** -1, 2 ** -3], rtol=1e-7)


def test_loss_skips_positions_whose_input_is_eos_as_upstream_bloom(model):
    ids = random_ids(1)
    ids[0, 10:] = EOS  # BLOOM data is padded with EOS
    logits = eval_logits(model, ids[:, :SEQ])
    expected = masked_ce(logits, ids[:, 1:], (ids[:, :SEQ] != EOS).astype(np.float64))
    label_rule = masked_ce(logits, ids[:, 1:], (ids[:, 1:] != EOS).astype(np.float64))
    assert train_loss(model, ids) == pytest.approx(expected, rel=1e-5)
    assert abs(expected - label_rule) > 1e-4


def test_attention_is_causal_and_alibi_makes_it_order_aware(model):
    ids = random_ids(2)[:, :SEQ]
    changed = ids.copy()
    changed[:, 10] = (changed[:, 10] % (VOCAB - 5)) + 4
    before, after = eval_logits(model, ids), eval_logits(model, changed)
    np.testing.assert_allclose(before[:, :10], after[:, :10], atol=1e-6)
    swapped = ids.copy()
    swapped[:, [2, 3]] = swapped[:, [3, 2]]  # without ALiBi attention cannot tell the order of keys
    assert np.abs(eval_logits(model, swapped)[:, 5] - before[:, 5]).max() > 1e-4


def test_embedding_layernorm_is_applied(model):
    ids = random_ids(3)[:, :SEQ]
    before = eval_logits(model, ids)
    norm = model.model.embedding_norm
    saved = norm.weight.asnumpy()
    norm.weight.set_data(Tensor(saved * 2.0))
    try:
        assert np.abs(eval_logits(model, ids) - before).max() > 1e-3
    finally:
        norm.weight.set_data(Tensor(saved))


def test_training_loss_in_graph_mode_equals_pynative(model):
    ids = random_ids(4)
    pynative_loss = train_loss(model, ids)
    ms.set_context(mode=ms.GRAPH_MODE)
    assert train_loss(model, ids) == pytest.approx(pynative_loss, rel=1e-5)


@pytest.mark.parametrize('prompts', [[[5, 6, 7, 8]], [[5, 6, 7], [9, 10], [11, 12, 13, 14, 15, 16]]])
def test_use_past_with_alibi_gives_the_per_step_logits_of_full_recompute(prompts):
    full, cached = build(use_past=False), build(use_past=True)
    assert_cached_generation_matches_full(full, cached, prompts, SEQ, SEQ - 7)


def test_lora_with_upstream_names_adapts_query_and_value_only():
    model = get_pet_model(build(), LoraConfig(lora_rank=4, lora_alpha=8, target_modules='.*dense1.*|.*dense3.*'))
    assert sorted(model.lora_layers) == [f'model.layers.{i}.attention.{p}' for i in (0, 1) for p in ('wq', 'wv')]
    assert all('mindpet_delta_lora_' in p.name for p in model.trainable_params())


def test_config_rules():
    assert tiny_config(embedding_size=96, num_heads=8).hidden_size == 96  # upstream 65B/176B spell it so
    assert tiny_config(batch_size=None, use_past=True).use_past is False
    with pytest.raises(ConfigError, match='hidden_size 50 is not divisible by num_heads 6'):
        tiny_config(hidden_size=50)
