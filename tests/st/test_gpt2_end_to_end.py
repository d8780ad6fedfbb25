"""GPT-2 end to end: parity with transformers' GPT2LMHeadModel through convert_weight.py (both ways), greedy
decoding, the real GPT-2 tokenizer against transformers', the seed's Auto/pipeline/streamer calls, the
wikitext2 data tool + pre-training on Jane Austen, eval PPL and LoRA fine-tuning from the CLI."""
import json
import os

import numpy as np
import pytest

from conftest import ROOT, SHARED, hf_logits, losses, ours_logits, run_cli, run_script

torch = pytest.importorskip('torch', reason='parity tests need torch==2.13.0 (pip install -e .[test])')
transformers = pytest.importorskip('transformers', reason='parity tests need transformers 4.x (pip install -e .[test])')

import mindspore as ms  # noqa: E402  pylint: disable=wrong-import-position
from mindformers import (AutoModel, AutoTokenizer, GPT2Config, GPT2LMHeadModel, GPT2Tokenizer,  # noqa: E402
                         TextStreamer, pipeline)  # pylint: disable=wrong-import-position

GPT2_VOCAB = os.path.join(SHARED, 'data', 'tokenizers', 'gpt2')
AUSTEN = os.path.join(SHARED, 'data', 'text', 'austen')
CONVERT = os.path.join(ROOT, 'convert_weight.py')
TOOL = os.path.join(ROOT, 'mindformers', 'tools', 'dataset_preprocess', 'gpt2', 'wikitext2_data_process.py')
TINY = os.path.join(ROOT, 'configs', 'gpt2', 'run_gpt2_tiny.yaml')


pytestmark = pytest.mark.usefixtures('pynative')


@pytest.fixture(name='vocab_dir')
def fixture_vocab_dir():
    if not os.path.isdir(GPT2_VOCAB):
        pytest.skip(f"the real GPT-2 vocabulary (../shared/data/tokenizers/gpt2) is not at {GPT2_VOCAB}")
    return GPT2_VOCAB


def tiny_hf_model(vocab=96, positions=64, seed=0, activation='gelu_new'):
    """A random transformers GPT-2 whose norms and biases are not at their init values."""
    torch.manual_seed(seed)
    config = transformers.GPT2Config(n_embd=32, n_layer=2, n_head=4, vocab_size=vocab, n_positions=positions,
                                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, activation_function=activation,
                                     bos_token_id=vocab - 1, eos_token_id=vocab - 1)
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'ln' in name or 'bias' in name:
                param.add_(torch.randn_like(param) * 0.2)
    return model


TOKENS = np.random.default_rng(1).integers(0, 96, size=(2, 20))


@pytest.fixture(name='converted', scope='module')
def fixture_converted(tmp_path_factory):
    work = tmp_path_factory.mktemp('gpt2_convert')
    hf_model = tiny_hf_model()
    hf_model.save_pretrained(work / 'hf', safe_serialization=True)
    result = run_script(CONVERT, ['--model', 'gpt2', '--input_path', work / 'hf', '--output_path',
                                  work / 'ours' / 'tiny.ckpt'], work)
    assert result.returncode == 0, result.stderr[-2000:]
    return work, hf_model


def test_converted_gpt2_logits_and_loss_within_1e5_of_transformers(converted):
    work, hf_model = converted
    ours = AutoModel.from_pretrained(str(work / 'ours'))
    assert isinstance(ours, GPT2LMHeadModel)
    assert np.abs(ours_logits(ours, TOKENS) - hf_logits(hf_model, TOKENS)).max() <= 1e-5
    ours.set_train(True)
    loss = float(ours(ms.Tensor(TOKENS, ms.int32)).asnumpy())
    with torch.no_grad():
        reference = float(hf_model(torch.tensor(TOKENS[:, :-1]), labels=torch.tensor(TOKENS[:, :-1])).loss)
    # ours predicts all 19 next tokens of a 20-token record; transformers on 19 inputs predicts 18: compare
    # against the masked mean over the same 19 positions
    logits = hf_logits(hf_model, TOKENS[:, :-1]).astype(np.float64)
    log_z = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)
    picked = np.take_along_axis(logits, TOKENS[:, 1:, None], -1)[..., 0]
    assert abs(loss - float((log_z - picked).mean())) <= 1e-5
    assert abs(reference - float((log_z - picked)[:, :-1].mean())) <= 1e-5  # the numpy reference is HF's loss


def test_convert_weight_reversed_gives_back_identical_transformers_weights(converted):
    work, hf_model = converted
    result = run_script(CONVERT, ['--model', 'gpt2', '--reversed', '--input_path', work / 'ours' / 'tiny.ckpt',
                       '--output_path', work / 'back'], work)
    assert result.returncode == 0, result.stderr[-2000:]
    back = transformers.AutoModelForCausalLM.from_pretrained(work / 'back').eval()
    assert type(back).__name__ == 'GPT2LMHeadModel'
    assert np.abs(hf_logits(back, TOKENS) - hf_logits(hf_model, TOKENS)).max() == 0.0


