"""pipeline('text_classification') on a tiny GPT2ForSequenceClassification with the real GPT-2 vocabulary:
softmax scores of the model's logits, best first, label names, top_k, padding that changes nothing."""
import os

import mindspore as ms
import numpy as np
import pytest

from mindformers import GPT2Config, GPT2ForSequenceClassification, GPT2Tokenizer, pipeline
from mindformers.tools.errors import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GPT2_DIR = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'tokenizers', 'gpt2')
TEXTS = ["Call me Ishmael.", "It is a truth universally acknowledged, that a single man in possession of a good "
         "fortune, must be in want of a wife."]


@pytest.fixture(scope='module', name='parts')
def fixture_parts():
    if not os.path.isdir(GPT2_DIR):
        pytest.skip(f"the real GPT-2 vocabulary (../shared/data/tokenizers/gpt2) is not at {GPT2_DIR}")
    previous = ms.get_context('mode')
    ms.set_context(mode=ms.PYNATIVE_MODE)
    ms.set_seed(0)
    tokenizer = GPT2Tokenizer.from_pretrained(GPT2_DIR)
    config = GPT2Config(seq_length=40, hidden_size=32, num_layers=2, num_heads=4, num_labels=3,
                        compute_dtype='float32', hidden_dropout_rate=0.0, attention_dropout_rate=0.0,
                        embedding_dropout_prob=0.0)
    model = GPT2ForSequenceClassification(config)
    model.set_train(False)
    yield model, tokenizer
    ms.set_context(mode=previous)


def softmax_of_unpadded_logits(model, tokenizer, text):
    ids = np.asarray([tokenizer(text)['input_ids']], np.int32)
    logits = model(ms.Tensor(ids), ms.Tensor(np.ones_like(ids))).asnumpy().astype(np.float64)[0]
    return np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()


def test_scores_are_the_softmax_of_the_logits_at_the_last_real_token_best_first(parts):
    model, tokenizer = parts
    classifier = pipeline('text_classification', model=model, tokenizer=tokenizer)
    out = classifier(TEXTS[1])
    probs = softmax_of_unpadded_logits(model, tokenizer, TEXTS[1])   # no padding at all
    assert [item['label'] for item in out[0]] == [f'LABEL_{i}' for i in np.argsort(-probs)]
    assert np.allclose([item['score'] for item in out[0]], np.sort(probs)[::-1], atol=1e-6)
    assert sum(item['score'] for item in out[0]) == pytest.approx(1.0, abs=1e-6)


def test_list_inputs_give_one_result_per_text_and_top_k_trims(parts):
    model, tokenizer = parts
    classifier = pipeline('text_classification', model=model, tokenizer=tokenizer)
    out = classifier(TEXTS, batch_size=2, top_k=1)
    assert len(out) == 2 and all(len(scores) == 1 for scores in out)
    for text, scores in zip(TEXTS, out):
        probs = softmax_of_unpadded_logits(model, tokenizer, text)
        assert scores[0] == {'label': f'LABEL_{int(np.argmax(probs))}', 'score': pytest.approx(probs.max(), abs=1e-6)}


def test_label_names_come_from_the_config_id2label(parts):
    model, tokenizer = parts
    model.config.id2label = {0: 'austen', 1: 'melville', 2: 'other'}
    try:
        out = pipeline('text_classification', model=model, tokenizer=tokenizer)(TEXTS[0])
    finally:
        del model.config.id2label
    assert sorted(item['label'] for item in out[0]) == ['austen', 'melville', 'other']


def test_dataset_label_names_must_match_the_model(parts):
    model, tokenizer = parts
    classifier = pipeline('text_classification', model=model, tokenizer=tokenizer)
    with pytest.raises(ConfigError, match="dataset 'sst_2' has 2 labels but the model predicts 3"):
        classifier(TEXTS[0], dataset='sst_2')
    with pytest.raises(ConfigError, match="unknown dataset 'qnli'"):
        classifier(TEXTS[0], dataset='qnli')
    names = sorted(item['label'] for item in classifier(TEXTS[0], dataset='mnli')[0])   # 3 classes: MNLI's names
    assert names == ['contradiction', 'entailment', 'neutral']
    with pytest.raises(ConfigError, match=r"unknown arguments \['max_new_tokens'\]"):
        classifier(TEXTS[0], max_new_tokens=3)


def test_the_pipeline_needs_a_tokenizer(parts):
    model, _ = parts
    with pytest.raises(ConfigError, match='needs a tokenizer'):
        pipeline('text_classification', model=model)


BERT_VOCAB = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'tokenizers', 'bert_uncased', 'vocab.txt')


def test_sentence_pairs_reach_a_bert_classifier_with_their_segments():
    if not os.path.isfile(BERT_VOCAB):
        pytest.skip(f"the BERT uncased vocabulary (../shared/data/tokenizers/bert_uncased) is not at {BERT_VOCAB}")
    from mindformers import BertConfig, BertForSequenceClassification, BertTokenizer  # pylint: disable=C0415
    previous = ms.get_context('mode')
    ms.set_context(mode=ms.PYNATIVE_MODE)
    try:
        ms.set_seed(0)
        tokenizer = BertTokenizer(vocab_file=BERT_VOCAB)
        model = BertForSequenceClassification(BertConfig(
            seq_length=32, vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
            num_attention_heads=4, intermediate_size=64, num_labels=3, hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0, max_position_embeddings=32, initializer_range=0.5))
        model.set_train(False)
        classifier = pipeline('text_classification', model=model, tokenizer=tokenizer)
        pair = {'text': 'The whale rose from the sea.', 'text_pair': 'Emma walked to Hartfield.'}
        out = classifier([pair, pair], batch_size=2)
        encoded = tokenizer(pair['text'], text_pair=pair['text_pair'])
        assert encoded['token_type_ids'].count(1) == len(tokenizer.tokenize(pair['text_pair'])) + 1
        args = [ms.Tensor(np.asarray([encoded[key]], np.int32))
                for key in ('input_ids', 'attention_mask', 'token_type_ids')]
        logits = model(*args).asnumpy().astype(np.float64)[0]   # unpadded, segments given
        probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        assert out[0] == out[1]
        assert [item['label'] for item in out[0]] == [f'LABEL_{i}' for i in np.argsort(-probs)]
        assert np.allclose([item['score'] for item in out[0]], np.sort(probs)[::-1], atol=1e-6)
        flat = classifier(pair['text'] + ' ' + pair['text_pair'])   # one segment: other numbers
        assert not np.allclose(sorted(i['score'] for i in flat[0]), sorted(i['score'] for i in out[0]), atol=1e-3)
        with pytest.raises(ConfigError, match="a sentence pair is"):
            classifier({'text': 'a', 'pair': 'b'})
        with pytest.raises(ConfigError, match='inputs must be a string'):
            classifier(['a', {'text': 'a', 'text_pair': 'b'}], batch_size=2)
    finally:
        ms.set_context(mode=previous)
