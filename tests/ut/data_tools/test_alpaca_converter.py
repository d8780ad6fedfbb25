"""alpaca_converter.py: Alpaca JSON -> human/gpt conversations with the standard Alpaca prompt."""
import json

import pytest

from mindformers.tools.dataset_preprocess.llama.alpaca_converter import build_prompt, convert_examples
from mindformers.tools.errors import DatasetError

from data_tool_helpers import CONVERTER, run_script

PROMPT_NO_INPUT = ("Below is an instruction that describes a task. Write a response that appropriately completes "
                   "the request.\n\n### Instruction:\nName a color.\n\n### Response:")
PROMPT_INPUT = ("Below is an instruction that describes a task, paired with an input that provides further "
                "context. Write a response that appropriately completes the request.\n\n### Instruction:\n"
                "Repeat these words.\n\n### Input:\ncafé noir\n\n### Response:")


def test_prompt_with_and_without_input_section():
    assert build_prompt("Name a color.") == PROMPT_NO_INPUT
    assert build_prompt("Name a color.", "") == PROMPT_NO_INPUT
    assert build_prompt("Repeat these words.", "café noir") == PROMPT_INPUT


def test_script_writes_conversations_with_one_based_string_ids(tmp_path):
    examples = [{'instruction': 'Name a color.', 'input': '', 'output': 'red'},
                {'instruction': 'Repeat these words.', 'input': 'café noir', 'output': 'café noir'},
                {'instruction': 'Name a color.', 'output': 'blue'}]
    data_path = tmp_path / 'alpaca.json'
    data_path.write_text(json.dumps(examples), encoding='utf-8')
    output_path = tmp_path / 'out' / 'conversation.json'
    result = run_script(CONVERTER, '--data_path', data_path, '--output_path', output_path)
    assert result.returncode == 0, result.stderr
    assert 'Converted 3 examples.' in result.stdout
    expected = [
        {'id': '1', 'conversations': [{'from': 'human', 'value': PROMPT_NO_INPUT}, {'from': 'gpt', 'value': 'red'}]},
        {'id': '2', 'conversations': [{'from': 'human', 'value': PROMPT_INPUT},
                                      {'from': 'gpt', 'value': 'café noir'}]},
        {'id': '3', 'conversations': [{'from': 'human', 'value': PROMPT_NO_INPUT}, {'from': 'gpt', 'value': 'blue'}]},
    ]
    text = output_path.read_text(encoding='utf-8')
    assert json.loads(text) == expected
    assert text == json.dumps(expected, ensure_ascii=False, indent=2)


def test_missing_data_path_is_exit_2_with_one_line(tmp_path):
    missing = tmp_path / 'missing.json'
    result = run_script(CONVERTER, '--data_path', missing, '--output_path', tmp_path / 'o.json')
    assert result.returncode == 2
    assert result.stderr == f"alpaca_converter.py: error: --data_path {missing} does not exist\n"


def test_malformed_input_is_exit_2_with_one_line(tmp_path):
    bad_json = tmp_path / 'bad.json'
    bad_json.write_text('[{"instruction": ', encoding='utf-8')
    result = run_script(CONVERTER, '--data_path', bad_json, '--output_path', tmp_path / 'o.json')
    assert result.returncode == 2
    assert result.stderr.startswith(f"alpaca_converter.py: error: {bad_json} is not valid JSON")
    assert result.stderr.count('\n') == 1


def test_example_without_output_is_named():
    with pytest.raises(DatasetError) as error:
        convert_examples([{'instruction': 'a', 'output': 'b'}, {'instruction': 'c'}], source='d.json')
    assert str(error.value) == "d.json: example 1 needs a string 'output', got None"
