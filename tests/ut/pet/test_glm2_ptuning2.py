"""P-Tuning v2: the attention over [prefix keys/values | the sequence's own] equals a numpy reference, and
ChatGLM2WithPtuning2 trains only its prefix encoder, whose prefix changes the logits."""
import numpy as np
import pytest
import mindspore as ms
from mindspore import Tensor

from mindformers import ChatGLM2Config, ChatGLM2ForConditionalGeneration, ChatGLM2WithPtuning2
from mindformers.modules.attention import MultiHeadAttention
from mindformers.pet import Ptuning2Config
from mindformers.tools.errors import ConfigError

pytestmark = pytest.mark.usefixtures('pynative')


def _softmax(x):
    x = x - x.max(-1, keepdims=True)
    return np.exp(x) / np.exp(x).sum(-1, keepdims=True)


def test_attention_with_a_prefix_equals_the_numpy_reference():
    rng = np.random.default_rng(0)
    attention = MultiHeadAttention(16, 4, 2, qkv_has_bias=True)
    weights = {p.name.split('.')[-2] + '.' + p.name.split('.')[-1]: p.asnumpy() for p in attention.get_parameters()}
    x = rng.standard_normal((2, 5, 16)).astype(np.float32)
    prefix = rng.standard_normal((2, 2, 2, 3, 4)).astype(np.float32)          # (k|v, batch, kv_heads, 3, head_dim)
    causal = np.triu(np.full((5, 5), -1e4, np.float32), 1)
    out = attention(Tensor(x), Tensor(causal), None, False, Tensor(prefix)).asnumpy()

    def project(name, heads):
        y = x @ weights[f'{name}.weight'].T + weights[f'{name}.bias']
        return y.reshape(2, 5, heads, 4).transpose(0, 2, 1, 3)
    query, key, value = project('wq', 4), project('wk', 2), project('wv', 2)
    key = np.repeat(np.concatenate([prefix[0], key], 2), 2, axis=1)             # query head h reads kv head h // 2
    value = np.repeat(np.concatenate([prefix[1], value], 2), 2, axis=1)
    bias = np.concatenate([np.zeros((5, 3), np.float32), causal], -1)
    probs = _softmax(query @ key.transpose(0, 1, 3, 2) / 2.0 + bias)
    context = (probs @ value).transpose(0, 2, 1, 3).reshape(2, 5, 16)
    expected = context @ weights['wo.weight'].T
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def _config(**changes):
    return ChatGLM2Config(num_layers=2, padded_vocab_size=64, hidden_size=32, ffn_hidden_size=48, kv_channels=8,
                          num_attention_heads=4, multi_query_group_num=2, seq_length=16, param_init_type='float32',
                          compute_dtype='float32', layernorm_compute_type='float32', **changes)


def test_only_the_prefix_encoder_trains_and_its_prefix_changes_the_logits():
    pet = {'pet_type': 'ptuning2', 'pre_seq_len': 4, 'dropout_prob': 0.0}
    model = ChatGLM2WithPtuning2(_config(pet_config=pet))
    assert [p.name for p in model.trainable_params()] == ['prefix_encoder.mindpet_delta_ptuning2_embedding']
    assert model.trainable_params()[0].shape == (4, 2 * 2 * 2 * 8)
    base = ChatGLM2ForConditionalGeneration(_config())
    values = {p.name: p for p in model.get_parameters()}
    for param in base.get_parameters():
        param.set_data(values[param.name].data)
    tokens = Tensor(np.random.default_rng(1).integers(3, 64, size=(2, 16)).astype(np.int32))
    model.set_train(False)
    base.set_train(False)
    with_prefix, without = model(tokens)[0].asnumpy(), base(tokens)[0].asnumpy()
    assert np.abs(with_prefix - without).max() > 1e-3
    # zero prefix keys score 0 against every query, so they still take attention weight: the logits still differ
    embedding = model.prefix_encoder.mindpet_delta_ptuning2_embedding
    embedding.set_data(Tensor(np.zeros(embedding.shape, np.float32)))
    zero_prefix = model(tokens)[0].asnumpy()
    assert np.abs(zero_prefix - without).max() > 1e-4


def test_prefix_projection_adds_a_trainable_mlp_and_bad_settings_are_one_line():
    model = ChatGLM2WithPtuning2(_config(pet_config={'pet_type': 'ptuning2', 'pre_seq_len': 3,
                                                     'prefix_projection': True, 'projection_dim': 8}))
    names = sorted(p.name for p in model.trainable_params())
    assert len(names) == 5 and all(n.startswith('prefix_encoder.mindpet_delta_ptuning2_') for n in names), names
    with pytest.raises(ConfigError, match='pet_config.pre_seq_len must be a positive integer'):
        Ptuning2Config(pre_seq_len=0)
    with pytest.raises(ConfigError, match='use_past True is not supported'):
        ChatGLM2WithPtuning2(_config(use_past=True, pet_config={'pet_type': 'ptuning2', 'pre_seq_len': 3}))
    with pytest.raises(ConfigError, match='needs model_config.pet_config'):
        ChatGLM2WithPtuning2(_config())
    assert ms.get_context('mode') == ms.PYNATIVE_MODE


def test_pre_seq_len_without_the_ptuning2_arch_is_one_line():
    with pytest.raises(ConfigError, match='pre_seq_len 8 asks for P-Tuning v2 prefixes.*ChatGLM2WithPtuning2'):
        ChatGLM2ForConditionalGeneration(_config(pre_seq_len=8))


def test_the_tiny_ptuning2_yaml_builds_and_its_prefix_length_wins():
    import os  # pylint: disable=import-outside-toplevel
    from mindformers.models.build_model import build_network  # pylint: disable=import-outside-toplevel
    from mindformers.tools.register import MindFormerConfig  # pylint: disable=import-outside-toplevel
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    config = MindFormerConfig(os.path.join(root, 'configs', 'glm2', 'run_glm2_tiny_ptuning2.yaml'))
    config.model.model_config.padded_vocab_size = 64
    config.model.model_config.pre_seq_len = 3
    model = build_network(config.model)
    assert type(model).__name__ == 'ChatGLM2WithPtuning2' and model.config.pre_seq_len == 8
    assert model.prefix_encoder.mindpet_delta_ptuning2_embedding.shape == (8, 2 * 2 * 2 * 16)


@pytest.mark.parametrize('pet', [{'pet_type': 'ptuning2', 'pre_seq_len': 4}, {'pet_type': 'lora', 'lora_rank': 2}])
def test_checkpoint_name_or_path_loads_the_base_weights_into_the_adapted_model(tmp_path, pet):
    from mindformers import ChatGLM2WithLora  # pylint: disable=import-outside-toplevel
    base = ChatGLM2ForConditionalGeneration(_config())
    path = str(tmp_path / 'base.ckpt')
    ms.save_checkpoint(base, path)
    arch = ChatGLM2WithPtuning2 if pet['pet_type'] == 'ptuning2' else ChatGLM2WithLora
    tuned = arch(_config(pet_config=pet, checkpoint_name_or_path=path))
    saved = {p.name: p.asnumpy() for p in base.get_parameters()}
    loaded = {p.name: p.asnumpy() for p in tuned.get_parameters()}
    assert set(saved) < set(loaded)
    for name, value in saved.items():
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)
