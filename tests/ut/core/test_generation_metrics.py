"""ADGENMetric and EmF1Metric: per-pair scores equal the reference libraries' (jieba + rouge_chinese, nltk BLEU with
method3 smoothing), averaged as upstream; EmF1 follows upstream's documented example."""
import jieba
import numpy as np
import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from rouge_chinese import Rouge

from mindformers.core.metric import ADGENMetric, EmF1Metric, build_metric
from mindformers.core.metric.text_generation_metrics import longest_common_substring
from mindformers.tools.errors import ConfigError

PAIRS = [('这款红色裙，简约的设计，条纹图案很好看。', '这款红色裙，简约的设计，条纹图案很好看。'),
         ('这款蓝色裤，复古的设计。', '这款蓝色外套，复古的设计，格子图案很好看。'),
         ('白色上衣', '这款黑色上衣，休闲的设计，印花图案很好看。')]


def _reference(prediction, label):
    scores = Rouge().get_scores(' '.join(jieba.cut(prediction)), ' '.join(jieba.cut(label)))[0]
    bleu = sentence_bleu([list(label)], list(prediction), smoothing_function=SmoothingFunction().method3)
    return {'rouge-1': scores['rouge-1']['f'] * 100, 'rouge-2': scores['rouge-2']['f'] * 100,
            'rouge-l': scores['rouge-l']['f'] * 100, 'bleu-4': bleu * 100}


def test_adgen_scores_are_the_mean_of_the_reference_pair_scores():
    metric = build_metric({'type': 'ADGENMetric'})
    metric.clear()
    metric.update([p for p, _ in PAIRS[:2]], [l for _, l in PAIRS[:2]])
    metric.update([PAIRS[2][0]], [PAIRS[2][1]])
    result = metric.eval()
    references = [_reference(p, l) for p, l in PAIRS]
    for key in ADGENMetric.KEYS:
        assert result[key] == pytest.approx(np.mean([r[key] for r in references]), abs=1e-3)   # rounded to 1e-4
    assert references[0]['bleu-4'] == pytest.approx(100.0) and references[1]['bleu-4'] < 60
    assert 0 < result['rouge-2'] < result['rouge-1'] < 100


def test_an_empty_prediction_is_skipped_and_clear_starts_over():
    metric = ADGENMetric()
    metric.update(['', PAIRS[1][0]], ['这款', PAIRS[1][1]])
    assert metric.eval()['bleu-4'] == pytest.approx(_reference(*PAIRS[1])['bleu-4'], abs=1e-3)
    metric.clear()
    metric.update([''], ['这款'])
    with pytest.raises(RuntimeError, match='no non-empty prediction'):
        metric.eval()
    with pytest.raises(ConfigError, match='takes decoded strings'):
        metric.update([np.array([1, 2])], ['这款'])


def test_em_f1_matches_upstreams_documented_example():
    metric = EmF1Metric()
    metric.clear()
    for prediction, label in zip(["I love Beijing, because it's beautiful", 'Hello world。'],
                                 ['I love Beijing.', 'Hello world']):
        metric.update([prediction], [label])
    assert metric.eval() == pytest.approx({'F1': 75.0, 'Em': 50.0})


def test_em_f1_on_chinese_answers_cuts_at_the_first_newline_and_ignores_punctuation():
    metric = EmF1Metric()
    metric.update(['郑州市。\n河南的省会', '郑州'], ['郑州市', '郑州市'])
    result = metric.eval()
    # exact for the first; the second shares 2 of the 3 characters: P 1, R 2/3, F1 0.8
    assert result == pytest.approx({'F1': (100 + 80) / 2, 'Em': 50.0})


def test_common_run_is_contiguous_not_a_subsequence():
    assert longest_common_substring(list('abcxd'), list('abcd')) == 3
    assert longest_common_substring(list('axbxc'), list('abc')) == 1
