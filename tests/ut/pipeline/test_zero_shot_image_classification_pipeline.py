"""pipeline('zero_shot_image_classification') on a tiny random CLIP: each image's scores are the softmax of the
model's logits against the filled-in templates, sorted best first, with top_k; the task trainers' modes that do
not exist say so in one line."""
import gzip

import numpy as np
import pytest
from mindspore import Tensor

from mindformers import (CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer,
                         ContrastiveLanguageImagePretrainTrainer, ZeroShotImageClassificationTrainer, pipeline)
from mindformers.tools.errors import ConfigError, NotAvailableError
from tests.ut.dataset.test_clip_datasets import MERGES

pytestmark = pytest.mark.usefixtures("pynative")
LABELS = ['zero', 'one', 'two']


@pytest.fixture(name='parts', scope='module')
def fixture_parts(tmp_path_factory):
    path = tmp_path_factory.mktemp('clip') / 'bpe.txt.gz'
    with gzip.open(path, 'wt', encoding='utf-8') as stream:
        stream.write('header\n' + '\n'.join(MERGES) + '\n')
    tokenizer = CLIPTokenizer(vocab_file=str(path), pad_token='!')
    config = CLIPConfig(text_config=dict(vocab_size=tokenizer.vocab_size, hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=12),
                        vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                           num_attention_heads=2, image_size=12, patch_size=4, num_channels=1),
                        projection_dim=8, dtype='float32', logit_scale_init_value=3.0)
    model = CLIPModel(config)
    model.set_train(False)
    processor = CLIPImageProcessor(image_resolution=12, num_channels=1, mean=[0.5], std=[0.25])
    return model, tokenizer, processor


def images(count=4):
    return list(np.random.default_rng(0).integers(0, 256, size=(count, 12, 12), dtype=np.uint8))


def test_scores_are_the_softmax_of_the_models_logits(parts):
    model, tokenizer, processor = parts
    classifier = pipeline('zero_shot_image_classification', model=model, tokenizer=tokenizer,
                          image_processor=processor)
    inputs = images()
    answers = classifier(inputs, batch_size=2, candidate_labels=LABELS, hypothesis_template='the {}')
    ids = tokenizer([f'the {label}' for label in LABELS], max_length=12, padding='max_length')['input_ids']
    logits, _ = model(processor(inputs), Tensor(np.array(ids, np.int32)))
    logits = logits.asnumpy().astype(np.float64)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    assert probs.max() - probs.min() > 1e-3       # the labels get different scores
    assert len(answers) == 4
    for answer, row in zip(answers, probs):
        assert [a['label'] for a in answer] == [LABELS[i] for i in np.argsort(-row)]
        np.testing.assert_allclose([a['score'] for a in answer], np.sort(row)[::-1], atol=1e-6)
    top = classifier(inputs[0], candidate_labels=LABELS, hypothesis_template='the {}', top_k=2)
    assert len(top) == 1 and [a['label'] for a in top[0]] == [a['label'] for a in answers[0][:2]]
    # batch 1 instead of 2: the same scores up to float32 rounding of the matmuls
    np.testing.assert_allclose([a['score'] for a in top[0]], [a['score'] for a in answers[0][:2]], atol=1e-6)


def test_pipeline_errors_are_one_line(parts):
    model, tokenizer, processor = parts
    classifier = pipeline('zero_shot_image_classification', model=model, tokenizer=tokenizer,
                          image_processor=processor)
    with pytest.raises(ConfigError, match='candidate_labels must be a non-empty list'):
        classifier(images(1), candidate_labels=[])
    with pytest.raises(ConfigError, match='give candidate_labels'):
        classifier(images(1))
    with pytest.raises(ConfigError, match='hypothesis_template must be a string with {}'):
        classifier(images(1), candidate_labels=LABELS, hypothesis_template='no slot')
    with pytest.raises(ConfigError, match='needs tokenizer='):
        pipeline('zero_shot_image_classification', model=model, image_processor=processor)


def test_trainer_modes_upstream_does_not_have_are_one_line():
    with pytest.raises(NotAvailableError, match='does not train'):
        ZeroShotImageClassificationTrainer().train()
    with pytest.raises(NotAvailableError, match='has no evaluation'):
        ContrastiveLanguageImagePretrainTrainer().evaluate()
    with pytest.raises(NotAvailableError, match='has no prediction'):
        ContrastiveLanguageImagePretrainTrainer().predict()
