"""ChatGLM2WithLora: LoRA on query_key_value (wq, wk, wv) by default, only LoRA weights trainable, the output equal
to the base model's at initialisation (B = 0), and the YAMLs that name it build."""
import os

import numpy as np
import pytest
from mindspore import Tensor

from mindformers import ChatGLM2Config, ChatGLM2ForConditionalGeneration, ChatGLM2WithLora
from mindformers.models.build_model import build_network
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

pytestmark = pytest.mark.usefixtures('pynative')


def _config(**changes):
    return ChatGLM2Config(num_layers=2, padded_vocab_size=64, hidden_size=32, ffn_hidden_size=48, kv_channels=8,
                          num_attention_heads=4, multi_query_group_num=2, seq_length=16, param_init_type='float32',
                          compute_dtype='float32', layernorm_compute_type='float32', **changes)


def test_lora_goes_on_query_key_value_and_only_it_trains():
    model = ChatGLM2WithLora(_config(pet_config={'pet_type': 'lora', 'lora_rank': 4, 'lora_alpha': 8}))
    trainable = sorted(p.name for p in model.trainable_params())
    assert len(trainable) == 2 * 3 * 2
    assert all(('.wq.' in n or '.wk.' in n or '.wv.' in n) and 'lora' in n for n in trainable), trainable
    assert model.pet_config.target_modules == '.*query_key_value.*'


def test_lora_model_equals_the_base_model_at_initialisation():
    base = ChatGLM2ForConditionalGeneration(_config())
    tuned = ChatGLM2WithLora(_config(pet_config={'pet_type': 'lora', 'lora_rank': 4, 'lora_alpha': 8}))
    base_values = {p.name: p for p in base.get_parameters()}
    for param in tuned.get_parameters():
        if param.name in base_values:
            param.set_data(base_values[param.name].data)
    tokens = Tensor(np.random.default_rng(0).integers(3, 64, size=(2, 16)).astype(np.int32))
    base.set_train(False)
    tuned.set_train(False)
    np.testing.assert_allclose(tuned(tokens)[0].asnumpy(), base(tokens)[0].asnumpy(), rtol=1e-6, atol=1e-6)


def test_without_pet_config_is_one_line():
    with pytest.raises(ConfigError, match='ChatGLM2WithLora needs model_config.pet_config'):
        ChatGLM2WithLora(_config())


@pytest.mark.parametrize('name', ['run_glm2_tiny_lora.yaml', 'run_glm2_6b_lora.yaml'])
def test_the_lora_yamls_build_chatglm2_with_lora_once(name):
    config = MindFormerConfig(os.path.join(ROOT, 'configs', 'glm2', name))
    if name.startswith('run_glm2_6b'):   # the 6B sizes are not built here, only their LoRA settings are checked
        assert config.model.arch.type == 'ChatGLM2WithLora' and config.model.model_config.pet_config.lora_rank == 8
        return
    config.model.model_config.padded_vocab_size = 64
    model = build_network(config.model)
    assert type(model).__name__ == 'ChatGLM2WithLora'
    assert len(model.lora_layers) == 2 * 3        # built in once, not again by build_network
