"""ChatGLM2 against transformers' GlmForCausalLM (the same math: RMSNorm, grouped-query attention with q/k/v biases,
RoPE on the first half of each head in neighbouring pairs, SwiGLU with [gate | up] fused): logits, loss and one-step
gradients on the same random weights; convert_weight.py --model glm2 both ways; an upstream MindFormers checkpoint
(THUDM names, fused query_key_value, `embedding_table`) through checkpoint_name_or_path; greedy decoding with and
without the KV cache."""
import os
import sys

import numpy as np
import pytest

from conftest import ROOT, hf_logits, ours_logits, run_script

sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))
import parity_report  # noqa: E402  pylint: disable=wrong-import-position

torch = pytest.importorskip('torch', reason='parity tests need torch==2.13.0 (pip install -e .[test])')
transformers = pytest.importorskip('transformers', reason='parity tests need transformers 4.x (pip install -e .[test])')

import mindspore as ms  # noqa: E402  pylint: disable=wrong-import-position
from mindformers import AutoModel, ChatGLM2Config, ChatGLM2ForConditionalGeneration  # noqa: E402  pylint: disable=C0413

CONVERT = os.path.join(ROOT, 'convert_weight.py')
VOCAB = 96
TOKENS = np.random.default_rng(1).integers(3, VOCAB, size=(2, 12))

pytestmark = pytest.mark.usefixtures('pynative')


def tiny_hf_model(seed=0):
    """A random GlmForCausalLM: 4 heads of 8 channels in 2 KV groups, with randomised norms and biases."""
    torch.manual_seed(seed)
    config = transformers.GlmConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                    head_dim=8, intermediate_size=48, vocab_size=VOCAB, max_position_embeddings=32,
                                    rms_norm_eps=1e-5, pad_token_id=0, eos_token_id=2, attention_bias=True,
                                    partial_rotary_factor=0.5, attn_implementation='eager')
    return parity_report.randomise_norms_and_biases(transformers.GlmForCausalLM(config).eval())


def hf_state(model):
    return {name: tensor.detach().float().numpy() for name, tensor in model.state_dict().items()}


def ours_from(hf_model, **overrides):
    from mindformers.models.hf_conversion import load_hf_state_dict  # pylint: disable=import-outside-toplevel
    return load_hf_state_dict(ChatGLM2ForConditionalGeneration, hf_model.config.to_dict(), hf_state(hf_model),
                              seq_length=12, **overrides)


@pytest.fixture(name='hf_model', scope='module')
def fixture_hf_model():
    return tiny_hf_model()


def test_logits_and_loss_within_1e5_of_transformers(hf_model):
    ours = ours_from(hf_model)
    assert np.abs(ours_logits(ours, TOKENS) - hf_logits(hf_model, TOKENS)).max() <= 1e-5
    # ChatGLM2 data comes shifted: labels[i] is the token after input i (upstream's KeyWordGenDataset), -100 at the end
    labels = np.concatenate([TOKENS[:, 1:], np.full((2, 1), -100)], axis=1)
    labels[0, :4] = -100   # a prompt that is not learned
    ours.set_train(True)
    loss = float(ours(ms.Tensor(TOKENS, ms.int32), ms.Tensor(labels, ms.int32)).asnumpy())
    with torch.no_grad():   # transformers shifts inside: its labels are the targets at their own positions
        hf_labels = np.concatenate([np.full((2, 1), -100), labels[:, :-1]], axis=1)
        reference = float(hf_model(torch.tensor(TOKENS), labels=torch.tensor(hf_labels)).loss)
    assert abs(loss - reference) <= 1e-5


def test_one_step_gradients_within_2e5_relative_of_transformers(hf_model):
    from mindformers.models.glm2.convert_weight import convert_to_hf_state_dict  # pylint: disable=C0415
    hf_model.zero_grad()
    hf_model(torch.tensor(TOKENS), labels=torch.tensor(TOKENS)).loss.backward()
    reference = {name: param.grad.numpy() for name, param in hf_model.named_parameters()}
    ours = ours_from(hf_model)
    ours.set_train(True)
    params = ours.trainable_params()
    labels = np.concatenate([TOKENS[:, 1:], np.full((2, 1), -100)], axis=1)
    _, grads = ms.value_and_grad(ours, grad_position=None, weights=params)(ms.Tensor(TOKENS, ms.int32),
                                                                            ms.Tensor(labels, ms.int32))
    as_hf = convert_to_hf_state_dict({p.name: g.asnumpy() for p, g in zip(params, grads)}, ours.config)
    assert set(reference) == set(as_hf)
    worst = max(float(np.abs(as_hf[n] - ref).max() / np.abs(ref).max()) for n, ref in reference.items())
    assert worst <= 2e-5


def test_rope_layout_matters_rotate_half_would_differ(hf_model):
    """The interleaved pairs are what makes the logits agree: the rotate-half layout on the same weights does not."""
    ours = ours_from(hf_model)
    for layer in ours.model.layers:
        layer.attention.rotary_interleaved = False
    assert np.abs(ours_logits(ours, TOKENS) - hf_logits(hf_model, TOKENS)).max() > 1e-3


