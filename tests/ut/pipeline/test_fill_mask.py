"""pipeline('fill_mask') on a tiny random BERT masked LM saved as a Hugging Face directory with the real
bert-base-uncased vocabulary: the same fillers, scores and filled sentences as transformers' fill-mask pipeline."""
import os

import numpy as np
import pytest

from mindformers import pipeline, AutoModel, AutoTokenizer, BertForMaskedLM, FillMaskPipeline
from mindformers.tools.errors import ConfigError

torch = pytest.importorskip('torch', reason='fill-mask parity needs torch==2.13.0 (pip install -e .[test])')
transformers = pytest.importorskip('transformers', reason='fill-mask parity needs transformers (pip install -e .[test])')

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VOCAB_TXT = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'tokenizers', 'bert_uncased', 'vocab.txt')
pytestmark = pytest.mark.usefixtures("pynative")
TEXTS = ['Emma Woodhouse, handsome, clever, and [MASK], had lived nearly twenty-one years.',
         'Call me [MASK].']


@pytest.fixture(name='hf_dir', scope='module')
def fixture_hf_dir(tmp_path_factory):
    if not os.path.isfile(VOCAB_TXT):
        pytest.skip(f"bert-base-uncased vocab not found at {VOCAB_TXT} (../shared/data is not on this machine)")
    directory = tmp_path_factory.mktemp('tiny_bert_mlm')
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=64, max_position_embeddings=64)
    model = transformers.BertForMaskedLM(config).eval()
    with torch.no_grad():  # a sharper output distribution than the near-uniform random init
        model.cls.predictions.bias.add_(torch.randn(30522) * 2.0)
    model.save_pretrained(str(directory), safe_serialization=True)
    transformers.BertTokenizer(VOCAB_TXT).save_pretrained(str(directory))
    return str(directory)


def test_fillers_scores_and_sequences_equal_transformers(hf_dir):
    reference = transformers.pipeline('fill-mask', model=hf_dir, tokenizer=hf_dir, device='cpu')
    ours = pipeline('fill_mask', model=hf_dir)
    assert isinstance(ours, FillMaskPipeline) and isinstance(ours.network, BertForMaskedLM)
    for text in TEXTS:
        expected = reference(text, top_k=5)
        got = ours(text, top_k=5)[0]
        assert [c['token'] for c in got] == [c['token'] for c in expected]
        assert [c['token_str'] for c in got] == [c['token_str'] for c in expected]
        assert [c['sequence'] for c in got] == [c['sequence'] for c in expected]
        assert np.allclose([c['score'] for c in got], [c['score'] for c in expected], atol=1e-6, rtol=1e-4)


def test_a_batch_gives_one_list_per_text_and_two_masks_give_two_lists(hf_dir):
    ours = pipeline('fill_mask', model=AutoModel.from_pretrained(hf_dir), tokenizer=AutoTokenizer.from_pretrained(hf_dir))
    one_by_one = [ours(text, top_k=3)[0] for text in TEXTS]
    batched = ours(TEXTS, batch_size=2, top_k=3)       # the second text is padded to the first's length
    assert len(batched) == 2
    for row, single in zip(batched, one_by_one):
        assert [c['token'] for c in row] == [c['token'] for c in single]
        assert np.allclose([c['score'] for c in row], [c['score'] for c in single], rtol=1e-4)
    two = ours('The [MASK] sat on the [MASK].', top_k=2)[0]
    assert len(two) == 2 and all(len(candidates) == 2 for candidates in two)


def test_bad_inputs_are_one_line_errors(hf_dir):
    ours = pipeline('fill_mask', model=hf_dir)
    with pytest.raises(ConfigError, match=r'no \[MASK\] in'):
        ours('No mask here.')
    with pytest.raises(ConfigError, match='top_k must be a positive integer'):
        ours('A [MASK].', top_k=0)


def test_model_name_builds_the_pretraining_model_of_the_placed_weights(tmp_path, monkeypatch):
    """pipeline('fill_mask', model='bert_tiny_uncased'): configs/bert's BertForPreTraining with the weights and
    vocab.txt found in checkpoint_download/bert/, its masked-LM scores (not the encoder's first output)."""
    import shutil  # pylint: disable=import-outside-toplevel
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers import AutoConfig, BertForPreTraining, BertTokenizer  # pylint: disable=import-outside-toplevel
    if not os.path.isfile(VOCAB_TXT):
        pytest.skip(f"bert-base-uncased vocab not found at {VOCAB_TXT}")
    monkeypatch.setenv('CHECKPOINT_DOWNLOAD_FOLDER', str(tmp_path))
    model = AutoModel.from_config(AutoConfig.from_pretrained('bert_tiny_uncased', seq_length=32))
    assert isinstance(model, BertForPreTraining)
    (tmp_path / 'bert').mkdir(exist_ok=True)
    ms.save_checkpoint(model, str(tmp_path / 'bert' / 'bert_tiny_uncased.ckpt'))
    shutil.copyfile(VOCAB_TXT, tmp_path / 'bert' / 'vocab.txt')
    filler = pipeline('fill_mask', model='bert_tiny_uncased', seq_length=32)
    assert isinstance(filler.network, BertForPreTraining)
    got = filler('Call me [MASK].', top_k=3)[0]
    ids = BertTokenizer(VOCAB_TXT)('Call me [MASK].')['input_ids']
    model.set_train(False)
    scores = model.masked_lm_scores(ms.Tensor([ids], ms.int32), ms.Tensor([[1] * len(ids)], ms.int32),
                                    ms.Tensor([[0] * len(ids)], ms.int32)).asnumpy()[0, ids.index(103)]
    probs = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    assert [c['token'] for c in got] == np.argsort(-probs)[:3].tolist()
    assert np.allclose([c['score'] for c in got], np.sort(probs)[::-1][:3], atol=1e-6)
