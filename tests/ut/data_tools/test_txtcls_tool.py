"""gpt2/txtcls_dataset_to_mindrecord.py: the four upstream input formats, header handling, bad lines as one error
with the line number, and the command line (bad flags: one line, exit 2)."""
import pytest

from mindformers.tools.dataset_preprocess.gpt2.txtcls_dataset_to_mindrecord import read_examples
from mindformers.tools.errors import DatasetError

from data_tool_helpers import run_script

TOOL = 'mindformers/tools/dataset_preprocess/gpt2/txtcls_dataset_to_mindrecord.py'


def test_sst_2_is_sentence_tab_label_after_a_header():
    text = "sentence\tlabel\nit 's a charming journey \t1\nan unsettling , dull film\t0\n\n"
    assert read_examples('sst_2', text) == [("it 's a charming journey", 1), ('an unsettling , dull film', 0)]
    assert read_examples('sst_2', "a\t1\nb\t0\n", header=False) == [('a', 1), ('b', 0)]


def test_cola_takes_the_label_and_the_sentence_of_four_columns():
    text = "gj04\t1\t\tOur friends won't buy this analysis, let alone the next one we propose.\n" \
           "gj04\t0\t*\tThey drank the pub.\n"
    assert read_examples('cola', text, header=False) == [
        ("Our friends won't buy this analysis, let alone the next one we propose.", 1), ('They drank the pub.', 0)]


def test_ag_news_joins_title_and_description_and_counts_classes_from_zero():
    text = '"3","Wall St. Bears Claw Back","Reuters - Short-sellers, Wall Street\'s dwindling band"\n' \
           '"4","Hacker, Cracker","A ""quoted"" word"\n'
    assert read_examples('ag_news', text, header=False) == [
        ("Wall St. Bears Claw Back. Reuters - Short-sellers, Wall Street's dwindling band", 2),
        ('Hacker, Cracker. A "quoted" word', 3)]


def test_imdb_reads_csv_reviews_with_commas_and_sentiment_words():
    text = 'review,sentiment\n"One of the best, truly.",positive\nDull and slow,negative\n'
    assert read_examples('imdb', text) == [('One of the best, truly.', 1), ('Dull and slow', 0)]


@pytest.mark.parametrize('name, text, message', [
    ('sst_2', 'sentence\tlabel\ngood\tyes\n', "line 2: label 'yes' is not an integer >= 0"),
    ('sst_2', 'sentence\tlabel\nno label here\n', 'line 2: sst_2 needs 2 fields, got 1'),
    ('ag_news', '"0","t","d"\n', "line 1: label '0' is not an integer >= 1"),
    ('imdb', 'review,sentiment\nfine,neutral\n', "line 2: imdb sentiment must be positive or negative"),
    ('cola', 'sentence\n', 'no cola example found after the header line'),
])
def test_bad_input_names_the_line(name, text, message):
    with pytest.raises(DatasetError, match=message):
        read_examples(name, text, header=name != 'ag_news')


def test_command_line_errors_are_one_line_exit_2(tmp_path, capsys):
    from mindformers.tools.dataset_preprocess.cli import run_cli  # pylint: disable=import-outside-toplevel
    from mindformers.tools.dataset_preprocess.gpt2.txtcls_dataset_to_mindrecord import \
        main  # pylint: disable=import-outside-toplevel
    (tmp_path / 'in.tsv').write_text('sentence\tlabel\ngood\tmaybe\n', encoding='utf-8')
    # the script as a user runs it (argparse's own error path), once
    result = run_script(TOOL, '--dataset_name', 'mnli', '--input_file', 'x', '--output_file', 'o')
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and 'invalid choice' in lines[0], result.stderr
    # the project's errors go through the same run_cli wrapper the script's __main__ calls: in-process
    cases = [
        (['--dataset_name', 'sst_2', '--input_file', tmp_path / 'in.tsv', '--output_file', tmp_path / 'o.mindrecord',
          '--header', 'maybe'], "--header must be True or False, got 'maybe'"),
        (['--dataset_name', 'sst_2', '--input_file', tmp_path / 'in.tsv', '--output_file', tmp_path / 'o.mindrecord'],
         "line 2: label 'maybe' is not an integer >= 0"),
        (['--dataset_name', 'sst_2', '--input_file', tmp_path / 'missing.tsv', '--output_file',
          tmp_path / 'o.mindrecord'], 'cannot read'),
    ]
    for args, message in cases:
        assert run_cli('txtcls_dataset_to_mindrecord.py', main, [str(a) for a in args]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith('txtcls_dataset_to_mindrecord.py: error:') and \
            message in lines[0], lines
    assert not (tmp_path / 'o.mindrecord').exists()
