"""llama_preprocess.py: wiki and qa MindRecord schemas, exact rows and label masking, one-line errors."""
import json
import os

import numpy as np
import pytest
from mindspore.mindrecord import FileReader

from mindformers.models.llama.llama_tokenizer import LlamaTokenizer
from mindformers.tools.dataset_preprocess.cli import run_cli
from mindformers.tools.dataset_preprocess.llama import llama_preprocess
from mindformers.tools.dataset_preprocess.llama.conversation import get_default_conv_template
from mindformers.tools.errors import DatasetError

from data_tool_helpers import CONVERTER, PREPROCESS, run_script

SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
          "detailed, and polite answers to the user's questions.")
IGNORE = -100


def read_mindrecord(path):
    reader = FileReader(path)
    try:
        schema = reader.schema()
        rows = [{key: np.asarray(value) for key, value in row.items()} for row in reader.get_next()]
    finally:
        reader.close()
    return schema, rows


@pytest.fixture(name='tokenizer', scope='module')
def fixture_tokenizer(quickstart):
    return LlamaTokenizer(quickstart['model_file'], add_bos_token=True, add_eos_token=True)


def ids(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)['input_ids']


def conversation(*turns):
    return [{'from': 'human' if i % 2 == 0 else 'gpt', 'value': text} for i, text in enumerate(turns)]


# ---------------------------------------------------------------- qa rows, worked out by hand
def test_vicuna_template_renders_rounds():
    conv = get_default_conv_template()
    conv.append_message('USER', 'q1')
    conv.append_message('ASSISTANT', 'a1')
    conv.append_message('USER', 'q2')
    conv.append_message('ASSISTANT', None)
    assert conv.get_prompt() == SYSTEM + " USER: q1 ASSISTANT: a1</s>USER: q2 ASSISTANT:"


def test_one_round_labels_keep_only_the_answer_and_its_eos(tokenizer):
    messages = conversation("What color is the zorb?", "red")
    input_ids, labels, lined_up, truncated = llama_preprocess.conversation_to_row(messages, tokenizer, 160)
    instruction = ids(tokenizer, SYSTEM + " USER: What color is the zorb? ASSISTANT:")
    answer = ids(tokenizer, "red")
    # <s> instruction answer </s>(closing the round) </s>(added by the tokenizer) padding
    real = [1] + instruction + answer + [2, 2]
    assert input_ids == real + [0] * (160 - len(real))
    assert labels == [IGNORE] * (1 + len(instruction)) + answer + [2, 2] + [IGNORE] * (160 - len(real))
    assert (lined_up, truncated) == (True, False)
    first_kept = 1 + len(instruction)
    assert tokenizer.decode(input_ids[1:first_kept]) == SYSTEM + " USER: What color is the zorb? ASSISTANT:"
    assert tokenizer.decode(input_ids[first_kept:first_kept + len(answer)]) == 'red'


def test_two_rounds_mask_both_instructions(tokenizer):
    messages = conversation("Repeat these words.", "apple river", "What is the last word?", "river")
    input_ids, labels, lined_up, _ = llama_preprocess.conversation_to_row(messages, tokenizer, 200)
    first = ids(tokenizer, SYSTEM + " USER: Repeat these words. ASSISTANT:")
    second = ids(tokenizer, "USER: What is the last word? ASSISTANT:")
    answer1, answer2 = ids(tokenizer, "apple river"), ids(tokenizer, "river")
    real = [1] + first + answer1 + [2] + second + answer2 + [2] + [2]
    assert lined_up
    assert input_ids == real + [0] * (200 - len(real))
    assert labels == ([IGNORE] * (1 + len(first)) + answer1 + [2] + [IGNORE] * len(second) + answer2 + [2, 2]
                      + [IGNORE] * (200 - len(real)))


def test_a_tokenizer_that_adds_no_eos_gets_no_final_eos(quickstart):
    tokenizer = LlamaTokenizer(quickstart['model_file'])  # add_eos_token=False
    input_ids, labels, lined_up, _ = llama_preprocess.conversation_to_row(conversation("q", "red"), tokenizer, 160)
    instruction = ids(tokenizer, SYSTEM + " USER: q ASSISTANT:")
    real = [1] + instruction + ids(tokenizer, "red") + [2]
    assert lined_up
    assert input_ids == real + [0] * (160 - len(real))
    assert labels == [IGNORE] * (1 + len(instruction)) + ids(tokenizer, "red") + [2] + [IGNORE] * (160 - len(real))


def test_a_leading_gpt_message_is_dropped(tokenizer):
    with_greeting = [{'from': 'gpt', 'value': 'Hello!'}] + conversation("q", "a")
    assert llama_preprocess.conversation_to_row(with_greeting, tokenizer, 160) == \
        llama_preprocess.conversation_to_row(conversation("q", "a"), tokenizer, 160)


def test_rows_that_do_not_line_up_are_fully_ignored(tokenizer):
    # "</s>" inside a message splits the text where the rounds do not
    input_ids, labels, lined_up, _ = llama_preprocess.conversation_to_row(
        conversation("say </s> twice", "ok"), tokenizer, 160)
    assert not lined_up
    assert labels == [IGNORE] * 160
    assert input_ids[0] == 1 and 0 in input_ids


