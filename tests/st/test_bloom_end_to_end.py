"""BLOOM end to end: parity with transformers' BloomForCausalLM through convert_weight.py (both ways, the fused
per-head query_key_value split and re-interleaved), greedy decoding with and without the KV cache, BloomTokenizer
against transformers' BloomTokenizerFast on a BLOOM-format tokenizer.json, make_mindrecord.py + training."""
import glob
import json
import os

import numpy as np
import pytest

from conftest import ROOT, SHARED, hf_logits, losses, ours_logits, run_cli, run_script

torch = pytest.importorskip('torch', reason='parity tests need torch==2.13.0 (pip install -e .[test])')
transformers = pytest.importorskip('transformers', reason='parity tests need transformers 4.x (pip install -e .[test])')

import mindspore as ms  # noqa: E402  pylint: disable=wrong-import-position
from mindformers import AutoModel, AutoTokenizer, BloomLMHeadModel, BloomTokenizer  # noqa: E402  pylint: disable=C0413

AUSTEN = os.path.join(SHARED, 'data', 'text', 'austen')
CONVERT = os.path.join(ROOT, 'convert_weight.py')
TOOL = os.path.join(ROOT, 'mindformers', 'tools', 'dataset_preprocess', 'bloom', 'make_mindrecord.py')
BLOOM_SPLIT = r" ?[^(\s|[.,!?…。，、।۔،])]+"  # BLOOM's pre-tokenizer regex (nested character class)


pytestmark = pytest.mark.usefixtures('pynative')


