"""CLIP on tiny random configs against transformers (PyTorch CPU): image and text features, both logits, the
contrastive loss and its gradients through the Hugging Face weight conversion; eval outputs, config errors, the
image processor against Hugging Face's CLIPImageProcessor, and the processor."""
import os

import numpy as np
import pytest

import mindspore as ms
from mindspore import Tensor

from mindformers import CLIPConfig, CLIPModel, CLIPImageProcessor, CLIPTextConfig, CLIPVisionConfig
from mindformers.models.clip import convert_weight
from mindformers.models.hf_conversion import load_hf_state_dict
from mindformers.tools.errors import CheckpointError, ConfigError

torch = pytest.importorskip('torch', reason='CLIP parity needs torch==2.13.0 (pip install -e .[test])')
transformers = pytest.importorskip('transformers', reason='CLIP parity needs transformers (pip install -e .[test])')

pytestmark = pytest.mark.usefixtures("pynative")
VOCAB, SEQ = 99, 12
HF_TEXT = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
               max_position_embeddings=SEQ, eos_token_id=VOCAB - 1, bos_token_id=VOCAB - 2, pad_token_id=0)
HF_VISION = dict(hidden_size=24, intermediate_size=40, num_hidden_layers=2, num_attention_heads=3, image_size=20,
                 patch_size=5)
# measured: features within 3.4e-6 (|features| up to 3.8), logits within 6e-6 (up to 3.7), loss within 5e-7,
# gradients within 6e-6 of their largest entry (float32, AMD EPYC AVX2)
TOL = 5e-5


def hf_model(seed=0):
    """A random transformers CLIPModel whose weights are scaled up, so features and gradients are far from zero."""
    torch.manual_seed(seed)
    config = transformers.CLIPConfig(text_config=HF_TEXT, vision_config=HF_VISION, projection_dim=16)
    model = transformers.CLIPModel(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'norm' in name:
                param.add_(torch.randn_like(param) * 0.2)
            elif name != 'logit_scale':
                param.normal_(0, 1.5 / max(param.shape[-1], 1) ** 0.5)
    return model


def ours_from(hf, **overrides):
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    model = load_hf_state_dict(CLIPModel, hf.config.to_dict(), state, source='tiny', **overrides)
    model.set_train(False)
    return model


def inputs(seed=1, batch=3):
    """Images and texts that end in <|endoftext|> (VOCAB - 1) at different lengths, padded with 0 after it."""
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(batch, 3, 20, 20)).astype(np.float32)
    text = np.zeros((batch, SEQ), np.int32)
    for row, length in enumerate(rng.integers(3, SEQ, size=batch)):
        text[row, :length] = rng.integers(1, VOCAB - 2, size=length)
        text[row, length] = VOCAB - 1
    return image, text


def test_features_and_logits_equal_transformers_clip_model():
    hf = hf_model()
    image, text = inputs()
    with torch.no_grad():
        ref = hf(input_ids=torch.tensor(text, dtype=torch.long), pixel_values=torch.tensor(image))
    ours = ours_from(hf)
    with torch.no_grad():
        image_features = hf.get_image_features(pixel_values=torch.tensor(image)).numpy()
        text_features = hf.get_text_features(input_ids=torch.tensor(text, dtype=torch.long)).numpy()
    np.testing.assert_allclose(ours.get_image_features(Tensor(image)).asnumpy(), image_features, atol=TOL, rtol=TOL)
    np.testing.assert_allclose(ours.get_text_features(Tensor(text)).asnumpy(), text_features, atol=TOL, rtol=TOL)
    per_image, per_text = ours(Tensor(image), Tensor(text))
    assert np.abs(ref.logits_per_image.numpy()).max() > 1.0
    np.testing.assert_allclose(per_image.asnumpy(), ref.logits_per_image.numpy(), atol=TOL, rtol=TOL)
    np.testing.assert_allclose(per_text.asnumpy(), ref.logits_per_text.numpy(), atol=TOL, rtol=TOL)


def test_text_is_read_at_its_end_of_text_token():
    """Changing a token after <|endoftext|> (padding) changes nothing; changing one before it does."""
    ours = ours_from(hf_model(seed=2))
    _, text = inputs(seed=3, batch=2)
    base = ours.get_text_features(Tensor(text)).asnumpy()
    after, before = text.copy(), text.copy()
    end = int(np.argmax(text[0]))
    after[0, end + 1:] = 5
    before[0, 0] = (before[0, 0] % (VOCAB - 3)) + 1
    np.testing.assert_allclose(ours.get_text_features(Tensor(after)).asnumpy(), base, atol=1e-6)
    assert np.abs(ours.get_text_features(Tensor(before)).asnumpy()[0] - base[0]).max() > 1e-3


