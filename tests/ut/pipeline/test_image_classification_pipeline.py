"""pipeline('image_classification'): scores are the softmax of the classifier's logits on the processor's batch,
sorted, cut by top_k, named by dataset / id2label; bad arguments are one-line errors."""
import numpy as np
import pytest
from PIL import Image

import mindspore as ms

from mindformers import ViTConfig, ViTForImageClassification, ViTImageProcessor, pipeline
from mindformers.tools.errors import ConfigError

pytestmark = pytest.mark.usefixtures("pynative")


@pytest.fixture(name='model', scope='module')
def fixture_model():
    config = ViTConfig(image_size=28, patch_size=7, num_channels=1, hidden_size=16, num_hidden_layers=1,
                       num_attention_heads=2, intermediate_size=32, num_labels=10, drop_path_rate=0.0)
    model = ViTForImageClassification(config)
    rng = np.random.default_rng(0)
    for param in model.get_parameters():      # a lively random model: its probabilities are far from uniform
        param.set_data(ms.Tensor(param.asnumpy() + rng.normal(0, 0.5, param.shape).astype(np.float32)))
    model.set_train(False)
    return model


PROCESSOR = dict(size=28, resize=28, num_channels=1, mean=[0.13], std=[0.31])


def digits(count=4):
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (28, 28)).astype(np.uint8) for _ in range(count)]


def test_scores_are_the_sorted_softmax_of_the_logits(model, tmp_path):
    processor = ViTImageProcessor(**PROCESSOR)
    images = digits()
    Image.fromarray(images[0]).save(tmp_path / 'a.png')
    classify = pipeline('image_classification', model=model, image_processor=processor)
    results = classify([str(tmp_path / 'a.png')] + images[1:], batch_size=2, top_k=3, dataset='mnist')
    logits = model(processor(images)).asnumpy().astype(np.float64)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    assert len(results) == 4
    for row, result in zip(probs, results):
        best = np.argsort(-row)[:3]
        assert [item['label'] for item in result] == [str(i) for i in best]
        np.testing.assert_allclose([item['score'] for item in result], row[best], rtol=1e-5)
    assert results[0][0]['score'] > 0.2          # not a uniform 0.1 everywhere


def test_labels_fall_back_to_the_config_id2label(model):
    model.config.id2label = {i: f'digit {i}' for i in range(10)}
    try:
        result = pipeline('image_classification', model=model, image_processor=ViTImageProcessor(**PROCESSOR))(
            digits(1)[0])
    finally:
        model.config.id2label = None
    assert len(result) == 1 and len(result[0]) == 10
    assert all(item['label'].startswith('digit ') for item in result[0])


def test_a_1000_class_model_without_id2label_shows_imagenet_class_names():
    config = ViTConfig(image_size=28, patch_size=7, num_channels=1, hidden_size=16, num_hidden_layers=1,
                       num_attention_heads=2, intermediate_size=32, num_labels=1000, drop_path_rate=0.0)
    model = ViTForImageClassification(config)
    bias = np.zeros(1000, np.float32)
    bias[207] = 50.0                    # class 207 wins every image
    model.head.bias.set_data(ms.Tensor(bias))
    model.set_train(False)
    processor = ViTImageProcessor(**PROCESSOR)
    classify = pipeline('image_classification', model=model, image_processor=processor)
    result = classify(digits(2), top_k=2)
    logits = model(processor(digits(2))).asnumpy()
    assert logits.argmax(-1).tolist() == [207, 207]
    assert [row[0]['label'] for row in result] == ['golden retriever', 'golden retriever']
    assert classify(digits(1), top_k=1, dataset='imagenet')[0][0]['label'] == 'golden retriever'
    from mindformers.dataset.labels import labels  # pylint: disable=import-outside-toplevel
    assert len(labels['imagenet']) == 1000 and labels['imagenet'][0] == 'tench'
    assert labels['imagenet'][999] == 'toilet tissue'
    model.config.id2label = {i: f'class {i}' for i in range(1000)}      # the config's names still win
    assert classify(digits(1), top_k=1)[0][0]['label'] == 'class 207'


@pytest.mark.parametrize('kwargs, message', [
    (dict(), 'needs an image processor'),
    (dict(image_processor='vit'), 'image_processor must be an image processor'),
    (dict(image_processor=ViTImageProcessor(**PROCESSOR), top_k=0), 'top_k must be a positive integer'),
    (dict(image_processor=ViTImageProcessor(**PROCESSOR), dataset='imagenet22k'), "unknown dataset 'imagenet22k'"),
    (dict(image_processor=ViTImageProcessor(**PROCESSOR), temperature=2), r"unknown arguments \['temperature'\]"),
])
def test_bad_arguments_are_one_line(model, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        pipeline('image_classification', model=model, **kwargs)


def test_text_tasks_reject_an_image_processor(model):
    with pytest.raises(ConfigError, match="pipeline\\('text_classification'\\) is a text task"):
        pipeline('text_classification', model=model, image_processor=ViTImageProcessor())


def test_a_hugging_face_directory_classifies_as_transformers_does(tmp_path):
    torch = pytest.importorskip('torch', reason='needs torch==2.13.0 (pip install -e .[test])')
    transformers = pytest.importorskip('transformers', reason='needs transformers (pip install -e .[test])')
    torch.manual_seed(0)
    config = transformers.ViTConfig(image_size=28, patch_size=7, num_channels=1, hidden_size=32, num_hidden_layers=1,
                                    num_attention_heads=4, intermediate_size=64, num_labels=3,
                                    id2label={0: 'cat', 1: 'dog', 2: 'eel'}, label2id={'cat': 0, 'dog': 1, 'eel': 2})
    hf = transformers.ViTForImageClassification(config).eval()
    with torch.no_grad():
        for param in hf.parameters():
            param.normal_(0, 0.3)
    hf.save_pretrained(tmp_path)
    hf_processor = transformers.ViTImageProcessor(size={'height': 28, 'width': 28}, image_mean=[0.5],
                                                  image_std=[0.5])
    hf_processor.save_pretrained(tmp_path)
    image = (np.random.default_rng(3).random((40, 30)) * 255).astype(np.uint8)   # not square: resized, not cropped
    result = pipeline('image_classification', model=str(tmp_path))(image)
    pixels = hf_processor(image[..., None], return_tensors='pt', input_data_format='channels_last')['pixel_values']
    with torch.no_grad():
        probs = torch.softmax(hf(pixels).logits, -1)[0].numpy()
    assert [item['label'] for item in result[0]] == [config.id2label[i] for i in np.argsort(-probs)]
    np.testing.assert_allclose([item['score'] for item in result[0]], np.sort(probs)[::-1], rtol=1e-5)
