"""BERT on tiny random configs against transformers (PyTorch CPU): the encoder, the pooler and every task head
through the Hugging Face weight conversion, the losses against hand-computed cross entropies, padding that
changes nothing for real tokens, the post-norm block, and config errors."""
import numpy as np
import pytest

import mindspore as ms
from mindspore import Tensor

from mindformers import (BertConfig, BertModel, BertForPreTraining, BertForMaskedLM, BertForSequenceClassification,
                         BertForMultipleChoice, BertForTokenClassification, BertForQuestionAnswering)
from mindformers.models.bert import convert_weight
from mindformers.models.hf_conversion import load_hf_state_dict
from mindformers.tools.errors import ConfigError

torch = pytest.importorskip('torch', reason='BERT parity needs torch==2.13.0 (pip install -e .[test])')
transformers = pytest.importorskip('transformers', reason='BERT parity needs transformers (pip install -e .[test])')

pytestmark = pytest.mark.usefixtures("pynative")
VOCAB, SEQ = 50, 12
HF_CONFIG = dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                 max_position_embeddings=16, type_vocab_size=2, hidden_act='gelu', hidden_dropout_prob=0.0,
                 attention_probs_dropout_prob=0.0, layer_norm_eps=1e-12, num_labels=3, model_type='bert')
# measured: the encoder within 1.5e-6, heads within 3e-6 (float32, AMD EPYC with AVX-512); 10x margin for AVX2
TOL = 2e-5


def hf_model(cls_name, seed=0, **overrides):
    torch.manual_seed(seed)
    config = transformers.BertConfig(**dict(HF_CONFIG, **overrides))
    model = getattr(transformers, cls_name)(config).eval()
    with torch.no_grad():  # non-trivial norms and biases, so a misplaced one shows
        for name, param in model.named_parameters():
            if 'LayerNorm' in name or name.endswith('bias'):
                param.add_(torch.randn_like(param) * 0.2)
    return model


def ours_from(hf, our_class):
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    model = load_hf_state_dict(our_class, hf.config.to_dict(), state, source='tiny')
    model.set_train(False)
    return model


def batch(seed=1):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, VOCAB, size=(2, SEQ)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[1, 8:] = 0
    ids[1, 8:] = 0
    types = np.zeros_like(ids)
    types[:, 6:] = 1
    return ids, mask, types


def torch_inputs(ids, mask, types):
    return dict(input_ids=torch.tensor(ids, dtype=torch.long), attention_mask=torch.tensor(mask, dtype=torch.long),
                token_type_ids=torch.tensor(types, dtype=torch.long))


def real(array, mask):
    """Only the positions of real tokens (what padding produces is not compared)."""
    return array[mask.astype(bool)]


def test_encoder_and_pooler_match_transformers_bert_model():
    hf = hf_model('BertModel')
    ours = ours_from(hf, BertModel)
    ids, mask, types = batch()
    with torch.no_grad():
        expected = hf(**torch_inputs(ids, mask, types))
    sequence, pooled, table = ours(Tensor(ids), Tensor(types), Tensor(mask))
    assert np.abs(real(sequence.asnumpy(), mask) - real(expected.last_hidden_state.numpy(), mask)).max() <= TOL
    assert np.abs(pooled.asnumpy() - expected.pooler_output.numpy()).max() <= TOL
    assert table.shape == (VOCAB, 32)


def test_padding_changes_nothing_for_the_real_tokens():
    hf = hf_model('BertModel', seed=3)
    ours = ours_from(hf, BertModel)
    ids, mask, types = batch(2)
    short = ours(Tensor(ids[1:, :8]), Tensor(types[1:, :8]), Tensor(mask[1:, :8]))[0].asnumpy()
    padded = ours(Tensor(ids[1:]), Tensor(types[1:]), Tensor(mask[1:]))[0].asnumpy()[:, :8]
    assert np.abs(short - padded).max() <= 1e-5
    unmasked = ours(Tensor(ids[1:]), Tensor(types[1:]), Tensor(np.ones_like(mask[1:])))[0].asnumpy()[:, :8]
    assert np.abs(short - unmasked).max() > 1e-3  # the mask really hides the padding


