"""mT5 against transformers.MT5ForConditionalGeneration on a tiny random config: logits and loss through the Hugging
Face weight conversion, and an HF `mt5` directory loading through AutoModel as MT5ForConditionalGeneration."""
import numpy as np
import pytest
from mindspore import Tensor

from mindformers import AutoModel, MT5ForConditionalGeneration
from mindformers.models.hf_conversion import load_hf_state_dict

torch = pytest.importorskip('torch', reason='mT5 parity needs torch==2.13.0 (pip install -e .[test])')
transformers = pytest.importorskip('transformers', reason='mT5 parity needs transformers (pip install -e .[test])')

pytestmark = pytest.mark.usefixtures("pynative")
CONFIG = dict(vocab_size=70, d_model=32, d_kv=8, d_ff=48, num_layers=2, num_decoder_layers=2, num_heads=4,
              relative_attention_num_buckets=8, relative_attention_max_distance=20, dropout_rate=0.0,
              decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
TOL = 2e-5       # as the T5 parity tests (measured within 1.5e-6)


def test_mt5_logits_and_loss_match_transformers_and_load_through_automodel(tmp_path):
    torch.manual_seed(0)
    hf = transformers.MT5ForConditionalGeneration(transformers.MT5Config(**CONFIG)).eval()
    assert hf.config.feed_forward_proj == 'gated-gelu' and not hf.config.tie_word_embeddings
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    ours = load_hf_state_dict(MT5ForConditionalGeneration, hf.config.to_dict(), state, source='tiny',
                              seq_length=10, max_decode_length=8)
    ours.set_train(False)
    assert isinstance(ours, MT5ForConditionalGeneration) and ours.config.is_gated_act
    rng = np.random.default_rng(0)
    src = rng.integers(2, 70, (2, 10)).astype(np.int32)
    mask = np.ones_like(src)
    labels = rng.integers(2, 70, (2, 8)).astype(np.int32)
    with torch.no_grad():
        expected = hf(input_ids=torch.tensor(src).long(), attention_mask=torch.tensor(mask).long(),
                      labels=torch.tensor(labels).long())
    logits = ours(Tensor(src), Tensor(mask), Tensor(labels)).asnumpy()
    assert np.abs(logits - expected.logits.numpy()).max() <= TOL
    loss = float(ours(Tensor(src), Tensor(mask), Tensor(labels), return_loss=True).asnumpy())
    assert loss == pytest.approx(float(expected.loss), rel=1e-5)

    hf.save_pretrained(str(tmp_path / 'mt5'), safe_serialization=True)
    loaded = AutoModel.from_pretrained(str(tmp_path / 'mt5'), seq_length=10, max_decode_length=8)
    loaded.set_train(False)
    assert type(loaded) is MT5ForConditionalGeneration
    np.testing.assert_allclose(loaded(Tensor(src), Tensor(mask), Tensor(labels)).asnumpy(), logits, atol=1e-6)
