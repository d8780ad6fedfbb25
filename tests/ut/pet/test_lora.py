"""LoRA on the tiny LLaMA: which layers are replaced, names, freezing, exact init, training, NumPy math, errors."""
import mindspore as ms
import numpy as np
import pytest
from mindspore import Tensor

from mindformers.core.optim import AdamW
from mindformers.models.build_model import build_model
from mindformers.models.llama import LlamaConfig, LlamaForCausalLM
from mindformers.modules.layers import Linear
from mindformers.pet import LoraConfig, LoRADense, PetType, get_pet_model, is_supported_pet_type
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerConfig
from mindformers.wrapper import MFTrainOneStepCell

SEQ = 8
VOCAB = 64
LORA = {'pet_type': 'lora', 'lora_rank': 4, 'lora_alpha': 8, 'lora_dropout': 0.0, 'target_modules': '.*wq|.*wv'}
TINY = dict(seq_length=SEQ, hidden_size=32, num_layers=2, num_heads=4, n_kv_heads=2, vocab_size=VOCAB,
            multiple_of=16, compute_dtype='float32', param_init_type='float32')


pytestmark = pytest.mark.usefixtures("pynative")


def base_model(seed=0):
    ms.set_seed(seed)
    return LlamaForCausalLM(LlamaConfig(**TINY))


def lora_model(seed=0, **overrides):
    return get_pet_model(base_model(seed), dict(LORA, **overrides))


def param_values(net):
    return {p.name: p.asnumpy().copy() for p in net.get_parameters()}


def test_lora_replaces_exactly_the_target_linears_and_names_params_like_upstream():
    base_names = [p.name for p in base_model().get_parameters()]
    net = lora_model()
    replaced = sorted(name for name, cell in net.cells_and_names() if isinstance(cell, LoRADense))
    assert replaced == [f'model.layers.{i}.attention.{w}' for i in (0, 1) for w in ('wq', 'wv')]
    assert isinstance(net.model.layers[0].attention.wk, Linear)
    assert isinstance(net.lm_head, Linear) and not isinstance(net.lm_head, LoRADense)
    names = [p.name for p in net.get_parameters()]
    lora_names = sorted(n for n in names if 'mindpet_delta_lora_' in n)
    assert lora_names == sorted(f'model.layers.{i}.attention.{w}.mindpet_delta_lora_{ab}'
                                for i in (0, 1) for w in ('wq', 'wv') for ab in 'ab')
    assert sorted(n for n in names if 'mindpet_delta' not in n) == sorted(base_names)
    wq = net.model.layers[0].attention.wq
    assert wq.mindpet_delta_lora_a.shape == (4, 32) and wq.mindpet_delta_lora_b.shape == (32, 4)


def test_only_lora_params_are_trainable():
    net = lora_model()
    trainable = [p.name for p in net.trainable_params()]
    assert len(trainable) == 8 and all('.mindpet_delta_lora_' in n for n in trainable)


def test_freeze_include_and_exclude_follow_fnmatch_with_exclude_winning():
    net = lora_model(freeze_include=['*wv.mindpet_delta_lora_*'], freeze_exclude=['*norm_out*'])
    trainable = sorted(p.name for p in net.trainable_params())
    assert trainable == sorted([f'model.layers.{i}.attention.wq.mindpet_delta_lora_{ab}' for i in (0, 1)
                                for ab in 'ab'] + ['model.norm_out.weight'])


def test_exclude_layers_skips_matching_paths():
    net = lora_model(exclude_layers=[r'model\.layers\.1'])
    replaced = sorted(name for name, cell in net.cells_and_names() if isinstance(cell, LoRADense))
    assert replaced == ['model.layers.0.attention.wq', 'model.layers.0.attention.wv']


def test_output_at_init_equals_base_model_exactly():
    ids = Tensor(np.random.default_rng(0).integers(1, VOCAB, (2, SEQ)), ms.int32)
    base = base_model(seed=3)
    base.set_train(False)
    expected = base(ids)[0].asnumpy()
    net = get_pet_model(base, LORA)
    np.testing.assert_array_equal(net(ids)[0].asnumpy(), expected)


