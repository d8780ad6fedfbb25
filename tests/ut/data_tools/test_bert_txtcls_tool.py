"""bert/txtcls_dataset_to_mindrecord.py: rows equal to what transformers.BertTokenizer gives for single texts and
pairs (longest side cut first), the MNLI and pair formats, labels checked against --num_labels, and the command
line's one-line errors (exit 2, nothing written)."""
import os

import numpy as np
import pytest

from mindformers.tools.dataset_preprocess.bert.txtcls_dataset_to_mindrecord import (check_labels, encode_example,
                                                                                    encode_examples, main,
                                                                                    read_examples)
from mindformers.tools.dataset_preprocess.cli import run_cli
from mindformers.tools.errors import ConfigError, DatasetError

VOCAB = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'shared', 'data', 'tokenizers',
                     'bert_uncased', 'vocab.txt')
MNLI = ("index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
        "sentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n"
        "0\t1\t1n\tgov\t(x)\t(y)\t(X)\t(Y)\tConceptually cream skimming has two basic dimensions.\t"
        "Product and geography are what make cream skimming work.\tneutral\tneutral\n"
        "1\t2\t2e\ttel\t(x)\t(y)\t(X)\t(Y)\tyou know during the season.\tYou lose the things.\tentailment\t"
        "entailment\n")


@pytest.fixture(name='tokenizers', scope='module')
def fixture_tokenizers():
    transformers = pytest.importorskip('transformers', reason='the reference tokenizer needs transformers')
    if not os.path.isfile(VOCAB):
        pytest.skip(f"needs ../shared/data/tokenizers/bert_uncased/vocab.txt ({VOCAB} is missing)")
    from mindformers import BertTokenizer  # pylint: disable=import-outside-toplevel
    return BertTokenizer(vocab_file=VOCAB), transformers.BertTokenizer(VOCAB)


@pytest.mark.parametrize('text_a, text_b, length', [
    ("Hello, World! Café au lait.", None, 16),
    ("A very long first sentence that goes on and on about the whale and the sea.", "Short one.", 16),
    ("Short.", "The second side is the long one here, so it is the side that gets cut first.", 12),
    ("中文 mixed with English", "naïve résumé", 32),
])
def test_rows_match_transformers_bert_tokenizer(tokenizers, text_a, text_b, length):
    ours, reference = tokenizers
    row = encode_example(ours, text_a, text_b, 1, length)
    expected = reference(text_a, text_b, max_length=length, padding='max_length', truncation='longest_first')
    assert row['input_ids'].tolist() == expected['input_ids']
    assert row['segment_ids'].tolist() == expected['token_type_ids']
    assert row['input_mask'].tolist() == expected['attention_mask']
    assert row['label_ids'].tolist() == [1] and all(v.dtype == np.int64 for v in row.values())


def test_mnli_reads_the_sentence_columns_and_gold_labels_by_header():
    assert read_examples('mnli', MNLI) == [
        ("Conceptually cream skimming has two basic dimensions.",
         "Product and geography are what make cream skimming work.", 2),
        ("you know during the season.", "You lose the things.", 1)]


def test_pair_and_single_formats():
    assert read_examples('pair', "a\tb\tlabel\nfirst\tsecond\t3\n") == [('first', 'second', 3)]
    assert read_examples('sst_2', "sentence\tlabel\ngood film\t1\n") == [('good film', None, 1)]


@pytest.mark.parametrize('name, text, message', [
    ('mnli', MNLI.replace('\tneutral\n', '\tmaybe\n', 1), "line 2: mnli gold_label 'maybe' is not one of"),
    ('mnli', 'a\tb\n', "line 1: the MNLI header has no column"),
    ('pair', 'a\tb\tl\nonly\ttwo\n', 'line 2: pair needs 3 fields'),
    ('pair', 'a\tb\tl\nx\ty\tz\n', "line 2: label 'z' is not an integer >= 0"),
])
def test_bad_input_names_the_line(name, text, message):
    with pytest.raises(DatasetError, match=message):
        read_examples(name, text)


def test_labels_must_fit_num_labels():
    check_labels([('a', None, 0), ('b', None, 1)], 2)
    with pytest.raises(DatasetError, match='example 2: label 2 is out of range for --num_labels 2'):
        check_labels([('a', None, 0), ('b', None, 2)], 2)


def test_max_seq_length_must_leave_room_for_text(tokenizers):
    with pytest.raises(ConfigError, match='--max_seq_length 3 leaves no room'):
        encode_examples(tokenizers[0], [('a', 'b', 0)], 3)


def test_command_line_errors_are_one_line_exit_2_and_write_nothing(tmp_path, capsys):
    (tmp_path / 'in.tsv').write_text('sentence\tlabel\ngood\t1\nbad\t2\n', encoding='utf-8')
    out = tmp_path / 'out.mindrecord'
    code = run_cli('txtcls_dataset_to_mindrecord.py', main,
                   ['--dataset_name', 'sst_2', '--input_file', str(tmp_path / 'in.tsv'), '--output_file', str(out),
                    '--num_labels', '2', '--vocab_file', str(tmp_path / 'missing.txt')])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and 'label 2 is out of range for --num_labels 2' in err[0]
    assert not out.exists()
    code = run_cli('txtcls_dataset_to_mindrecord.py', main,
                   ['--dataset_name', 'sst_2', '--input_file', str(tmp_path / 'in.tsv'), '--output_file', str(out),
                    '--vocab_file', str(tmp_path / 'missing.txt')])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and 'missing.txt' in err[0] and 'is not a file' in err[0]
    assert not out.exists()
