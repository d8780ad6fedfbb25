"""HF <-> our LLaMA weight layout without torch: names, shape checks, safetensors reading, bad files."""
import json

import numpy as np
import pytest
from safetensors.numpy import save_file

from mindformers import LlamaConfig, LlamaForCausalLM, AutoModel
from mindformers.models.llama import convert_weight
from mindformers.tools.errors import CheckpointError

HF_CONFIG = {'model_type': 'llama', 'hidden_size': 16, 'num_hidden_layers': 1, 'num_attention_heads': 4,
             'num_key_value_heads': 2, 'intermediate_size': 24, 'vocab_size': 32, 'rms_norm_eps': 1e-6,
             'rope_theta': 500000.0, 'tie_word_embeddings': True, 'max_position_embeddings': 32}


def random_hf_state(config, seed=0):
    rng = np.random.default_rng(seed)
    return convert_weight.convert_to_hf_state_dict(
        {name: rng.standard_normal(shape).astype(np.float32)
         for name, shape in convert_weight.expected_shapes(config).items()}, config)


def hf_dir(tmp_path):
    config = LlamaConfig(**convert_weight.hf_config_to_llama_kwargs(HF_CONFIG))
    state = random_hf_state(config)
    convert_weight.write_hf_directory(str(tmp_path), HF_CONFIG, state)
    return config, state


def test_hf_config_maps_to_llama_config_fields():
    kwargs = convert_weight.hf_config_to_llama_kwargs(HF_CONFIG)
    assert (kwargs['num_layers'], kwargs['n_kv_heads'], kwargs['theta'], kwargs['tie_word_embeddings']) == \
        (1, 2, 500000.0, True)


def test_names_round_trip_between_layouts():
    config = LlamaConfig(**convert_weight.hf_config_to_llama_kwargs(dict(HF_CONFIG, tie_word_embeddings=False)))
    for name in convert_weight.expected_shapes(config):
        assert convert_weight.hf_name_to_ours(convert_weight.our_name_to_hf(name)) == name
    assert convert_weight.hf_name_to_ours('model.layers.0.mlp.up_proj.weight') == 'model.layers.0.feed_forward.w3.weight'


def test_hf_directory_loads_every_weight(tmp_path):
    _, state = hf_dir(tmp_path)
    model = LlamaForCausalLM.from_pretrained(str(tmp_path))
    params = {p.name: p.asnumpy() for p in model.get_parameters()}
    assert np.array_equal(params['model.layers.0.attention.wk.weight'], state['model.layers.0.self_attn.k_proj.weight'])
    assert np.array_equal(params['model.tok_embeddings.embedding_weight'], state['model.embed_tokens.weight'])


def test_sharded_directory_reads_like_one_file(tmp_path):
    config, state = hf_dir(tmp_path / 'one')
    convert_weight.write_hf_directory(str(tmp_path / 'many'), HF_CONFIG, state, max_shard_bytes=2000)
    assert (tmp_path / 'many' / 'model.safetensors.index.json').is_file()
    _, one = convert_weight.read_hf_directory(str(tmp_path / 'one'))
    _, many = convert_weight.read_hf_directory(str(tmp_path / 'many'))
    assert sorted(one) == sorted(many) and all(np.array_equal(one[k], many[k]) for k in one)
    assert config.tie_word_embeddings


def test_bf16_safetensors_are_widened_to_fp32(tmp_path):
    values = np.array([1.0, -2.5, 3.140625], dtype=np.float32)
    raw = (values.view(np.uint32) >> 16).astype(np.uint16).tobytes()
    header = json.dumps({'w': {'dtype': 'BF16', 'shape': [3], 'data_offsets': [0, len(raw)]}}).encode()
    (tmp_path / 'x.safetensors').write_bytes(len(header).to_bytes(8, 'little') + header + raw)
    assert np.array_equal(convert_weight.read_safetensors(str(tmp_path / 'x.safetensors'))['w'], values)


def test_tensor_that_does_not_fit_names_tensor_and_both_shapes(tmp_path):
    hf_dir(tmp_path)
    (tmp_path / 'config.json').write_text(json.dumps(dict(HF_CONFIG, num_key_value_heads=4)))
    with pytest.raises(CheckpointError, match=r"tensor 'model\.layers\.0\.self_attn\.k_proj\.weight' has shape "
                                              r"\(8, 16\) but the config needs \(16, 16\)"):
        AutoModel.from_pretrained(str(tmp_path))


def test_missing_tensor_is_named(tmp_path):
    _, state = hf_dir(tmp_path)
    del state['model.norm.weight']
    save_file(state, str(tmp_path / 'model.safetensors'))
    with pytest.raises(CheckpointError, match=r"1 tensors the config needs are missing, e\.g\. \['model\.norm\.weight'\]"):
        AutoModel.from_pretrained(str(tmp_path))


def test_corrupted_safetensors_header_is_a_clear_error(tmp_path):
    hf_dir(tmp_path)
    data = bytearray((tmp_path / 'model.safetensors').read_bytes())
    data[8:12] = b'\xff\xfe\x00!'
    (tmp_path / 'model.safetensors').write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model\.safetensors is corrupted: its safetensors header is not JSON"):
        AutoModel.from_pretrained(str(tmp_path))


def test_truncated_mindspore_checkpoint_in_a_saved_directory_is_a_clear_error(tmp_path):
    model = LlamaForCausalLM(LlamaConfig(**convert_weight.hf_config_to_llama_kwargs(HF_CONFIG)))
    model.save_pretrained(str(tmp_path))
    data = (tmp_path / 'mindspore_model.ckpt').read_bytes()
    (tmp_path / 'mindspore_model.ckpt').write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match="cannot read checkpoint .*mindspore_model.ckpt"):
        AutoModel.from_pretrained(str(tmp_path))