def test_masked_lm_scores_and_loss_match_transformers():
    hf = hf_model('BertForMaskedLM', seed=4)
    ours = ours_from(hf, BertForMaskedLM)
    ids, mask, types = batch(3)
    labels = np.full_like(ids, -100)
    labels[0, [2, 5]] = ids[0, [2, 5]]
    labels[1, 3] = 7
    with torch.no_grad():
        expected = hf(**torch_inputs(ids, mask, types), labels=torch.tensor(labels, dtype=torch.long))
    scores = ours(Tensor(ids), Tensor(mask), Tensor(types)).asnumpy()
    assert np.abs(real(scores, mask) - real(expected.logits.numpy(), mask)).max() <= TOL
    ours.set_train(True)
    loss = float(ours(Tensor(ids), Tensor(mask), Tensor(types), Tensor(labels)).asnumpy())
    assert loss == pytest.approx(float(expected.loss), rel=1e-5)


def test_pretraining_gathers_masked_positions_and_adds_the_nsp_loss():
    hf = hf_model('BertForPreTraining', seed=5)
    ours = ours_from(hf, BertForPreTraining)
    ids, mask, types = batch(4)
    positions = np.array([[1, 4, 6], [2, 3, 0]], np.int32)
    weights = np.array([[1, 1, 1], [1, 1, 0]], np.float32)       # the last slot of row 1 is padding
    masked_ids = np.array([[9, 10, 11], [12, 13, 0]], np.int32)
    nsp = np.array([1, 0], np.int32)
    with torch.no_grad():
        expected = hf(**torch_inputs(ids, mask, types))
    hf_scores = expected.prediction_logits.numpy()
    gathered = np.stack([hf_scores[row, positions[row]] for row in range(2)])
    _, _, scores, relationship = ours(Tensor(ids), Tensor(mask), Tensor(types), None, Tensor(positions))
    assert np.abs(scores.asnumpy()[weights > 0] - gathered[weights > 0]).max() <= TOL
    assert np.abs(relationship.asnumpy() - expected.seq_relationship_logits.numpy()).max() <= TOL

    def ce(logits, label):
        logits = logits.astype(np.float64)
        return np.log(np.exp(logits - logits.max()).sum()) + logits.max() - logits[label]
    mlm = sum(ce(gathered[r, k], masked_ids[r, k]) * weights[r, k] for r in range(2) for k in range(3)) / weights.sum()
    nsp_loss = np.mean([ce(expected.seq_relationship_logits.numpy()[r], nsp[r]) for r in range(2)])
    ours.set_train(True)
    loss = float(ours(Tensor(ids), Tensor(mask), Tensor(types), Tensor(nsp), Tensor(positions), Tensor(masked_ids),
                      Tensor(weights)).asnumpy())
    assert loss == pytest.approx(mlm + nsp_loss, rel=1e-5)


@pytest.mark.parametrize('ours_class', [BertForSequenceClassification, BertForMultipleChoice])
def test_sequence_classification_logits_and_loss_match_transformers(ours_class):
    hf = hf_model('BertForSequenceClassification', seed=6)
    ours = ours_from(hf, ours_class)
    ids, mask, types = batch(5)
    labels = np.array([2, 0], np.int32)
    with torch.no_grad():
        expected = hf(**torch_inputs(ids, mask, types), labels=torch.tensor(labels, dtype=torch.long))
    logits, returned = ours(Tensor(ids), Tensor(mask), Tensor(types), Tensor(labels))
    assert np.abs(logits.asnumpy() - expected.logits.numpy()).max() <= TOL
    assert returned.asnumpy().tolist() == [2, 0]
    ours.set_train(True)
    ours.dropout = None  # transformers' classifier dropout is off in eval; compare the same function
    loss = float(ours(Tensor(ids), Tensor(mask), Tensor(types), Tensor(labels)).asnumpy())
    assert loss == pytest.approx(float(expected.loss), rel=1e-5)


def test_token_classification_loss_skips_padding_and_ignored_labels():
    hf = hf_model('BertForTokenClassification', seed=7)
    ours = ours_from(hf, BertForTokenClassification)
    ids, mask, types = batch(6)
    labels = np.random.default_rng(0).integers(0, 3, size=ids.shape).astype(np.int32)
    labels[0, 0] = -100
    hf_labels = np.where(mask.astype(bool), labels, -100)         # transformers ignores -100 only
    with torch.no_grad():
        expected = hf(**torch_inputs(ids, mask, types), labels=torch.tensor(hf_labels, dtype=torch.long))
    logits = ours(Tensor(ids), Tensor(mask), Tensor(types)).asnumpy()
    assert np.abs(real(logits, mask) - real(expected.logits.numpy(), mask)).max() <= TOL
    ours.set_train(True)
    loss = float(ours(Tensor(ids), Tensor(mask), Tensor(types), Tensor(labels)).asnumpy())
    assert loss == pytest.approx(float(expected.loss), rel=1e-5)