def test_loss_and_gradients_equal_transformers():
    hf = hf_model(seed=4)
    image, text = inputs(seed=5, batch=4)
    hf.train()
    out = hf(input_ids=torch.tensor(text, dtype=torch.long), pixel_values=torch.tensor(image), return_loss=True)
    out.loss.backward()
    ours = ours_from(hf)
    ours.set_train(True)
    params = ours.trainable_params()
    loss, grads = ms.value_and_grad(ours, None, params)(Tensor(image), Tensor(text))
    np.testing.assert_allclose(float(loss), out.loss.item(), rtol=TOL)
    ours_grads = dict(zip((p.name for p in params), (g.asnumpy() for g in grads)))
    hf_grads = {name: p.grad.numpy() for name, p in hf.named_parameters() if p.grad is not None}
    pairs = {'logit_scale': ('logit_scale', False),
             'text_projection': ('text_projection.weight', True), 'visual.proj': ('visual_projection.weight', True),
             'token_embedding.embedding_weight': ('text_model.embeddings.token_embedding.weight', False),
             'transformer.layers.0.attention.wq.weight': ('text_model.encoder.layers.0.self_attn.q_proj.weight', False),
             'visual.transformer.layers.1.feed_forward.w1.bias': ('vision_model.encoder.layers.1.mlp.fc1.bias', False),
             'visual.class_embedding': ('vision_model.embeddings.class_embedding', False),
             'visual.patch_embed.proj.weight': ('vision_model.embeddings.patch_embedding.weight', False)}
    for our_name, (hf_name, transposed) in pairs.items():
        ref = hf_grads[hf_name].T if transposed else hf_grads[hf_name]
        assert np.abs(ref).max() > 1e-4, hf_name
        np.testing.assert_allclose(ours_grads[our_name], ref, atol=TOL * np.abs(ref).max(), rtol=1e-3)


def test_eval_with_labels_gives_class_logits_for_accuracy():
    """Zero-shot evaluation: `text` is one prompt per class (or the same prompts repeated per row)."""
    ours = ours_from(hf_model(seed=6))
    image, prompts = inputs(seed=7, batch=3)
    labels = Tensor(np.array([2, 0, 1], np.int32))
    logits, label = ours(Tensor(image), Tensor(prompts), labels)
    again, _ = ours(Tensor(image), Tensor(np.stack([prompts] * 3)), labels)
    assert logits.shape == (3, 3) and label.asnumpy().tolist() == [2, 0, 1]
    np.testing.assert_allclose(again.asnumpy(), logits.asnumpy(), atol=1e-6)


def test_conversion_round_trips_and_names_a_stray_tensor():
    hf = hf_model(seed=8)
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    config = CLIPConfig(**convert_weight.hf_config_to_kwargs(hf.config.to_dict()))
    ours = convert_weight.convert_hf_state_dict(state, config)
    back = convert_weight.convert_to_hf_state_dict(ours, config)
    kept = {k: v for k, v in state.items() if not k.endswith('position_ids')}
    assert sorted(back) == sorted(kept)
    for name, value in kept.items():
        np.testing.assert_array_equal(back[name], value)
    rebuilt = transformers.CLIPConfig(**convert_weight.to_hf_config(config))
    assert rebuilt.text_config.hidden_size == 32 and rebuilt.vision_config.patch_size == 5
    with pytest.raises(CheckpointError, match="'text_model.extra.weight' is not a CLIP weight"):
        convert_weight.convert_hf_state_dict(dict(state, **{'text_model.extra.weight': np.zeros(3)}), config)
    with pytest.raises(ConfigError, match='eos_token_id 7'):
        convert_weight.hf_config_to_kwargs(dict(hf.config.to_dict(), text_config=dict(HF_TEXT, eos_token_id=7)))


