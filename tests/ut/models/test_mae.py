"""ViT-MAE pre-training on tiny random configs against transformers (PyTorch CPU), with the same masking noise:
the kept patches, mask and restore order, the reconstruction logits and the masked-patch loss (plain and
normalised pixels), gradients; the fixed sine-cosine table; a pre-trained encoder loading into the ViT classifier;
config errors."""
import numpy as np
import pytest

import mindspore as ms
from mindspore import Tensor

from mindformers import ViTMAEConfig, ViTMAEForPreTraining, ViTConfig, ViTForImageClassification
from mindformers.models.hf_conversion import load_hf_state_dict
from mindformers.models.mae import convert_weight
from mindformers.models.mae.mae import random_masking
from mindformers.modules.embeddings import sincos_2d_table
from mindformers.tools.errors import ConfigError

torch = pytest.importorskip('torch', reason='MAE parity needs torch==2.13.0 (pip install -e .[test])')
transformers = pytest.importorskip('transformers', reason='MAE parity needs transformers (pip install -e .[test])')

pytestmark = pytest.mark.usefixtures("pynative")
HF_CONFIG = dict(image_size=24, patch_size=4, num_channels=3, hidden_size=32, num_hidden_layers=2,
                 num_attention_heads=4, intermediate_size=64, decoder_hidden_size=16, decoder_num_hidden_layers=2,
                 decoder_num_attention_heads=2, decoder_intermediate_size=32, mask_ratio=0.75,
                 hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
# measured: logits within 5e-7, loss within 2e-7 relative, gradients within 3e-6 of their largest (AMD EPYC AVX2)
TOL = 2e-5


def hf_model(seed=0, **overrides):
    torch.manual_seed(seed)
    model = transformers.ViTMAEForPreTraining(transformers.ViTMAEConfig(**dict(HF_CONFIG, **overrides))).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'layernorm' in name or 'norm' in name:
                param.add_(torch.randn_like(param) * 0.2)
            elif param.requires_grad:
                param.normal_(0, 1.5 / max(param.shape[-1], 1) ** 0.5)
    return model


def ours_from(hf):
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    model = load_hf_state_dict(ViTMAEForPreTraining, hf.config.to_dict(), state, source='tiny')
    model.set_train(False)
    return model


def inputs(seed=1, batch=2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, 3, 24, 24)).astype(np.float32), rng.random((batch, 36)).astype(np.float32)


@pytest.mark.parametrize('norm_pix_loss', [False, True])
def test_reconstruction_and_loss_equal_transformers_under_the_same_noise(norm_pix_loss):
    hf = hf_model(norm_pix_loss=norm_pix_loss)
    image, noise = inputs()
    with torch.no_grad():
        ref = hf(torch.tensor(image), noise=torch.tensor(noise))
    loss, predicted, mask = ours_from(hf)(Tensor(image), noise=Tensor(noise))
    np.testing.assert_array_equal(mask.asnumpy(), ref.mask.numpy())
    assert np.abs(ref.logits.numpy()).max() > 0.5
    np.testing.assert_allclose(predicted.asnumpy(), ref.logits.numpy(), atol=TOL, rtol=TOL)
    np.testing.assert_allclose(float(loss), ref.loss.item(), rtol=TOL)


def test_masking_keeps_the_lowest_noise_patches():
    noise = np.array([[0.9, 0.1, 0.5, 0.3], [0.2, 0.8, 0.7, 0.05]], np.float32)
    ids_keep, mask, ids_restore = random_masking(Tensor(noise), 2)
    assert ids_keep.asnumpy().tolist() == [[1, 3], [3, 0]]
    assert mask.asnumpy().tolist() == [[1, 0, 1, 0], [0, 1, 1, 0]]
    shuffled = np.argsort(noise, 1)
    np.testing.assert_array_equal(ids_restore.asnumpy(), np.argsort(shuffled, 1))