def test_question_answering_logits_and_loss_match_transformers():
    hf = hf_model('BertForQuestionAnswering', seed=8, num_labels=2)  # start and end
    ours = ours_from(hf, BertForQuestionAnswering)
    ids, mask, types = batch(7)
    start, end = np.array([3, 1], np.int32), np.array([5, 2], np.int32)
    with torch.no_grad():
        expected = hf(**torch_inputs(ids, mask, types), start_positions=torch.tensor(start, dtype=torch.long),
                      end_positions=torch.tensor(end, dtype=torch.long))
    start_logits, end_logits = ours(Tensor(ids), Tensor(mask), Tensor(types))
    assert np.abs(start_logits.asnumpy() - expected.start_logits.numpy()).max() <= TOL
    assert np.abs(end_logits.asnumpy() - expected.end_logits.numpy()).max() <= TOL
    ours.set_train(True)
    loss = float(ours(Tensor(ids), Tensor(mask), Tensor(types), Tensor(start), Tensor(end)).asnumpy())
    assert loss == pytest.approx(float(expected.loss), rel=1e-5)


def test_a_pretraining_checkpoint_fine_tunes_into_a_classifier(tmp_path):
    """The encoder keeps its weights under `bert.` in every task model; the classifier head starts fresh."""
    values = {k: v for k, v in HF_CONFIG.items() if k not in ('model_type', 'layer_norm_eps')}
    config = BertConfig(**dict(values, seq_length=SEQ, compute_dtype='float32', hidden_act='gelu_exact'))
    ms.set_seed(0)
    pretrained = BertForPreTraining(config)
    pretrained.save_pretrained(str(tmp_path), save_name='bert_tiny')
    classifier = BertForSequenceClassification(BertConfig(**dict(config.to_dict(), checkpoint_name_or_path=str(
        tmp_path / 'bert_tiny.ckpt'))))
    for name in ('bert.layers.1.feed_forward.w2.weight', 'bert.pooler.weight', 'bert.tok_embeddings.embedding_weight'):
        ours = {p.name: p for p in classifier.get_parameters()}[name].asnumpy()
        theirs = {p.name: p for p in pretrained.get_parameters()}[name].asnumpy()
        assert np.array_equal(ours, theirs), name


def test_hf_round_trip_keeps_every_encoder_tensor():
    hf = hf_model('BertForMaskedLM', seed=9)
    ours = ours_from(hf, BertForMaskedLM)
    state = {p.name: p.asnumpy() for p in ours.get_parameters()}
    back = convert_weight.convert_to_hf_state_dict(state, ours.config)
    reference = {name: value for name, value in hf.state_dict().items()
                 if name != 'bert.embeddings.position_ids' and not name.startswith('cls.predictions.decoder.')}
    assert set(reference) <= set(back)        # plus the (fresh) pooler, which HF's masked LM does not have
    for name, value in reference.items():
        assert np.array_equal(back[name], value.numpy()), name


@pytest.mark.parametrize('overrides, message', [
    (dict(hidden_size=30), 'not divisible by num_attention_heads'),
    (dict(seq_length=200), 'larger than max_position_embeddings'),
    (dict(hidden_dropout_prob=1.5), 'hidden_dropout_prob must be a number in [0, 1)'),
    (dict(use_past=True), 'no meaning for an encoder'),
    (dict(num_hidden_layers=0), 'num_hidden_layers must be an integer >= 1'),
    (dict(compute_dtype='float8'), "unknown dtype 'float8'"),
])
def test_bad_config_values_are_one_line_errors(overrides, message):
    with pytest.raises(ConfigError, match=None) as error:
        BertConfig(**overrides)
    assert message in str(error.value) and '\n' not in str(error.value)


def test_post_norm_block_is_what_bert_runs():
    """Breaking the post-norm order (norms before the residual, as GPT-2) must change the encoder's output."""
    hf = hf_model('BertModel', seed=10)
    ours = ours_from(hf, BertModel)
    ids, mask, types = batch(8)
    before = ours(Tensor(ids), Tensor(types), Tensor(mask))[0].asnumpy()
    for layer in ours.bert.layers:
        layer.post_norm = False
    after = ours(Tensor(ids), Tensor(types), Tensor(mask))[0].asnumpy()
    assert np.abs(before - after).max() > 1e-2