def tiny_hf_model(seed=0):
    """A random transformers BLOOM (6 heads: ALiBi's non-power-of-two slopes) with non-trivial norms and biases."""
    torch.manual_seed(seed)
    config = transformers.BloomConfig(hidden_size=48, n_layer=2, n_head=6, vocab_size=96, hidden_dropout=0.0,
                                      attention_dropout=0.0)
    model = transformers.BloomForCausalLM(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'layernorm' in name or 'ln_f' in name or 'bias' in name:
                param.add_(torch.randn_like(param) * 0.2)
    return model


TOKENS = np.random.default_rng(1).integers(4, 96, size=(2, 20))


@pytest.fixture(name='converted', scope='module')
def fixture_converted(tmp_path_factory):
    work = tmp_path_factory.mktemp('bloom_convert')
    hf_model = tiny_hf_model()
    hf_model.save_pretrained(work / 'hf', safe_serialization=True)
    result = run_script(CONVERT, ['--model', 'bloom', '--input_path', work / 'hf', '--output_path',
                                  work / 'ours' / 'tiny.ckpt'], work)
    assert result.returncode == 0, result.stderr[-2000:]
    return work, hf_model


def test_converted_bloom_logits_and_loss_within_1e5_of_transformers(converted):
    work, hf_model = converted
    ours = AutoModel.from_pretrained(str(work / 'ours'), seq_length=32)
    assert isinstance(ours, BloomLMHeadModel)
    assert np.abs(ours_logits(ours, TOKENS) - hf_logits(hf_model, TOKENS)).max() <= 1e-5
    ours.set_train(True)
    loss = float(ours(ms.Tensor(TOKENS, ms.int32)).asnumpy())
    with torch.no_grad():
        reference = float(hf_model(torch.tensor(TOKENS), labels=torch.tensor(TOKENS)).loss)
    assert abs(loss - reference) <= 1e-5  # no EOS (id 2) in TOKENS: both average all 19 predictions


def test_convert_weight_reversed_gives_back_identical_transformers_weights(converted):
    work, hf_model = converted
    result = run_script(CONVERT, ['--model', 'bloom', '--reversed', '--input_path', work / 'ours' / 'tiny.ckpt',
                       '--output_path', work / 'back'], work)
    assert result.returncode == 0, result.stderr[-2000:]
    back = transformers.AutoModelForCausalLM.from_pretrained(work / 'back').eval()
    assert type(back).__name__ == 'BloomForCausalLM'
    assert np.abs(hf_logits(back, TOKENS) - hf_logits(hf_model, TOKENS)).max() == 0.0


@pytest.mark.parametrize('use_past', [False, True])
def test_greedy_ids_equal_transformers_for_32_tokens(converted, use_past):
    work, hf_model = converted
    ours = AutoModel.from_pretrained(str(work / 'ours'), seq_length=48, use_past=use_past, batch_size=2)
    prompts = [[5, 17, 33, 4], [40, 41]]
    got = ours.generate(prompts, max_new_tokens=32, do_sample=False)
    for prompt, sequence in zip(prompts, got):
        with torch.no_grad():
            want = hf_model.generate(torch.tensor([prompt]), max_new_tokens=32, do_sample=False,
                                     pad_token_id=3)[0].tolist()
        assert sequence.tolist()[:len(want)] == want  # a shorter prompt may run longer (upstream max_length rule)


def test_gpt2_checkpoint_into_bloom_is_refused_naming_what_does_not_fit(tmp_path):
    """Same sizes, so every shared name fits: the parameters one model has and the other lacks are named."""
    from mindformers import BloomConfig, GPT2Config, GPT2LMHeadModel  # pylint: disable=import-outside-toplevel
    from mindformers.tools.errors import CheckpointError  # pylint: disable=import-outside-toplevel
    gpt2 = GPT2LMHeadModel(GPT2Config(hidden_size=32, num_layers=2, num_heads=4, vocab_size=96, seq_length=16,
                                      compute_dtype='float32'))
    ms.save_checkpoint(gpt2, str(tmp_path / 'gpt2.ckpt'))
    config = BloomConfig(hidden_size=32, num_layers=2, num_heads=4, vocab_size=96, seq_length=16,
                         compute_dtype='float32', checkpoint_name_or_path=str(tmp_path / 'gpt2.ckpt'))
    with pytest.raises(CheckpointError) as error:
        BloomLMHeadModel(config)
    assert str(error.value).startswith(
        f"{tmp_path / 'gpt2.ckpt'}: 2 parameters of the model are not in the checkpoint, e.g. "
        f"['model.embedding_norm.weight', 'model.embedding_norm.bias']; it holds 1 weights this model does not "
        f"have, e.g. ['model.position_embeddings.embedding_weight']: is it a checkpoint of another model?")
    config.allow_partial_checkpoint = True
    assert isinstance(BloomLMHeadModel(config), BloomLMHeadModel)  # the user asked for a partial load


# ------------------------------------------------------------------------------- tokenizer and data tool

def _austen_lines(per_file=400):
    lines = []
    for path in sorted(glob.glob(os.path.join(AUSTEN, '*.txt'))):
        with open(path, encoding='utf-8') as stream:
            lines += [l for l in stream.read().split('\n') if l.strip()][:per_file]
    return lines


@pytest.fixture(name='bloom_tokenizer_dir', scope='module')
def fixture_bloom_tokenizer_dir(tmp_path_factory):
    """A tokenizer.json in BLOOM's format (Split on BLOOM's regex + byte-level BPE), trained on Austen."""
    if not os.path.isdir(AUSTEN):
        pytest.skip(f"the Austen texts (../shared/data/text/austen) are not at {AUSTEN}")
    from tokenizers import Tokenizer, Regex, decoders, models, pre_tokenizers, trainers  # pylint: disable=C0415
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(BLOOM_SPLIT), behavior='isolated'),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1500, special_tokens=['<unk>', '<s>', '</s>', '<pad>'],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(_austen_lines(), trainer)
    folder = tmp_path_factory.mktemp('bloom_tokenizer')
    tokenizer.save(str(folder / 'tokenizer.json'))
    return folder