def test_long_conversations_are_cut_keeping_the_final_eos(tokenizer):
    input_ids, labels, _, truncated = llama_preprocess.conversation_to_row(
        conversation("What color is the zorb?", "red"), tokenizer, 20)
    assert truncated
    assert len(input_ids) == len(labels) == 20
    assert input_ids[-1] == 2 and labels[-1] == 2
    assert labels[:-1] == [IGNORE] * 19


def test_turns_out_of_order_are_a_dataset_error(tokenizer):
    with pytest.raises(DatasetError, match="message 1 is from 'human'"):
        llama_preprocess.conversation_to_row(
            [{'from': 'human', 'value': 'a'}, {'from': 'human', 'value': 'b'}], tokenizer, 40)


# ---------------------------------------------------------------- the script, end to end
def test_qa_script_writes_input_ids_and_labels_rows(quickstart, tmp_path, tokenizer):
    conversations = tmp_path / 'conversation.json'
    result = run_script(CONVERTER, '--data_path', quickstart['dir'] / 'train.json', '--output_path', conversations)
    assert result.returncode == 0, result.stderr
    output = tmp_path / 'qa.mindrecord'
    result = run_script(PREPROCESS, '--dataset_type', 'qa', '--input_glob', conversations, '--model_file',
                        quickstart['model_file'], '--seq_length', 96, '--output_file', output)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == ['Transformed 200 records.', f'Output: {output}']
    assert 'Tokenizing' in result.stderr  # the progress bar
    schema, rows = read_mindrecord(str(output))
    assert schema == {'input_ids': {'type': 'int32', 'shape': [-1]}, 'labels': {'type': 'int32', 'shape': [-1]}}
    assert len(rows) == 200
    records = json.loads(conversations.read_text(encoding='utf-8'))
    first_ids, first_labels, _, _ = llama_preprocess.conversation_to_row(records[0]['conversations'], tokenizer, 97)
    assert rows[0]['input_ids'].dtype == np.int32
    assert rows[0]['input_ids'].tolist() == first_ids
    assert rows[0]['labels'].tolist() == first_labels
    for row in rows:
        assert row['input_ids'].shape == row['labels'].shape == (97,)
        kept = row['labels'] != IGNORE
        assert kept.any()  # every generated conversation lines up
        assert (row['labels'][kept] == row['input_ids'][kept]).all()


def test_wiki_script_concatenates_paragraphs_into_exact_rows(quickstart, tmp_path, tokenizer):
    paragraphs = ["The dravok lives in the forest.", "It eats berries and seeds.\nIt is red.",
                  "What color is the zorb? The zorb is blue.", "Tell me where the zorb lives."]
    text = (" = Creatures = \n\n" + paragraphs[0] + "\n\n" + paragraphs[1] + "\n \n = = Diet = = \n\n"
            + paragraphs[2] + "\n\n\n" + paragraphs[3] + "\n")
    (tmp_path / 'wiki.txt').write_text(text, encoding='utf-8')
    output = tmp_path / 'wiki.mindrecord'
    result = run_script(PREPROCESS, '--dataset_type', 'wiki', '--input_glob', tmp_path / 'wiki.txt', '--model_file',
                        quickstart['model_file'], '--seq_length', 8, '--output_file', output)
    assert result.returncode == 0, result.stderr
    stream = [token for paragraph in paragraphs for token in tokenizer(paragraph)['input_ids']]
    expected = [stream[i:i + 9] for i in range(0, len(stream) - 8, 9)]
    assert result.stdout.splitlines()[-2] == f'Transformed {len(expected)} records.'
    schema, rows = read_mindrecord(str(output))
    assert schema == {'input_ids': {'type': 'int32', 'shape': [-1]}}
    assert [row['input_ids'].tolist() for row in rows] == expected


def test_repeat_and_file_partition_in_process(quickstart, tmp_path, capsys, tokenizer):
    (tmp_path / 'a.txt').write_text("What color is the zorb?\n\nThe zorb is blue.\n", encoding='utf-8')
    (tmp_path / 'b.txt').write_text("Tell me where the zorb lives.\n", encoding='utf-8')
    stream_length = sum(len(tokenizer(text)['input_ids']) for text in
                        ("What color is the zorb?", "The zorb is blue.", "Tell me where the zorb lives."))
    output = tmp_path / 'out' / 'wiki'
    argv = ['--input_glob', str(tmp_path / '*.txt'), '--model_file', quickstart['model_file'], '--seq_length', '4',
            '--repeat', '3', '--file_partition', '2', '--output_file', str(output)]
    assert llama_preprocess.main(argv) == 0
    assert capsys.readouterr().out.splitlines()[-2] == f"Transformed {3 * stream_length // 5} records."
    assert sorted(os.listdir(tmp_path / 'out')) == ['wiki0', 'wiki0.db', 'wiki1', 'wiki1.db']
    assert len(read_mindrecord(str(tmp_path / 'out' / 'wiki0'))[1]) == 3 * stream_length // 5


