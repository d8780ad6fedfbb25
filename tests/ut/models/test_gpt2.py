"""GPT-2 on tiny configs: loss masks vs NumPy, KV-cache decoding vs full recompute, LoRA with upstream regexes,
sequence classification, config errors, and the seed's tokenizer/processor outputs on the real GPT-2 vocab."""
import os

import mindspore as ms
import numpy as np
import pytest
from mindspore import Tensor

from mindformers import GPT2Config, GPT2LMHeadModel, GPT2ForSequenceClassification, GPT2Tokenizer, GPT2Processor
from mindformers.pet import LoraConfig, get_pet_model
from mindformers.tools.errors import ConfigError

from decoder_checks import assert_cached_generation_matches_full, masked_ce, randomize_norms_and_biases

SEQ, VOCAB, PAD = 16, 64, 0
SHARED_GPT2 = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'shared', 'data', 'tokenizers', 'gpt2')

pytestmark = pytest.mark.usefixtures("pynative")


def tiny_config(**overrides):
    values = dict(seq_length=SEQ, vocab_size=VOCAB, hidden_size=32, num_layers=2, num_heads=4, batch_size=3,
                  compute_dtype='float32', embedding_dropout_prob=0.0, hidden_dropout_rate=0.0,
                  attention_dropout_rate=0.0, pad_token_id=PAD, eos_token_id=VOCAB - 1, bos_token_id=VOCAB - 1)
    values.update(overrides)
    return GPT2Config(**values)


def build(cls=GPT2LMHeadModel, seed=0, **overrides):
    ms.set_seed(seed)
    return randomize_norms_and_biases(cls(tiny_config(**overrides)), seed)


@pytest.fixture(name="model", scope="module")
def fixture_model():
    return build()


def random_ids(seed, batch=2, length=SEQ + 1):
    return np.random.default_rng(seed).integers(1, VOCAB - 1, size=(batch, length)).astype(np.int32)


def eval_logits(model, tokens):
    model.set_train(False)
    return model(Tensor(tokens))[0].asnumpy().astype(np.float64)


def train_loss(model, *inputs):
    model.set_train(True)
    loss = float(model(*[None if x is None else Tensor(x) for x in inputs]).asnumpy())
    model.set_train(False)
    return loss


def test_loss_skips_labels_equal_to_pad_as_upstream_gpt2(model):
    ids = random_ids(1)
    ids[0, 9:] = PAD   # padding (also GPT-2's EOS id): the labels there are not learnt
    ids[1, 5] = PAD    # a pad *input* is still a context token; only its label position is masked
    logits = eval_logits(model, ids[:, :SEQ])
    expected = masked_ce(logits, ids[:, 1:], (ids[:, 1:] != PAD).astype(np.float64))
    input_rule = masked_ce(logits, ids[:, 1:], (ids[:, :SEQ] != PAD).astype(np.float64))
    assert train_loss(model, ids) == pytest.approx(expected, rel=1e-5)
    assert abs(expected - input_rule) > 1e-3  # the two mask rules really differ on this batch


def test_attention_mask_column_selects_the_label_positions(model):
    ids = random_ids(2)
    attention = np.ones_like(ids)
    attention[0, 12:] = 0
    attention[1, :3] = 0
    logits = eval_logits(model, ids[:, :SEQ])
    expected = masked_ce(logits, ids[:, 1:], attention[:, 1:].astype(np.float64))
    assert train_loss(model, ids, attention) == pytest.approx(expected, rel=1e-5)


def test_eval_of_a_training_record_runs_seq_length_tokens_and_returns_the_record(model):
    ids = random_ids(3)
    model.set_train(False)
    logits, tokens, mask = (x.asnumpy() for x in model(Tensor(ids)))
    assert logits.shape == (2, SEQ, VOCAB)
    np.testing.assert_array_equal(tokens, ids)
    np.testing.assert_array_equal(mask, (ids != PAD).astype(np.float32))
    np.testing.assert_allclose(logits, eval_logits(model, ids[:, :SEQ]), rtol=0, atol=1e-6)


def test_logits_are_causal_and_use_positions(model):
    ids = random_ids(4)[:, :SEQ]
    changed = ids.copy()
    changed[:, 10] = (changed[:, 10] % (VOCAB - 2)) + 1
    before, after = eval_logits(model, ids), eval_logits(model, changed)
    np.testing.assert_allclose(before[:, :10], after[:, :10], atol=1e-6)
    assert np.abs(before[:, 10:] - after[:, 10:]).max() > 1e-3
    swapped = ids.copy()
    swapped[:, [2, 3]] = swapped[:, [3, 2]]  # same bag of tokens, other order: only positions can tell
    # without position embeddings attention is order-blind and the two differ by float rounding (~1e-7)
    assert np.abs(eval_logits(model, swapped)[:, 5] - before[:, 5]).max() > 1e-4