def test_training_changes_lora_params_and_leaves_base_weights_unchanged():
    net = lora_model(seed=1)
    net.set_train(True)
    before = param_values(net)
    optimizer = AdamW(net.trainable_params(), learning_rate=1e-2)
    train_cell = MFTrainOneStepCell(net, optimizer)
    train_cell.set_train(True)
    rows = np.array([[(s + i) % (VOCAB - 1) + 1 for i in range(SEQ + 1)] for s in (3, 17)], np.int32)
    losses = [float(train_cell(Tensor(rows))[0].asnumpy()) for _ in range(3)]
    after = param_values(net)
    assert losses[-1] < losses[0]
    for name, value in before.items():
        if 'mindpet_delta_lora_' in name:
            assert not np.array_equal(after[name], value), name
        else:
            np.testing.assert_array_equal(after[name], value, err_msg=name)


def test_lora_dense_matches_numpy():
    rng = np.random.default_rng(0)
    linear = Linear(6, 5, has_bias=True, bias_init='normal')
    lora = LoRADense(linear, lora_rank=3, lora_alpha=6, lora_dropout=0.0)
    lora_a = rng.standard_normal((3, 6)).astype(np.float32)
    lora_b = rng.standard_normal((5, 3)).astype(np.float32)
    lora.mindpet_delta_lora_a.set_data(Tensor(lora_a))
    lora.mindpet_delta_lora_b.set_data(Tensor(lora_b))
    x = rng.standard_normal((2, 4, 6)).astype(np.float32)
    weight, bias = linear.weight.asnumpy(), linear.bias.asnumpy()
    expected = x @ weight.T + bias + (x @ lora_a.T @ lora_b.T) * (6 / 3)
    np.testing.assert_allclose(lora(Tensor(x)).asnumpy(), expected, rtol=1e-5, atol=1e-5)
    assert lora.weight is linear.weight and lora.bias is linear.bias


def test_build_model_loads_base_checkpoint_into_lora_model(tmp_path):
    base = base_model(seed=5)
    path = str(tmp_path / 'base.ckpt')
    ms.save_checkpoint(base, path)
    section = MindFormerConfig({'model_config': dict(TINY, type='LlamaConfig', checkpoint_name_or_path=path,
                                                     pet_config=LORA),
                                'arch': {'type': 'LlamaForCausalLM'}})
    net = build_model(section)
    values = param_values(net)
    for name, value in param_values(base).items():
        np.testing.assert_array_equal(values[name], value, err_msg=name)
    assert isinstance(net.model.layers[0].attention.wq, LoRADense)
    assert net.config.checkpoint_name_or_path == path
    assert len(net.trainable_params()) == 8


def test_supported_pet_types():
    assert is_supported_pet_type('lora') and is_supported_pet_type(PetType.LORA)
    assert is_supported_pet_type('prefixtuning') and is_supported_pet_type('adapter')
    assert not is_supported_pet_type('low_rank_adapter')


@pytest.mark.parametrize('overrides, message', [
    ({'target_modules': None}, 'target_modules is not set'),
    ({'target_modules': '.*nothing_here'}, 'matches no Linear layer'),
    ({'target_modules': '.*w[q'}, 'not a valid regular expression'),
    ({'lora_rank': 0}, 'lora_rank must be a positive integer'),
    ({'lora_dropout': 1.0}, 'lora_dropout must be in [0, 1)'),
    ({'pet_type': 'no_such_pet'}, "pet_type 'no_such_pet' is unknown"),
])
def test_bad_lora_config_is_a_one_line_config_error(overrides, message):
    with pytest.raises(ConfigError) as err:
        lora_model(**overrides)
    assert message in str(err.value) and '\n' not in str(err.value)


def test_lora_config_defaults_are_upstream():
    config = LoraConfig()
    assert (config.pet_type, config.lora_rank, config.lora_alpha, config.lora_dropout) == ('lora', 8, 16, 0.01)
    assert config.param_init_type == ms.float16 and config.compute_dtype == ms.float16
    assert config.target_modules is None and config.lora_a_init == 'normal' and config.lora_b_init == 'zero'
