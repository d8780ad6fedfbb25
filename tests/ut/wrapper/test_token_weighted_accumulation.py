"""Gradient accumulation weighted by real tokens: an accumulated step on fine-tune data whose micro-batches hold
different amounts of padding and `-100` labels equals one step on the whole batch (loss, global norm, weights)."""
import mindspore as ms
import numpy as np
import pytest
from mindspore import nn

from mindformers import LlamaConfig, LlamaForCausalLM
from mindformers.wrapper import MFTrainOneStepCell

SEQ = 12
VOCAB = 64


def finetune_batch():
    """4 records of SEQ + 1 tokens: micro-batch 1 (rows 0-1) is almost all prompt (-100) and padding, micro-batch 2
    (rows 2-3) is almost all answer, so the two hold very different numbers of tokens that count."""
    rng = np.random.default_rng(3)
    ids = rng.integers(3, VOCAB, size=(4, SEQ + 1)).astype(np.int32)
    labels = ids.copy()
    labels[0, :10] = -100
    labels[1, :11] = -100
    ids[1, 12:] = 0  # padding (pad_token_id 0): masked at the input
    labels[2, :2] = -100
    labels[3, :1] = -100
    return ms.Tensor(ids), ms.Tensor(labels)


def one_step(accumulation, seed=0):
    ms.set_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(seq_length=SEQ, hidden_size=32, num_layers=1, num_heads=2,
                                         intermediate_size=48, vocab_size=VOCAB, pad_token_id=0,
                                         compute_dtype='float32', param_init_type='float32'))
    optimizer = nn.SGD(model.trainable_params(), learning_rate=1.0)
    cell = MFTrainOneStepCell(model, optimizer, gradient_accumulation_steps=accumulation)
    cell.set_train()
    loss, _, _, _, global_norm = cell(*finetune_batch())
    weights = {p.name: p.asnumpy().copy() for p in model.trainable_params()}
    return float(loss.asnumpy()), float(global_norm.asnumpy()), weights


@pytest.mark.usefixtures('pynative')
def test_accumulated_step_on_uneven_micro_batches_equals_one_step_on_the_whole_batch():
    loss_1, norm_1, weights_1 = one_step(accumulation=1)
    loss_2, norm_2, weights_2 = one_step(accumulation=2)
    # measured: loss and norm agree to ~1e-7 relative, weights to ~1e-8 (float32 summation order)
    assert loss_2 == pytest.approx(loss_1, rel=1e-5)
    assert norm_2 == pytest.approx(norm_1, rel=1e-5)
    for name, value in weights_1.items():
        np.testing.assert_allclose(weights_2[name], value, rtol=0, atol=1e-6, err_msg=name)
    # the old mean of micro-batch means would be far off here: the batch is built so it is
    ids, labels = (t.asnumpy() for t in finetune_batch())
    counts = ((labels[:, 1:] != -100) & (ids[:, :-1] != 0)).sum(axis=1)
    assert counts[:2].sum() * 4 < counts[2:].sum()


@pytest.mark.usefixtures('graph_mode')
def test_token_weighted_accumulation_compiles_in_graph_mode_with_the_same_step():
    loss_2, norm_2, _ = one_step(accumulation=2)
    ms.set_context(mode=ms.PYNATIVE_MODE)
    loss_1, norm_1, _ = one_step(accumulation=1)
    assert loss_2 == pytest.approx(loss_1, rel=1e-5)
    assert norm_2 == pytest.approx(norm_1, rel=1e-5)