def test_config_errors_are_one_line():
    with pytest.raises(ConfigError, match='image_size 30 is not divisible by patch_size 7'):
        CLIPVisionConfig(image_size=30, patch_size=7)
    with pytest.raises(ConfigError, match='hidden_size 30 is not divisible by num_attention_heads 4'):
        CLIPTextConfig(hidden_size=30, num_attention_heads=4)
    with pytest.raises(ConfigError, match='expected type CLIPTextConfig'):
        CLIPConfig(text_config={'type': 'CLIPVisionConfig'})
    with pytest.raises(ConfigError, match='unknown activation'):
        CLIPTextConfig(hidden_act='gelu9')
    config = CLIPConfig(text_config={'type': 'CLIPTextConfig', 'drop_out': 0.1})
    assert config.text_config.dropout == 0.1 and CLIPConfig(**config.to_dict()) == config


def test_image_processor_equals_transformers():
    """Resize the shorter side to 24, center crop 24, CLIP's mean and std, on a non-square image."""
    image = np.random.default_rng(9).integers(0, 256, size=(40, 30, 3), dtype=np.uint8)
    ours = CLIPImageProcessor(image_resolution=24)(image).asnumpy()
    ref = transformers.CLIPImageProcessor(size={'shortest_edge': 24}, crop_size={'height': 24, 'width': 24})(
        images=image, return_tensors='np')['pixel_values']
    assert ours.shape == ref.shape == (1, 3, 24, 24)
    # PIL bicubic in both; rounding of the resized uint8 image differs by at most one grey level
    np.testing.assert_allclose(ours, ref, atol=1.5 / 255 / 0.26)


def test_hugging_face_directory_loads_through_the_auto_classes_and_converts_both_ways(tmp_path):
    """AutoModel / AutoProcessor on a transformers CLIP directory (model + processor with the real CLIP BPE), and
    convert_weight's HF -> .ckpt -> HF round trip, bit-exact."""
    from mindformers import AutoModel, AutoProcessor  # pylint: disable=import-outside-toplevel
    from mindformers.models import hf_conversion  # pylint: disable=import-outside-toplevel
    from tests.ut.tokenizer.test_clip_tokenizer import SHARED_CLIP, hf_directory  # pylint: disable=C0415
    hf = hf_model(seed=10)
    hf.save_pretrained(tmp_path / 'hf', safe_serialization=True)
    image, text = inputs(seed=11)
    with torch.no_grad():
        ref = hf(input_ids=torch.tensor(text, dtype=torch.long), pixel_values=torch.tensor(image)).logits_per_image
    model = AutoModel.from_pretrained(str(tmp_path / 'hf'))
    model.set_train(False)
    assert type(model).__name__ == 'CLIPModel'
    np.testing.assert_allclose(model(Tensor(image), Tensor(text))[0].asnumpy(), ref.numpy(), atol=TOL, rtol=TOL)

    ckpt, _ = hf_conversion.convert_hf_to_ckpt(convert_weight, str(tmp_path / 'hf'), str(tmp_path / 'clip.ckpt'))
    back = hf_conversion.convert_ckpt_to_hf(convert_weight, ckpt, str(tmp_path / 'back'))
    _, original = hf_conversion.read_hf_directory(str(tmp_path / 'hf'))
    _, rebuilt = hf_conversion.read_hf_directory(str(back))
    original = {k: v for k, v in original.items() if not k.endswith('position_ids')}
    assert sorted(rebuilt) == sorted(original)
    for name, value in original.items():
        np.testing.assert_array_equal(rebuilt[name], value)

    if not os.path.isfile(SHARED_CLIP):
        pytest.skip(f"the real CLIP BPE is not at {SHARED_CLIP}: the processor half needs it")
    folder = hf_directory(SHARED_CLIP, str(tmp_path / 'hf'))
    reference = transformers.CLIPProcessor(
        image_processor=transformers.CLIPImageProcessor(size={'shortest_edge': 20},
                                                        crop_size={'height': 20, 'width': 20}),
        tokenizer=transformers.CLIPTokenizer(os.path.join(folder, 'vocab.json'), os.path.join(folder, 'merges.txt')))
    reference.save_pretrained(folder)
    processor = AutoProcessor.from_pretrained(folder)
    picture = np.random.default_rng(12).integers(0, 256, size=(30, 24, 3), dtype=np.uint8)
    ours = processor(image_input=picture, text_input=['a photo of a cat'])
    theirs = reference(images=picture, text=['a photo of a cat'], padding='max_length', max_length=77,
                       return_tensors='np')
    assert type(processor).__name__ == 'CLIPProcessor'
    assert ours['text'].asnumpy().tolist() == theirs['input_ids'].tolist()
    np.testing.assert_allclose(ours['image'].asnumpy(), theirs['pixel_values'], atol=1.5 / 255 / 0.26)
