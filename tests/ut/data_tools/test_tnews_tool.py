"""pangualpha/tnews_data_process.py: candidate prompts per TNEWS example (the true label among random others), the
loss mask over the sentence, seeded shots, and bad input as one line with exit 2."""
import json

import numpy as np
import pytest

from adgen_data import train_pangu_tokenizer
from mindformers import PanguAlphaTokenizer
from mindformers.tools.dataset_preprocess.pangualpha.tnews_data_process import (prompt_examples, read_tnews,
                                                                              shot_examples, EN2ZH_LABEL_MAP)
from mindformers.tools.errors import DatasetError

from data_tool_helpers import run_script

TOOL = 'mindformers/tools/dataset_preprocess/pangualpha/tnews_data_process.py'
LABELS = ['news_sports', 'news_finance', 'news_tech', 'news_game', 'news_car']
SENTENCES = ['足球比赛的冠军', '银行利率上调', '手机芯片发布', '玩家通关副本', '新车油耗很低']


@pytest.fixture(name='files', scope='module')
def fixture_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp('tnews')
    rows = [{'label_desc': label, 'sentence': sentence} for label, sentence in zip(LABELS, SENTENCES)] * 2
    (folder / 'dev.json').write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows),
                                     encoding='utf-8')
    lines = [f'这是关于{EN2ZH_LABEL_MAP[label]}的文章：{s}' for label, s in zip(LABELS, SENTENCES)] * 5
    return {'folder': folder, 'dev': str(folder / 'dev.json'),
            'vocab': train_pangu_tokenizer(folder / 'vocab.model', lines, vocab_size=340)}


def test_each_example_is_num_labels_candidates_with_the_true_one_marked(files):
    tokenizer = PanguAlphaTokenizer(files['vocab'])
    examples = read_tnews(files['dev'], EN2ZH_LABEL_MAP)
    assert examples[0] == ('足球比赛的冠军', '体育')
    rows = list(prompt_examples(examples, tokenizer, '', '这是关于{}的文章：{}', 24, 4, np.random.default_rng(2)))
    assert len(rows) == 10
    for (sentence, label), row in zip(examples, rows):
        ids, mask = row['input_ids'].reshape(4, 24), row['attention_mask'].reshape(4, 24)
        texts = [tokenizer.decode([int(i) for i in r if i != tokenizer.pad_token_id]) for r in ids]
        assert len(set(texts)) == 4 and all(text.endswith(sentence) for text in texts)
        assert texts[int(row['labels'][0])] == f'这是关于{label}的文章：{sentence}'
        for candidate, marks in zip(ids, mask):   # the mask covers the sentence's ids, not the prompt's
            assert tokenizer.decode([int(i) for i in candidate[marks == 1]]) == sentence


def test_shots_are_seeded_and_balanced_over_labels(files):
    examples = read_tnews(files['dev'], EN2ZH_LABEL_MAP)
    one = shot_examples(examples, 5, np.random.default_rng(2), '这是关于{}的文章：{}')
    assert one == shot_examples(examples, 5, np.random.default_rng(2), '这是关于{}的文章：{}')
    assert one.count('\n') == 5 and {EN2ZH_LABEL_MAP[label] in one for label in LABELS} == {True}
    assert shot_examples(examples, 0, np.random.default_rng(2), '{}{}') == ''


def test_the_command_writes_the_three_columns(files, tmp_path):
    out = tmp_path / 'tnews.mindrecord'
    result = run_script(TOOL, *['--input_file', files['dev'], '--output_file', str(out), '--vocab_file',
                               files['vocab'], '--max_length', '32', '--n_shot', 'one_shot'])
    assert result.returncode == 0, result.stderr[-2000:]
    import mindspore.dataset as ds  # pylint: disable=import-outside-toplevel
    row = next(ds.MindDataset(str(out), shuffle=False).create_dict_iterator(output_numpy=True, num_epochs=1))
    assert row['input_ids'].shape == row['attention_mask'].shape == (128,) and row['labels'].shape == (1,)


@pytest.mark.parametrize('line, args, message', [
    ({'label_desc': 'news_sports'}, [], "line 1 has no 'sentence' and 'label_desc' keys"),
    ({'label_desc': 'news_weather', 'sentence': 'x'}, [], "label 'news_weather' has no Chinese name"),
    ({'label_desc': 'news_sports', 'sentence': 'x'}, [], 'the data has 1 labels'),
    ({'label_desc': 'news_sports', 'sentence': 'x'}, ['--prompt_text', '关于{}'], "must hold two '{}'"),
])
def test_bad_input_is_one_line_exit_2(files, tmp_path, line, args, message, capsys):
    from mindformers.tools.dataset_preprocess.cli import run_cli  # pylint: disable=import-outside-toplevel
    from mindformers.tools.dataset_preprocess.pangualpha.tnews_data_process import \
        main  # pylint: disable=import-outside-toplevel
    data = tmp_path / 'bad.json'
    data.write_text(json.dumps(line, ensure_ascii=False) + '\n', encoding='utf-8')
    argv = ['--input_file', str(data), '--output_file', str(tmp_path / 'o.mindrecord'), '--vocab_file',
            files['vocab']] + args
    assert run_cli('tnews_data_process.py', main, argv) == 2     # the script's exit code (run_cli's return)
    err = capsys.readouterr().err
    assert message in err and err.count('\n') == 1, err
    with pytest.raises(DatasetError, match='line 1 is not JSON'):
        data.write_text('{broken\n', encoding='utf-8')
        read_tnews(str(data), EN2ZH_LABEL_MAP)