# ---------------------------------------------------------------- bad input: one line, exit code 2
def test_missing_input_file_is_exit_2_with_one_line(quickstart, tmp_path):
    result = run_script(PREPROCESS, '--dataset_type', 'qa', '--input_glob', tmp_path / 'none.json', '--model_file',
                        quickstart['model_file'], '--output_file', tmp_path / 'x.mindrecord')
    assert result.returncode == 2
    assert result.stderr == f"llama_preprocess.py: error: --input_glob {tmp_path / 'none.json'}: no such file\n"


def test_existing_output_is_exit_2_and_says_to_remove_it(quickstart, tmp_path):
    (tmp_path / 'in.txt').write_text("some text\n", encoding='utf-8')
    (tmp_path / 'x.mindrecord').write_bytes(b'old')
    result = run_script(PREPROCESS, '--input_glob', tmp_path / 'in.txt', '--model_file', quickstart['model_file'],
                        '--output_file', tmp_path / 'x.mindrecord')
    assert result.returncode == 2
    assert result.stderr == (f"llama_preprocess.py: error: output file {tmp_path / 'x.mindrecord'} already exists; "
                             f"remove it (and its .db file) or choose another --output_file\n")
    assert (tmp_path / 'x.mindrecord').read_bytes() == b'old'


@pytest.mark.parametrize('flag, value, message', [
    ('--seq_length', '0', "--seq_length must be a positive integer, got '0'"),
    ('--dataset_type', 'books', "argument --dataset_type: invalid choice: 'books' (choose from 'wiki', 'qa')"),
])
def test_bad_flag_values_are_exit_2_with_one_line(quickstart, tmp_path, flag, value, message):
    (tmp_path / 'in.txt').write_text("some text\n", encoding='utf-8')
    result = run_script(PREPROCESS, '--input_glob', tmp_path / 'in.txt', '--model_file', quickstart['model_file'],
                        '--output_file', tmp_path / 'x.mindrecord', flag, value)
    assert result.returncode == 2
    assert result.stderr == f"llama_preprocess.py: error: {message}\n"


def bad_input_cases(tmp_path, model_file, tokenizer):
    (tmp_path / 'in.txt').write_text("some text\n", encoding='utf-8')
    (tmp_path / 'bad.json').write_text('{"no": "list"}', encoding='utf-8')
    (tmp_path / 'afile').write_text('', encoding='utf-8')
    base = ['--model_file', model_file, '--output_file', str(tmp_path / 'x.mindrecord')]
    return [
        (['--input_glob', str(tmp_path / '*.tokens')] + base,
         f"--input_glob '{tmp_path / '*.tokens'}' matches no file"),
        (['--input_glob', str(tmp_path / 'in.txt'), '--model_file', str(tmp_path / 'no.model'),
          '--output_file', str(tmp_path / 'x.mindrecord')],
         f"--model_file {tmp_path / 'no.model'}: no such file (give the sentencepiece tokenizer.model)"),
        (['--input_glob', str(tmp_path / 'in.txt'), '--seq_length', 'abc'] + base,
         "--seq_length must be a positive integer, got 'abc'"),
        (['--input_glob', str(tmp_path / 'in.txt'), '--model_file', model_file,
          '--output_file', str(tmp_path / 'afile' / 'x.mindrecord')],
         f"cannot write --output_file {tmp_path / 'afile' / 'x.mindrecord'}: {tmp_path / 'afile'} is a file, "
         f"not a directory"),
        (['--input_glob', str(tmp_path / 'in.txt'), '--model_file', model_file,
          '--output_file', str(tmp_path / 'afile' / 'sub' / 'x.mindrecord')],
         f"cannot create the directory of --output_file {tmp_path / 'afile' / 'sub' / 'x.mindrecord'}: "
         f"Not a directory"),
        (['--input_glob', str(tmp_path / 'in.txt'), '--seq_length', '100'] + base,
         f"the text gives {len(tokenizer('some text')['input_ids'])} tokens, fewer than seq_length+1 = 101: "
         f"no row can be made; use more text or a smaller --seq_length"),
        (['--dataset_type', 'qa', '--input_glob', str(tmp_path / 'bad.json')] + base,
         f"{tmp_path / 'bad.json'}: expected a JSON list of {{'id', 'conversations'}} records "
         f"(alpaca_converter.py's output), got a dict"),
        (['--dataset_type', 'qa', '--input_glob', str(tmp_path / 'in.txt')] + base,
         f"{tmp_path / 'in.txt'} is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
    ]


def test_other_bad_inputs_are_one_line_errors(quickstart, tmp_path, capsys, tokenizer):
    for argv, message in bad_input_cases(tmp_path, quickstart['model_file'], tokenizer):
        assert run_cli('llama_preprocess.py', llama_preprocess.main, argv) == 2, message
        err = capsys.readouterr().err
        # errors found while tokenizing come after the progress bar's lines
        assert err.endswith(f"\nllama_preprocess.py: error: {message}\n") or \
            err == f"llama_preprocess.py: error: {message}\n"
    assert not os.path.exists(tmp_path / 'x.mindrecord')