@pytest.mark.parametrize('use_past', [False, True])
def test_greedy_ids_equal_transformers_for_32_tokens(converted, use_past):
    work, hf_model = converted
    ours = AutoModel.from_pretrained(str(work / 'ours'), use_past=use_past, batch_size=2)
    prompts = [[5, 17, 33, 2], [40, 41]]
    got = ours.generate(prompts, max_new_tokens=32, do_sample=False)
    for prompt, sequence in zip(prompts, got):
        with torch.no_grad():
            want = hf_model.generate(torch.tensor([prompt]), max_new_tokens=32, do_sample=False,
                                     pad_token_id=95)[0].tolist()
        # upstream semantics: max_length = max_new_tokens + the longest prompt, so a shorter row may go further
        assert len(want) == len(prompt) + 32 and sequence.tolist()[:len(want)] == want


def test_gpt2_checkpoint_into_llama_names_the_first_mismatched_parameter(converted):
    work, _ = converted
    from mindformers import LlamaConfig, LlamaForCausalLM  # pylint: disable=import-outside-toplevel
    from mindformers.tools.errors import CheckpointError  # pylint: disable=import-outside-toplevel
    config = LlamaConfig(seq_length=16, hidden_size=32, num_layers=2, num_heads=4, vocab_size=50,
                         compute_dtype='float32', param_init_type='float32',
                         checkpoint_name_or_path=str(work / 'ours' / 'tiny.ckpt'))
    with pytest.raises(CheckpointError, match=r"tiny.ckpt: parameter 'model.layers.0.feed_forward.w1.weight' has "
                                              r"shape \(128, 32\) in the checkpoint but \(256, 32\) in the model"):
        LlamaForCausalLM(config)


# ------------------------------------------------------------------------------- real tokenizer and seed calls

