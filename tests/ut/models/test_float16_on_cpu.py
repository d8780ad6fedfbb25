"""The float16 / bfloat16 settings of the big configs, on CPU. With MF_CPU_FLOAT16=1 float16 is really computed
in float16 (MindSpore's CPU kernels have it): logits stay within 2e-3 of float32 (measured 5e-4),
softmax_compute_type / layernorm_compute_type are honoured, a tiny model trains with falling loss and a huge
loss scale overflows float16, skips the update and lowers the scale. bfloat16 math has no CPU kernels: it is
computed in float32, with a warning that says so."""
import logging

import mindspore as ms
import numpy as np
import pytest
from mindspore import Tensor

from mindformers import BloomConfig, BloomLMHeadModel, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM
from mindformers.core.optim import AdamW
from mindformers.modules.attention import MultiHeadAttention
from mindformers.modules.normalization import LayerNorm, RMSNorm
from mindformers.wrapper import DynamicLossScale, MFTrainOneStepCell

pytestmark = pytest.mark.usefixtures("pynative")
VOCAB, SEQ = 96, 16
IDS = np.random.default_rng(0).integers(1, VOCAB, (2, SEQ)).astype(np.int32)


def build(family, seed=0, **dtypes):
    ms.set_seed(seed)
    common = dict(seq_length=SEQ, vocab_size=VOCAB, hidden_size=64, num_layers=2, num_heads=4,
                  param_init_type='float32', **dtypes)
    if family == 'llama':
        model = LlamaForCausalLM(LlamaConfig(intermediate_size=128, **common))
    elif family == 'gpt2':
        model = GPT2LMHeadModel(GPT2Config(hidden_dropout_rate=0.0, attention_dropout_rate=0.0,
                                           embedding_dropout_prob=0.0, **common))
    else:
        model = BloomLMHeadModel(BloomConfig(hidden_dropout_rate=0.0, attention_dropout_rate=0.0, **common))
    model.set_train(False)
    return model


def logits(model):
    return model(Tensor(IDS))[0].asnumpy().astype(np.float64)


@pytest.mark.parametrize('family', ['llama', 'gpt2', 'bloom'])
def test_float16_compute_stays_within_2e3_of_float32(family, monkeypatch):
    reference = logits(build(family, compute_dtype='float32'))
    monkeypatch.setenv('MF_CPU_FLOAT16', '1')
    half = build(family, compute_dtype='float16')
    assert half.model.layers[0].attention.wq.compute_dtype == ms.float16   # really float16, not the CPU default
    difference = np.abs(logits(half) - reference).max()
    assert 0 < difference <= 2e-3   # measured 4.6e-4 (llama); exactly 0 would mean float32 ran


def test_softmax_and_layernorm_compute_types_are_honoured(monkeypatch):
    monkeypatch.setenv('MF_CPU_FLOAT16', '1')
    kept = build('llama', compute_dtype='float16', softmax_compute_type='float32', layernorm_compute_type='float32')
    lowered = build('llama', compute_dtype='float16', softmax_compute_type='float16', layernorm_compute_type='float16')
    for model, wanted in ((kept, ms.float32), (lowered, ms.float16)):
        attentions = [c for _, c in model.cells_and_names() if isinstance(c, MultiHeadAttention)]
        norms = [c for _, c in model.cells_and_names() if isinstance(c, (RMSNorm, LayerNorm))]
        assert len(attentions) == 2 and len(norms) == 5
        assert {a.softmax_dtype for a in attentions} == {wanted} and {n.compute_type for n in norms} == {wanted}
    reference = logits(build('llama', compute_dtype='float32'))
    assert np.abs(logits(kept) - reference).max() <= 2e-3 and np.abs(logits(lowered) - reference).max() <= 2e-3


def test_without_the_switch_float16_runs_as_float32_on_cpu(monkeypatch):
    monkeypatch.delenv('MF_CPU_FLOAT16', raising=False)
    np.testing.assert_array_equal(logits(build('gpt2', compute_dtype='float16')),
                                  logits(build('gpt2', compute_dtype='float32')))


def test_bfloat16_is_computed_in_float32_with_a_warning(monkeypatch, caplog):
    from mindformers.tools import dtype as dtype_module  # pylint: disable=import-outside-toplevel
    monkeypatch.setenv('MF_CPU_FLOAT16', '1')   # does not turn bf16 math on: there are no kernels for it
    monkeypatch.setattr(dtype_module, '_warned', set())
    logging.getLogger('mindformers').propagate = True
    with caplog.at_level(logging.WARNING, logger='mindformers'):
        model = build('llama', compute_dtype='bfloat16')
    assert "compute_dtype BFloat16 is computed in float32 on CPU (MindSpore's CPU backend has no bfloat16" in \
        caplog.text
    np.testing.assert_array_equal(logits(model), logits(build('llama', compute_dtype='float32')))


def counting_batch(rng, batch=8):
    starts = rng.integers(1, VOCAB, batch)
    return np.stack([(s + np.arange(SEQ + 1) - 1) % (VOCAB - 1) + 1 for s in starts]).astype(np.int32)


def test_float16_training_learns_and_a_huge_loss_scale_overflows_and_is_lowered(monkeypatch):
    previous = ms.get_context('mode')
    ms.set_context(mode=ms.GRAPH_MODE)   # the compiled train step, as run_mindformer.py runs it
    try:
        _train_float16_with_a_huge_loss_scale(monkeypatch)
    finally:
        ms.set_context(mode=previous)


def _train_float16_with_a_huge_loss_scale(monkeypatch):
    monkeypatch.setenv('MF_CPU_FLOAT16', '1')
    model = build('llama', compute_dtype='float16')
    model.set_train(True)
    optimizer = AdamW(model.trainable_params(), learning_rate=1e-2)
    scale = DynamicLossScale(loss_scale_value=2.0 ** 40, scale_factor=2, scale_window=1000)
    step = MFTrainOneStepCell(model, optimizer, scale_sense=scale)
    step.set_train(True)
    rng = np.random.default_rng(1)
    before = {p.name: p.asnumpy().copy() for p in model.trainable_params()}
    loss, overflow, loss_scale, _, _ = step(Tensor(counting_batch(rng)))
    # 2^40 times the loss gradient does not fit float16 (max 65504): the step is skipped, the scale halved
    assert bool(overflow.asnumpy()) and float(loss_scale.asnumpy()) == 2.0 ** 39
    assert all(np.array_equal(before[p.name], p.asnumpy()) for p in model.trainable_params())
    losses, skipped = [float(loss.asnumpy())], 1
    for _ in range(60):
        loss, overflow, _, _, _ = step(Tensor(counting_batch(rng)))
        losses.append(float(loss.asnumpy()))
        skipped += bool(overflow.asnumpy())
    final_scale = float(step.scale_sense.asnumpy())
    assert final_scale <= 2.0 ** 20 and skipped == round(np.log2(2.0 ** 40 / final_scale))   # one halving each
    assert np.isfinite(losses).all() and np.mean(losses[-5:]) < np.mean(losses[:5]) - 1.0