def test_convert_weight_both_ways(hf_model, tmp_path):
    hf_model.save_pretrained(tmp_path / 'hf', safe_serialization=True)
    result = run_script(CONVERT, ['--model', 'glm2', '--input_path', tmp_path / 'hf', '--output_path',
                                  tmp_path / 'ours' / 'tiny.ckpt'], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    ours = AutoModel.from_pretrained(str(tmp_path / 'ours'), seq_length=12)
    assert isinstance(ours, ChatGLM2ForConditionalGeneration)
    assert np.abs(ours_logits(ours, TOKENS) - hf_logits(hf_model, TOKENS)).max() <= 1e-5
    result = run_script(CONVERT, ['--model', 'glm2', '--reversed', '--input_path', tmp_path / 'ours' / 'tiny.ckpt',
                                  '--output_path', tmp_path / 'back'], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    back = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / 'back').eval()
    assert type(back).__name__ == 'GlmForCausalLM'
    original, returned = hf_state(hf_model), hf_state(back)
    assert set(original) == set(returned)
    for name, value in original.items():
        np.testing.assert_array_equal(returned[name], value, err_msg=name)


def test_upstream_mindformers_checkpoint_loads_by_its_names(hf_model, tmp_path):
    """Upstream's ChatGLM2 checkpoint: THUDM's names with `transformer.embedding.embedding_table`, q/k/v fused
    as rows [Q | K | V], the MLP as [gate | up]."""
    state = hf_state(hf_model)
    entries = {'transformer.embedding.embedding_table': state['model.embed_tokens.weight'],
               'transformer.encoder.final_layernorm.weight': state['model.norm.weight'],
               'transformer.output_layer.weight': state['lm_head.weight']}
    for i in range(2):
        hf, up = f'model.layers.{i}.', f'transformer.encoder.layers.{i}.'
        for kind in ('weight', 'bias'):
            entries[f'{up}self_attention.query_key_value.{kind}'] = np.concatenate(
                [state[f'{hf}self_attn.{p}_proj.{kind}'] for p in 'qkv'], axis=0)
        entries[f'{up}self_attention.dense.weight'] = state[f'{hf}self_attn.o_proj.weight']
        entries[f'{up}mlp.dense_h_to_4h.weight'] = state[f'{hf}mlp.gate_up_proj.weight']
        entries[f'{up}mlp.dense_4h_to_h.weight'] = state[f'{hf}mlp.down_proj.weight']
        entries[f'{up}input_layernorm.weight'] = state[f'{hf}input_layernorm.weight']
        entries[f'{up}post_attention_layernorm.weight'] = state[f'{hf}post_attention_layernorm.weight']
    path = str(tmp_path / 'upstream_glm2.ckpt')
    ms.save_checkpoint([{'name': n, 'data': ms.Tensor(v)} for n, v in entries.items()], path)
    config = ChatGLM2Config(num_layers=2, padded_vocab_size=VOCAB, hidden_size=32, ffn_hidden_size=48, kv_channels=8,
                            num_attention_heads=4, multi_query_group_num=2, seq_length=12, compute_dtype='float32',
                            param_init_type='float32', checkpoint_name_or_path=path)
    ours = ChatGLM2ForConditionalGeneration(config)
    assert np.abs(ours_logits(ours, TOKENS) - hf_logits(hf_model, TOKENS)).max() <= 1e-5


@pytest.mark.parametrize('use_past', [False, True])
def test_greedy_ids_equal_transformers_for_a_ragged_batch_of_3(hf_model, use_past):
    ours = ours_from(hf_model, use_past=use_past, batch_size=3)
    ours.config.seq_length = 12
    prompts = [[5, 17, 33, 4], [40, 41], [7, 8, 9, 10, 11, 12]]
    got = ours.generate(prompts, max_new_tokens=6, do_sample=False)
    for prompt, sequence in zip(prompts, got):
        with torch.no_grad():
            want = hf_model.generate(torch.tensor([prompt]), max_new_tokens=6, do_sample=False,
                                     pad_token_id=0)[0].tolist()
        assert sequence.tolist()[:len(want)] == want


def test_records_one_token_too_long_are_refused_naming_the_lengths(tmp_path):
    """Prepared MindRecord rows (KeyWordGenDataset reads them as they are) are checked against seq_length, not
    seq_length + 1: the labels are shifted by the data. Training on ADGEN text: test_glm2_adgen.py."""
    from conftest import counting_rows, run_cli, write_mindrecord  # pylint: disable=import-outside-toplevel
    rows = [{'input_ids': row, 'labels': row} for row in counting_rows(8, 32, 128)]   # 33 tokens
    data = write_mindrecord(tmp_path / 'train.mindrecord', rows, columns=('input_ids', 'labels'))
    result = run_cli(['--config', f'{ROOT}/configs/glm2/run_glm2_tiny.yaml', '--train_dataset_dir', data,
                      '--train_dataset.data_loader.type', 'MindDataset', '--model.model_config.seq_length', '32',
                      '--model.model_config.padded_vocab_size', '128'], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "run_mindformer.py: error: train records hold 33 tokens but the model's seq_length 32 needs seq_length = 32; "
        "re-run preprocessing with --seq_length 32 or set model.model_config.seq_length 33")