def test_training_loss_in_graph_mode_equals_pynative(model):
    ids = random_ids(5)
    pynative_loss = train_loss(model, ids)
    ms.set_context(mode=ms.GRAPH_MODE)
    assert train_loss(model, ids) == pytest.approx(pynative_loss, rel=1e-5)


@pytest.mark.parametrize('prompts', [[[5, 6, 7, 8]], [[5, 6, 7], [9, 10], [11, 12, 13, 14, 15, 16]]])
def test_use_past_gives_the_per_step_logits_and_ids_of_full_recompute(prompts):
    assert_cached_generation_matches_full(build(use_past=False), build(use_past=True), prompts, SEQ, SEQ - 7)


def test_lora_with_the_upstream_gpt2_regex_adapts_query_and_value_only():
    model = build()
    config = LoraConfig(lora_rank=4, lora_alpha=8, lora_dropout=0.0, target_modules='.*dense1.*|.*dense3.*')
    model = get_pet_model(model, config)
    assert sorted(model.lora_layers) == [f'model.layers.{i}.attention.{p}' for i in (0, 1) for p in ('wq', 'wv')]
    trainable = sorted(p.name for p in model.trainable_params())
    assert trainable == sorted(f'model.layers.{i}.attention.{p}.mindpet_delta_lora_{ab}'
                               for i in (0, 1) for p in ('wq', 'wv') for ab in ('a', 'b'))


def test_sequence_classification_reads_the_last_real_token():
    model = build(GPT2ForSequenceClassification, num_labels=3)
    ids = random_ids(6, length=SEQ)
    attention = np.ones_like(ids)
    attention[0, 9:] = 0
    ids[0, 9:] = PAD
    labels = np.array([2, 0], np.int32)
    model.set_train(False)
    logits = model(Tensor(ids), Tensor(attention)).asnumpy()
    hidden = model.model(Tensor(ids)).asnumpy()
    weight = model.score.weight.asnumpy()
    expected = np.stack([hidden[0, 8] @ weight.T, hidden[1, SEQ - 1] @ weight.T])
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)
    eval_logits_, eval_labels = model(Tensor(ids), Tensor(attention), Tensor(labels))
    np.testing.assert_array_equal(eval_labels.asnumpy(), labels)
    model.set_train(True)
    loss = float(model(Tensor(ids), Tensor(attention), Tensor(labels)).asnumpy())
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    assert loss == pytest.approx(-log_probs[[0, 1], labels].mean(), rel=1e-4)
    assert eval_logits_.shape == (2, 3)


def test_config_errors_name_the_field_and_the_fix():
    with pytest.raises(ConfigError, match='hidden_size 30 is not divisible by num_heads 4'):
        tiny_config(hidden_size=30)
    with pytest.raises(ConfigError, match='seq_length 32 is larger than max_position_embeddings 16'):
        tiny_config(seq_length=32, max_position_embeddings=16)
    with pytest.raises(ConfigError, match='unknown activation'):
        GPT2LMHeadModel(tiny_config(hidden_act='gelu9'))


# ---------------------------------------------------------------- the seed's tokenizer / processor calls

@pytest.fixture(name="gpt2_tokenizer", scope="module")
def fixture_gpt2_tokenizer():
    if not os.path.isdir(SHARED_GPT2):
        pytest.skip(f"the real GPT-2 vocabulary (../shared/data/tokenizers/gpt2) is not at {SHARED_GPT2}")
    return GPT2Tokenizer(vocab_file=os.path.join(SHARED_GPT2, 'vocab.json'),
                         merges_file=os.path.join(SHARED_GPT2, 'merges.txt'))


def test_gpt2_tokenizer_gives_the_seed_output(gpt2_tokenizer):
    assert gpt2_tokenizer("hello!") == {'input_ids': [50256, 31373, 0, 50256], 'token_type_ids': [0, 0, 0, 0],
                                        'attention_mask': [1, 1, 1, 1]}
    assert gpt2_tokenizer.decode([50256, 31373, 0, 50256], skip_special_tokens=True) == 'hello!'


def test_gpt2_processor_pads_to_max_length_with_endoftext(gpt2_tokenizer):
    out = GPT2Processor(tokenizer=gpt2_tokenizer, max_length=256, return_tensors='ms')("hello!")
    assert list(out) == ['text'] and out['text'].shape == (1, 256) and out['text'].dtype == ms.int32
    ids = out['text'].asnumpy()[0]
    assert ids[:4].tolist() == [50256, 31373, 0, 50256] and set(ids[4:].tolist()) == {50256}
    assert GPT2Processor(tokenizer=gpt2_tokenizer)("hello!")['text'].shape == (1, 128)
