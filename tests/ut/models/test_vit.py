"""ViT on tiny random configs against transformers (PyTorch CPU): logits of both poolings, loss and gradients
through the Hugging Face weight conversion, the patch embedding against a strided Conv2d, stochastic depth, and
config errors."""
import numpy as np
import pytest

import mindspore as ms
from mindspore import Tensor, nn

from mindformers import ViTConfig, ViTForImageClassification, ViTModel
from mindformers.models.hf_conversion import load_hf_state_dict
from mindformers.models.vit import convert_weight
from mindformers.modules.embeddings import PatchEmbedding
from mindformers.modules.transformer import DropPath
from mindformers.tools.errors import ConfigError, CheckpointError

torch = pytest.importorskip('torch', reason='ViT parity needs torch==2.13.0 (pip install -e .[test])')
transformers = pytest.importorskip('transformers', reason='ViT parity needs transformers (pip install -e .[test])')

pytestmark = pytest.mark.usefixtures("pynative")
HF_CONFIG = dict(image_size=24, patch_size=6, num_channels=3, hidden_size=32, num_hidden_layers=2,
                 num_attention_heads=4, intermediate_size=64, hidden_dropout_prob=0.0,
                 attention_probs_dropout_prob=0.0, id2label={i: f'c{i}' for i in range(5)},
                 label2id={f'c{i}': i for i in range(5)})
# measured: logits within 1e-6 (|logits| up to 4.8), loss within 6e-6, gradients within 5e-6 of their largest entry
# (float32, AMD EPYC AVX2)
TOL = 2e-5


def hf_model(seed=0):
    """A random transformers ViT whose weights are scaled up, so logits and gradients are far from zero."""
    torch.manual_seed(seed)
    model = transformers.ViTForImageClassification(transformers.ViTConfig(**HF_CONFIG)).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'layernorm' in name:
                param.add_(torch.randn_like(param) * 0.2)
            else:
                param.normal_(0, 1.5 / max(param.shape[-1], 1) ** 0.5)
    return model


def ours_from(hf, **overrides):
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    model = load_hf_state_dict(ViTForImageClassification, hf.config.to_dict(), state, source='tiny', **overrides)
    model.set_train(False)
    return model


def images(seed=1, batch=3):
    return np.random.default_rng(seed).normal(size=(batch, 3, 24, 24)).astype(np.float32)


def test_logits_equal_transformers_vit_for_image_classification():
    hf = hf_model()
    x = images()
    with torch.no_grad():
        ref = hf(torch.tensor(x)).logits.numpy()
    got = ours_from(hf)(Tensor(x)).asnumpy()
    assert np.abs(ref).max() > 0.5                 # the comparison is not between near-zero numbers
    np.testing.assert_allclose(got, ref, atol=TOL, rtol=TOL)


def test_mean_pooling_is_layernorm_of_the_mean_patch_state():
    """use_mean_pooling (upstream's default): the patch tokens' last hidden states (transformers' encoder output
    before its final norm) averaged, then `fc_norm`."""
    hf = hf_model(seed=2)
    x = images(seed=3)
    with torch.no_grad():
        hidden = hf.vit(torch.tensor(x), output_hidden_states=True).hidden_states[-1].numpy()
    ours = ours_from(hf, use_mean_pooling=True)
    gamma = np.random.default_rng(0).normal(1, 0.3, 32).astype(np.float32)
    beta = np.random.default_rng(1).normal(0, 0.3, 32).astype(np.float32)
    ours.vit.fc_norm.weight.set_data(Tensor(gamma))
    ours.vit.fc_norm.bias.set_data(Tensor(beta))
    head_w = ours.head.weight.asnumpy()
    head_b = ours.head.bias.asnumpy()
    mean = hidden[:, 1:].mean(1)
    normed = (mean - mean.mean(-1, keepdims=True)) / np.sqrt(mean.var(-1, keepdims=True) + 1e-12) * gamma + beta
    np.testing.assert_allclose(ours(Tensor(x)).asnumpy(), normed @ head_w.T + head_b, atol=TOL, rtol=TOL)


def test_loss_and_gradients_equal_transformers():
    hf = hf_model(seed=4)
    x = images(seed=5)
    labels = np.array([0, 3, 4], np.int32)
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
    pairs = {'vit.patch_embed.proj.weight': 'vit.embeddings.patch_embeddings.projection.weight',
             'vit.cls_tokens': 'vit.embeddings.cls_token', 'vit.pos_embed': 'vit.embeddings.position_embeddings',
             'vit.layers.0.attention.wq.weight': 'vit.encoder.layer.0.attention.attention.query.weight',
             'vit.layers.1.feed_forward.w1.bias': 'vit.encoder.layer.1.intermediate.dense.bias',
             'head.weight': 'classifier.weight'}
    for our_name, hf_name in pairs.items():
        ref = hf_grads[hf_name]
        assert np.abs(ref).max() > 1e-3, hf_name
        np.testing.assert_allclose(ours_grads[our_name], ref, atol=TOL * np.abs(ref).max(), rtol=1e-4)


