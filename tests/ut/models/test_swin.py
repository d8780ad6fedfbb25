"""Swin on tiny random configs against transformers (PyTorch CPU): logits (shifted windows, relative position
bias, patch merging, a last stage as small as one window), loss and gradients through the Hugging Face weight
conversion, the shift mask and relative index against a hand computation, and config errors."""
import numpy as np
import pytest

import mindspore as ms
from mindspore import Tensor

from mindformers import SwinConfig, SwinForImageClassification
from mindformers.models.hf_conversion import load_hf_state_dict
from mindformers.models.swin import convert_weight
from mindformers.models.swin.swin import relative_position_index, shift_mask, SHIFT_MASK_VALUE
from mindformers.tools.errors import ConfigError, CheckpointError

torch = pytest.importorskip('torch', reason='Swin parity needs torch==2.13.0 (pip install -e .[test])')
transformers = pytest.importorskip('transformers', reason='Swin parity needs transformers (pip install -e .[test])')

pytestmark = pytest.mark.usefixtures("pynative")
# 32x32 images, 2x2 patches: stages of 16x16, 8x8 and 4x4 tokens with 4x4 windows (the last stage is one window,
# unshifted); every second block of the first two stages is shifted
HF_CONFIG = dict(image_size=32, patch_size=2, num_channels=3, embed_dim=16, depths=[2, 2, 2], num_heads=[2, 4, 4],
                 window_size=4, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, drop_path_rate=0.0,
                 id2label={i: f'c{i}' for i in range(5)}, label2id={f'c{i}': i for i in range(5)})
# measured: logits within 3.6e-7 (|logits| up to 2), gradients within 2e-6 of their largest entry (AMD EPYC AVX2)
TOL = 2e-5


def hf_model(seed=0, **overrides):
    torch.manual_seed(seed)
    model = transformers.SwinForImageClassification(transformers.SwinConfig(**dict(HF_CONFIG, **overrides))).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'norm' in name:
                param.add_(torch.randn_like(param) * 0.2)
            else:
                param.normal_(0, 1.0 / max(param.shape[-1], 1) ** 0.5)
    return model


def ours_from(hf):
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    model = load_hf_state_dict(SwinForImageClassification, hf.config.to_dict(), state, source='tiny')
    model.set_train(False)
    return model


def images(seed=1, batch=2):
    return np.random.default_rng(seed).normal(size=(batch, 3, 32, 32)).astype(np.float32)


# (transformers' use_absolute_embeddings path cannot run: its table has a [CLS] slot Swin does not have)
@pytest.mark.parametrize('overrides', [{}, {'qkv_bias': False}])
def test_logits_equal_transformers_swin_for_image_classification(overrides):
    hf = hf_model(**overrides)
    x = images()
    with torch.no_grad():
        ref = hf(torch.tensor(x)).logits.numpy()
    got = ours_from(hf)(Tensor(x)).asnumpy()
    assert np.abs(ref).max() > 0.5
    np.testing.assert_allclose(got, ref, atol=TOL, rtol=TOL)


def test_loss_and_gradients_equal_transformers():
    hf = hf_model(seed=3)
    x = images(seed=4, batch=3)
    labels = np.array([0, 4, 2], np.int32)
    hf.train()
    out = hf(torch.tensor(x), labels=torch.tensor(labels, dtype=torch.long))
    out.loss.backward()
    ours = ours_from(hf)
    ours.set_train(True)
    params = ours.trainable_params()
    loss, grads = ms.value_and_grad(ours, None, params)(Tensor(x), Tensor(labels))
    np.testing.assert_allclose(float(loss), out.loss.item(), rtol=TOL)
    ours_grads = dict(zip((p.name for p in params), (g.asnumpy() for g in grads)))
    hf_grads = {name: p.grad.numpy() for name, p in hf.named_parameters() if p.grad is not None}
    pairs = {'swin.patch_embed.proj.weight': 'swin.embeddings.patch_embeddings.projection.weight',
             'swin.stages.0.blocks.1.attention.relative_position_bias_table':
                 'swin.encoder.layers.0.blocks.1.attention.self.relative_position_bias_table',
             'swin.stages.1.blocks.1.attention.wq.weight': 'swin.encoder.layers.1.blocks.1.attention.self.query.weight',
             'swin.stages.0.downsample.reduction.weight': 'swin.encoder.layers.0.downsample.reduction.weight',
             'swin.stages.2.blocks.0.feed_forward.w1.bias': 'swin.encoder.layers.2.blocks.0.intermediate.dense.bias',
             'head.weight': 'classifier.weight'}
    for our_name, hf_name in pairs.items():
        ref = hf_grads[hf_name]
        assert np.abs(ref).max() > 1e-4, hf_name
        np.testing.assert_allclose(ours_grads[our_name], ref, atol=TOL * np.abs(ref).max(), rtol=1e-4)