def test_bloom_tokenizer_ids_equal_transformers_bloom_tokenizer(bloom_tokenizer_dir):
    path = str(bloom_tokenizer_dir / 'tokenizer.json')
    reference = transformers.BloomTokenizerFast(tokenizer_file=path)
    ours = BloomTokenizer(vocab_file=path)
    assert (ours.unk_token_id, ours.bos_token_id, ours.eos_token_id, ours.pad_token_id) == (0, 1, 2, 3)
    with open(os.path.join(SHARED, 'data', 'text', 'mobydick.txt'), encoding='utf-8') as stream:
        unseen = [l for l in stream.read().split('\n')[2000:2400] if l.strip()]
    lines = _austen_lines(20) + unseen + ["naïve café — “quotes” 1,000.5 ok?!", "  two  spaces\tand tab", "日本語。"]
    assert len(lines) >= 300
    for line in lines:
        ids = ours(line)['input_ids']
        assert ids == reference(line)['input_ids'], line
        assert ours.decode(ids) == reference.decode(ids)
    named = bloom_tokenizer_dir / 'named'
    (named / 'checkpoint_download' / 'bloom').mkdir(parents=True)
    (named / 'checkpoint_download' / 'bloom' / 'tokenizer.json').write_bytes(open(path, 'rb').read())
    os.chdir(named)
    try:
        assert AutoTokenizer.from_pretrained('bloom_560m').encode(lines[0]) == ours.encode(lines[0])
    finally:
        os.chdir(ROOT)


def test_make_mindrecord_then_tiny_bloom_loss_falls(bloom_tokenizer_dir, tmp_path):
    records = [{'instruction': 'Continue the story.', 'input': line[:40] if i % 2 else '', 'output': line}
               for i, line in enumerate(_austen_lines(100))]
    (tmp_path / 'alpaca.json').write_text(json.dumps(records), encoding='utf-8')
    made = run_script(TOOL, ['--input_dataset_file', tmp_path / 'alpaca.json', '--output_path', tmp_path / 'data',
                     '--seq_length', 129, '--tokenizer_file', bloom_tokenizer_dir / 'tokenizer.json'], tmp_path)
    assert made.returncode == 0, made.stderr[-2000:]
    import mindspore.dataset as ds  # pylint: disable=import-outside-toplevel
    rows = list(ds.MindDataset(str(tmp_path / 'data' / 'dataset.mindrecord'), shuffle=False)
                .create_dict_iterator(output_numpy=True))
    assert len(rows) == len(records) and all(r['input_ids'].shape == (129,) for r in rows)
    assert rows[0]['input_ids'].dtype == np.int64
    short = [r['input_ids'] for r in rows if r['input_ids'][-1] == 2]
    assert short and all(np.all(r[np.argmax(r == 2):] == 2) for r in short)  # padded with </s> after the text

    trained = run_cli(['--config', os.path.join(ROOT, 'configs', 'bloom', 'run_bloom_tiny.yaml'),
                       '--train_dataset_dir', str(tmp_path / 'data' / 'dataset.mindrecord'),
                       '--model.model_config.seq_length', '128', '--model.model_config.vocab_size', '1500',
                       '--runner_config.batch_size', '4', '--runner_config.stop_step', '60',
                       '--optimizer.learning_rate', '3.e-3', '--lr_schedule.learning_rate', '3.e-3'], tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    values = losses(trained.stdout)
    assert len(values) == 60
    start, end = np.mean(values[:5]), np.mean(values[-10:])
    assert start > 6.5  # about ln(1500) = 7.3 at random init
    assert end < start - 2.0, (start, end)


def test_make_mindrecord_bad_json_is_one_line_exit_2(tmp_path):
    (tmp_path / 'x.json').write_text('{"a": 1}', encoding='utf-8')
    result = run_script(TOOL, ['--input_dataset_file', tmp_path / 'x.json', '--output_path', tmp_path / 'out'],
                        tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"make_mindrecord.py: error: {tmp_path / 'x.json'}: expected a JSON list of {{'instruction', 'input', "
        f"'output'}} records (Alpaca)"]