def test_soft_targets_give_the_cross_entropy_of_their_distribution():
    hf = hf_model(seed=6)
    x = images(seed=7, batch=2)
    ours = ours_from(hf)
    logits = ours(Tensor(x)).asnumpy().astype(np.float64)
    soft = np.array([[0.7, 0.1, 0.1, 0.05, 0.05], [0, 0, 1.0, 0, 0]], np.float32)
    ours.set_train(True)
    loss = float(ours(Tensor(x), Tensor(soft)))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert abs(loss - float(-(soft * log_probs).sum(-1).mean())) < 1e-5
    hard = float(ours(Tensor(x), Tensor(np.array([1, 2], np.int32))))
    assert abs(hard - float(-(log_probs[0, 1] + log_probs[1, 2]) / 2)) < 1e-5


def test_conversion_round_trips_and_names_a_stray_tensor():
    hf = hf_model(seed=8)
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    config = ViTConfig(**convert_weight.hf_config_to_kwargs(hf.config.to_dict()))
    ours = convert_weight.convert_hf_state_dict(state, config)
    back = convert_weight.convert_to_hf_state_dict(ours, config)
    assert sorted(back) == sorted(state)
    for name, value in state.items():
        np.testing.assert_array_equal(back[name], value)
    with pytest.raises(CheckpointError, match="'vit.encoder.layer.0.extra.weight' is not a ViT weight"):
        convert_weight.convert_hf_state_dict(dict(state, **{'vit.encoder.layer.0.extra.weight': np.zeros(3)}),
                                             config)
    short = {k: v for k, v in state.items() if 'layer.1.' not in k}
    with pytest.raises(CheckpointError, match='tensors the config needs are missing'):
        convert_weight.convert_hf_state_dict(short, config)


def test_patch_embedding_equals_a_strided_conv2d():
    embed = PatchEmbedding((12, 18), (3, 6), 2, 8)
    weight = embed.proj.weight.asnumpy()
    bias = np.random.default_rng(2).normal(size=8).astype(np.float32)
    embed.proj.bias.set_data(Tensor(bias))
    conv = nn.Conv2d(2, 8, (3, 6), stride=(3, 6), pad_mode='valid', has_bias=True,
                     weight_init=Tensor(weight), bias_init=Tensor(bias))
    x = Tensor(np.random.default_rng(3).normal(size=(2, 2, 12, 18)).astype(np.float32))
    ref = conv(x).asnumpy()                                     # (b, dim, 4, 3)
    ref = ref.reshape(2, 8, 12).transpose(0, 2, 1)              # row-major patches
    np.testing.assert_allclose(embed(x).asnumpy(), ref, atol=1e-5)
    assert embed.num_patches == 12
    with pytest.raises(ConfigError, match='image_size 18 .width. is not divisible by patch_size 4'):
        PatchEmbedding((12, 18), (3, 4), 2, 8)


def test_drop_path_drops_whole_samples_in_training_only():
    drop = DropPath(0.5)
    x = Tensor(np.ones((64, 3, 4), np.float32))
    drop.set_train(False)
    np.testing.assert_array_equal(drop(x).asnumpy(), x.asnumpy())
    drop.set_train(True)
    out = drop(x).asnumpy()
    per_sample = out.reshape(64, -1)
    assert set(np.unique(per_sample)) <= {0.0, 2.0}
    assert all(len(set(row)) == 1 for row in per_sample)       # a sample is kept or dropped whole
    assert 10 < (per_sample[:, 0] == 0).sum() < 54


def test_vitmodel_checkpoint_loads_into_the_classifier(tmp_path):
    config = ViTConfig(image_size=16, patch_size=8, num_channels=1, hidden_size=16, num_hidden_layers=1,
                       num_attention_heads=2, intermediate_size=32, num_labels=3, drop_path_rate=0.0)
    encoder = ViTModel(config)
    path = str(tmp_path / 'encoder.ckpt')
    ms.save_checkpoint(encoder, path)
    classifier = ViTForImageClassification(ViTConfig(**dict(config.to_dict(), checkpoint_name_or_path=path)))
    np.testing.assert_array_equal(classifier.vit.pos_embed.asnumpy(), encoder.vit.pos_embed.asnumpy())
    x = Tensor(np.random.default_rng(0).normal(size=(2, 1, 16, 16)).astype(np.float32))
    encoder.set_train(False)
    classifier.set_train(False)
    np.testing.assert_allclose(classifier.vit(x).asnumpy(), encoder(x).asnumpy(), atol=1e-6)


@pytest.mark.parametrize('kwargs, message', [
    (dict(image_size=30, patch_size=7), 'image_size 30 is not divisible by patch_size 7'),
    (dict(hidden_size=30, num_attention_heads=4), 'hidden_size 30 is not divisible by num_attention_heads 4'),
    (dict(loss_type='Focal'), "loss_type 'Focal' is not supported"),
    (dict(drop_path_rate=1.0), 'drop_path_rate must be a number in'),
    (dict(num_labels=0), 'num_labels must be an integer >= 1'),
])
def test_config_errors_are_one_line(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ViTConfig(**kwargs)


def test_num_parameters_counts_the_model():
    config = ViTConfig(image_size=24, patch_size=6, num_channels=3, hidden_size=32, num_hidden_layers=2,
                       num_attention_heads=4, intermediate_size=64, num_labels=5)
    model = ViTForImageClassification(config)
    assert config.num_parameters() == sum(p.size for p in model.get_parameters())