def test_shift_mask_and_relative_index_by_hand():
    index = relative_position_index(2)            # a 2x2 window: tokens (0,0) (0,1) (1,0) (1,1), table side 3
    assert index[0].tolist() == [4, 3, 1, 0]      # (dy, dx) = (0,0) (0,-1) (-1,0) (-1,-1) -> (dy+1)*3 + dx+1
    assert index[3].tolist() == [8, 7, 5, 4]
    mask = shift_mask(4, 2, 1)                     # 4x4 grid, 2x2 windows, shift 1: regions split the last window
    assert mask.shape == (4, 4, 4)
    assert (mask[0] == 0).all()                    # the top-left window lies in one region
    # the bottom-right window holds 4 regions: every token sees only itself
    np.testing.assert_array_equal(mask[3] == 0, np.eye(4, dtype=bool))
    assert set(np.unique(mask)) == {0.0, SHIFT_MASK_VALUE}


def test_conversion_round_trips_and_names_a_stray_tensor():
    hf = hf_model(seed=5)
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    config = SwinConfig(**convert_weight.hf_config_to_kwargs(hf.config.to_dict()))
    ours = convert_weight.convert_hf_state_dict(state, config)
    back = convert_weight.convert_to_hf_state_dict(ours, config)
    assert sorted(back) == sorted(state)
    for name, value in state.items():
        np.testing.assert_array_equal(back[name], value)
    stray = 'swin.encoder.layers.0.blocks.0.extra.weight'
    with pytest.raises(CheckpointError, match=f"'{stray}' is not a Swin weight"):
        convert_weight.convert_hf_state_dict(dict(state, **{stray: np.zeros(3)}), config)


@pytest.mark.parametrize('kwargs, message', [
    (dict(image_size=28, patch_size=2, window_size=4), r'window_size 4 does not divide the 14x14 feature map of '
                                                       r'stage 0'),
    (dict(image_size=32, patch_size=2, window_size=4, depths=[2, 2, 2, 2, 2], num_heads=[1, 1, 1, 1, 1]),
     r'window_size 4 does not divide the 2x2 feature map of stage 3'),
    (dict(depths=[2, 2], num_heads=[4]), 'must be lists of the same length'),
    (dict(embed_dim=30, depths=[2], num_heads=[4], image_size=28, patch_size=4, window_size=7),
     'stage 0 has width 30, not divisible by num_heads'),
    (dict(loss_type='Focal'), "loss_type 'Focal' is not supported"),
])
def test_config_errors_are_one_line(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SwinConfig(**kwargs)


def test_num_parameters_counts_the_model():
    config = SwinConfig(**dict(convert_weight.hf_config_to_kwargs(transformers.SwinConfig(**HF_CONFIG).to_dict()),
                               use_absolute_embeddings=True))
    model = SwinForImageClassification(config)
    assert config.num_parameters() == sum(p.size for p in model.get_parameters())


def test_layer_ids_count_blocks_over_all_stages():
    config = SwinConfig(image_size=32, patch_size=2, embed_dim=16, depths=[2, 3, 2], num_heads=[2, 4, 4],
                        window_size=4, num_labels=5)
    model = SwinForImageClassification(config)
    ids = {p.name: model.layer_id(p.name) for p in model.get_parameters()}
    assert ids['swin.patch_embed.proj.weight'] == 0 and ids['swin.patch_norm.weight'] == 0
    assert ids['swin.stages.0.blocks.1.attention.wq.weight'] == 2
    assert ids['swin.stages.0.downsample.reduction.weight'] == 2          # with the stage's last block
    assert ids['swin.stages.1.blocks.0.ffn_norm.bias'] == 3
    assert ids['swin.stages.2.blocks.1.feed_forward.w2.weight'] == 7
    assert ids['swin.norm.weight'] == 8 and ids['head.weight'] == 8