def austen_lines(count=300):
    lines = []
    for name in sorted(os.listdir(AUSTEN)):
        with open(os.path.join(AUSTEN, name), encoding='utf-8') as stream:
            lines += [l.rstrip('\n') for l in stream if l.strip()][:count // 6 + 1]
    return lines[:count]


def test_gpt2_tokenizer_ids_equal_transformers_on_300_austen_lines(vocab_dir):
    ours = GPT2Tokenizer(vocab_file=os.path.join(vocab_dir, 'vocab.json'),
                         merges_file=os.path.join(vocab_dir, 'merges.txt'), add_bos_token=False, add_eos_token=False)
    reference = transformers.GPT2Tokenizer(os.path.join(vocab_dir, 'vocab.json'),
                                           os.path.join(vocab_dir, 'merges.txt'))
    lines = austen_lines() + ["naïve café — “quotes” 1,000.5 ok?!", "  two  spaces\tand tab", "日本語 text"]
    assert len(lines) >= 300
    for line in lines:
        ids = ours(line)['input_ids']
        assert ids == reference(line)['input_ids'], line
        assert ours.decode(ids) == reference.decode(ids)


def _named_gpt2_files(tmp_path, vocab_dir, monkeypatch):
    folder = tmp_path / 'checkpoint_download' / 'gpt2'
    folder.mkdir(parents=True)
    for name in ('vocab.json', 'merges.txt'):
        (folder / name).write_bytes(open(os.path.join(vocab_dir, name), 'rb').read())
    monkeypatch.chdir(tmp_path)


def test_seed_auto_tokenizer_pipeline_and_streamer_calls(tmp_path, vocab_dir, monkeypatch, capsys):
    _named_gpt2_files(tmp_path, vocab_dir, monkeypatch)
    tok = AutoTokenizer.from_pretrained('gpt2')
    assert isinstance(tok, GPT2Tokenizer)
    assert tok("hello!") == {'input_ids': [50256, 31373, 0, 50256], 'token_type_ids': [0, 0, 0, 0],
                             'attention_mask': [1, 1, 1, 1]}
    ms.set_seed(0)
    gpt_model = GPT2LMHeadModel(GPT2Config(hidden_size=32, num_layers=2, num_heads=4, seq_length=64,
                                           compute_dtype='float32'))
    text_generator = pipeline(task='text_generation', model=gpt_model, tokenizer=tok, max_length=50)
    output = text_generator("I love Beijing, because", top_k=3)
    assert output[0]['text_generation_text'][0].startswith("I love Beijing, because")
    ids = tok("I love Beijing, because")['input_ids']
    gpt_model.generate(ids, streamer=TextStreamer(tok), max_length=20, top_k=1, do_sample=False)
    printed = capsys.readouterr().out
    greedy = gpt_model.generate(ids, max_length=20, do_sample=False)[0]
    assert tok.decode(greedy.tolist(), skip_special_tokens=True) in printed


def test_auto_model_gpt2_offline_is_one_error_naming_url_and_path(tmp_path, monkeypatch):
    from mindformers import mindformer_book  # pylint: disable=import-outside-toplevel
    from mindformers.tools.errors import CheckpointError  # pylint: disable=import-outside-toplevel
    monkeypatch.chdir(tmp_path)
    url = 'http://127.0.0.1:9/MindFormers/gpt2/gpt2.ckpt'  # the discard port: refused at once
    monkeypatch.setitem(mindformer_book._MODEL_CKPT_URL_LIST, 'gpt2', [url])  # pylint: disable=W0212
    with pytest.raises(CheckpointError) as error:
        AutoModel.from_pretrained('gpt2')
    place = tmp_path / 'checkpoint_download' / 'gpt2' / 'gpt2.ckpt'
    assert str(error.value).startswith(f"cannot download {url} (")
    assert str(error.value).endswith(f"download it yourself and place it at {place}")


# ------------------------------------------------------------------------------- data tool + CLI on real text

@pytest.fixture(name='austen_records', scope='module')
def fixture_austen_records(tmp_path_factory):
    if not os.path.isdir(GPT2_VOCAB) or not os.path.isdir(AUSTEN):
        pytest.skip("needs ../shared/data (GPT-2 vocabulary and the Austen texts)")
    work = tmp_path_factory.mktemp('gpt2_austen')
    excerpt = work / 'persuasion.txt'
    with open(os.path.join(AUSTEN, 'persuasion.txt'), encoding='utf-8') as stream:
        excerpt.write_text(''.join(stream.readlines()[:2500]), encoding='utf-8')
    common = ['--vocab_file', os.path.join(GPT2_VOCAB, 'vocab.json'),
              '--merges_file', os.path.join(GPT2_VOCAB, 'merges.txt'), '--input_file', excerpt]
    train = run_script(TOOL, common + ['--output_file', work / 'train.mindrecord', '--max_length', 65], work)
    assert train.returncode == 0, train.stderr[-2000:]
    evaluation = run_script(TOOL, common + ['--output_file', work / 'eval.mindrecord', '--max_length', 64,
                                    '--data_columns', 'input_ids'], work)
    assert evaluation.returncode == 0, evaluation.stderr[-2000:]
    return work


def test_wikitext2_tool_writes_upstream_columns_and_cuts_rows(austen_records):
    import mindspore.dataset as ds  # pylint: disable=import-outside-toplevel
    dataset = ds.MindDataset(str(austen_records / 'train.mindrecord'), shuffle=False)
    assert sorted(dataset.get_col_names()) == ['attention_mask', 'input_ids', 'labels']
    rows = list(dataset.create_dict_iterator(output_numpy=True))
    assert len(rows) > 100 and all(r['input_ids'].shape == (65,) and r['input_ids'].dtype == np.int32 for r in rows)
    assert rows[0]['input_ids'][0] == 50256  # the encoded text starts with <|endoftext|>
    assert all((r['attention_mask'] == 1).all() and (r['labels'] == r['input_ids']).all() for r in rows)
    evaluation = ds.MindDataset(str(austen_records / 'eval.mindrecord'), shuffle=False)
    assert evaluation.get_col_names() == ['input_ids']


def test_wikitext2_tool_bad_column_is_one_line_exit_2(tmp_path):
    result = run_script(TOOL, ['--input_file', 'x', '--output_file', tmp_path / 'o.mindrecord', '--data_columns', 'ids'],
                        tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "wikitext2_data_process.py: error: --data_columns ['ids']: choose from ['input_ids', 'attention_mask', "
        "'labels']"]


def test_tiny_gpt2_pretrain_loss_falls_on_austen_then_eval_prints_ppl(austen_records):
    # GPT-2 LoRA from a pre-trained checkpoint: tests/st/test_standalone_task.py (the same tiny model on Austen)
    work = austen_records
    size = ['--model.model_config.seq_length', '64', '--runner_config.batch_size', '4']
    trained = run_cli(['--config', TINY, '--run_mode', 'train', '--train_dataset_dir', str(work / 'train.mindrecord'),
                       '--train_dataset.input_columns', '["input_ids"]', '--runner_config.stop_step', '80',
                       '--optimizer.learning_rate', '3.e-3', '--lr_schedule.learning_rate', '3.e-3'] + size, work)
    assert trained.returncode == 0, trained.stderr[-3000:]
    values = losses(trained.stdout)
    assert len(values) == 80
    start, end = np.mean(values[:5]), np.mean(values[-10:])
    assert start > 10.0  # about ln(50257) = 10.8 at random init
    assert end < start - 3.0, (start, end)
    checkpoint = work / 'output' / 'checkpoint_network' / 'rank_0' / 'gpt2_tiny_rank_0-network.ckpt'
    assert checkpoint.is_file()

    evaluated = run_cli(['--config', TINY, '--run_mode', 'eval', '--eval_dataset_dir', str(work / 'eval.mindrecord'),
                         '--eval_dataset.input_columns', '["input_ids"]', '--load_checkpoint', str(checkpoint)]
                        + size[:2], work)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    line = [l for l in evaluated.stdout.splitlines() if 'PerplexityMetric' in l][-1]
    ppl = json.loads(line.split('PerplexityMetric = ', 1)[1].replace("'", '"'))['PPL']
    assert ppl < np.exp(end + 1.0)