def test_gradients_equal_transformers():
    hf = hf_model(seed=2, norm_pix_loss=True)
    image, noise = inputs(seed=3)
    hf.train()
    hf(torch.tensor(image), noise=torch.tensor(noise)).loss.backward()
    ours = ours_from(hf)
    ours.set_train(True)
    params = ours.trainable_params()
    _, grads = ms.value_and_grad(lambda x, n: ours(x, noise=n), None, params)(Tensor(image), Tensor(noise))
    got = dict(zip((p.name for p in params), (g.asnumpy() for g in grads)))
    hf_grads = {name: p.grad.numpy() for name, p in hf.named_parameters() if p.grad is not None}
    pairs = {'vit.patch_embed.proj.weight': 'vit.embeddings.patch_embeddings.projection.weight',
             'vit.layers.1.attention.wv.weight': 'vit.encoder.layer.1.attention.attention.value.weight',
             'decoder.mask_token': 'decoder.mask_token', 'decoder.decoder_pred.weight': 'decoder.decoder_pred.weight',
             'decoder.decoder_layers.0.feed_forward.w1.weight':
                 'decoder.decoder_layers.0.intermediate.dense.weight'}
    for our_name, hf_name in pairs.items():
        ref = hf_grads[hf_name]
        assert np.abs(ref).max() > 1e-4, hf_name
        np.testing.assert_allclose(got[our_name], ref, atol=TOL * np.abs(ref).max(), rtol=1e-4)
    assert 'vit.pos_embed' not in got          # the sine-cosine tables stay fixed


def test_sincos_table_equals_transformers():
    from transformers.models.vit_mae.modeling_vit_mae import get_2d_sincos_pos_embed  # pylint: disable=C0415
    np.testing.assert_allclose(sincos_2d_table(32, 6, True), get_2d_sincos_pos_embed(32, 6, add_cls_token=True),
                               atol=1e-6)


def test_pretrained_encoder_loads_into_the_vit_classifier(tmp_path):
    hf = hf_model(seed=4)
    mae = ours_from(hf)
    path = str(tmp_path / 'mae.ckpt')
    ms.save_checkpoint(mae, path)
    vit = ViTForImageClassification(ViTConfig(image_size=24, patch_size=4, num_channels=3, hidden_size=32,
                                              num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                                              num_labels=3, use_mean_pooling=False, hidden_act='gelu_exact',
                                              drop_path_rate=0.0, checkpoint_name_or_path=path))
    for name in ('vit.pos_embed', 'vit.layers.1.feed_forward.w2.weight', 'vit.norm.weight'):
        np.testing.assert_array_equal(vit.parameters_dict()[name].asnumpy(), mae.parameters_dict()[name].asnumpy())
    # upstream's fine-tuning pools the mean: `fc_norm` (and the head) start fresh, the encoder is the MAE's
    pooled = ViTForImageClassification(ViTConfig(**dict(vit.config.to_dict(), use_mean_pooling=True)))
    np.testing.assert_array_equal(pooled.parameters_dict()['vit.layers.0.attention.wq.weight'].asnumpy(),
                                  mae.parameters_dict()['vit.layers.0.attention.wq.weight'].asnumpy())


def test_conversion_round_trips():
    hf = hf_model(seed=5)
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    config = ViTMAEConfig(**convert_weight.hf_config_to_kwargs(hf.config.to_dict()))
    back = convert_weight.convert_to_hf_state_dict(convert_weight.convert_hf_state_dict(state, config), config)
    assert sorted(back) == sorted(state)
    for name, value in state.items():
        np.testing.assert_array_equal(back[name], value)


@pytest.mark.parametrize('kwargs, message', [
    (dict(mask_ratio=1.0), r'mask_ratio must be a number in \(0, 1\), got 1.0'),
    (dict(mask_ratio=0.0), r'mask_ratio must be a number in \(0, 1\)'),
    (dict(image_size=8, patch_size=4, mask_ratio=0.8), 'leaves no visible patch of 4'),
    (dict(image_size=30, patch_size=4), 'image_size 30 is not divisible by patch_size 4'),
    (dict(decoder_hidden_size=18, decoder_num_attention_heads=2), 'decoder_hidden_size 18 must be divisible by 4'),
])
def test_config_errors_are_one_line(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ViTMAEConfig(**kwargs)


def test_upstream_yaml_key_norm_pix_loss_sets_the_loss():
    assert ViTMAEConfig(norm_pix_loss=False).norm_pixel_loss is False
    assert ViTMAEConfig().norm_pixel_loss is True
