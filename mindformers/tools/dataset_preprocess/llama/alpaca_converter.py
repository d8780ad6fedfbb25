"""alpaca_converter: Stanford Alpaca JSON (instruction/input/output) -> human/gpt conversation JSON.

    python mindformers/tools/dataset_preprocess/llama/alpaca_converter.py \
        --data_path alpaca-data.json --output_path alpaca-data-conversation.json

Each example becomes `{"id": "<1-based index>", "conversations": [{"from": "human", "value": <prompt>},
{"from": "gpt", "value": <output>}]}`, the prompt being the standard Alpaca prompt, with an Input
section when the example's `input` is not empty. llama_preprocess.py --dataset_type qa reads the result.
"""
import json
import os
import sys

if __name__ == '__main__':
    try:
        import mindformers.tools.errors  # noqa: F401  pylint: disable=unused-import
    except ImportError:  # run from a source tree: put the repository root on the path
        sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')))

# pylint: disable=wrong-import-position
from tqdm import tqdm

from mindformers.tools.dataset_preprocess.cli import OneLineArgumentParser, run_cli
from mindformers.tools.errors import DatasetError

__all__ = ['PROMPT_DICT', 'build_prompt', 'convert_examples', 'convert_file', 'main']

PROMPT_DICT = {
    'prompt_input': (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
    ),
    'prompt_no_input': (
        "Below is an instruction that describes a task. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n{instruction}\n\n### Response:"
    ),
}


def build_prompt(instruction, input_text=''):
    """The Alpaca prompt for one example (the Input section only when `input_text` is not empty)."""
    if input_text:
        return PROMPT_DICT['prompt_input'].format(instruction=instruction, input=input_text)
    return PROMPT_DICT['prompt_no_input'].format(instruction=instruction)


def _check_example(example, index, source):
    if not isinstance(example, dict):
        raise DatasetError(f"{source}: example {index} is a {type(example).__name__}, expected an object with "
                           f"instruction, input and output")
    for key in ('instruction', 'output'):
        if not isinstance(example.get(key), str):
            raise DatasetError(f"{source}: example {index} needs a string '{key}', got {example.get(key)!r}")
    if not isinstance(example.get('input', ''), str):
        raise DatasetError(f"{source}: example {index} has a non-string 'input': {example.get('input')!r}")


def convert_examples(examples, source='data'):
    """Alpaca examples -> conversation records (ids count from 1)."""
    if not isinstance(examples, list):
        raise DatasetError(f"{source}: expected a JSON list of examples, got a {type(examples).__name__}")
    records = []
    for index, example in enumerate(tqdm(examples, desc='Converting', unit='example', disable=len(examples) < 1000)):
        _check_example(example, index, source)
        prompt = build_prompt(example['instruction'], example.get('input', ''))
        records.append({'id': str(index + 1),
                        'conversations': [{'from': 'human', 'value': prompt},
                                          {'from': 'gpt', 'value': example['output']}]})
    return records


def _read_json(path):
    if not os.path.isfile(path):
        raise DatasetError(f"--data_path {path} does not exist")
    try:
        with open(path, encoding='utf-8') as stream:
            return json.load(stream)
    except (ValueError, UnicodeDecodeError) as err:
        raise DatasetError(f"{path} is not valid JSON: {err}") from None
    except OSError as err:
        raise DatasetError(f"cannot read {path}: {err.strerror}") from None


def convert_file(data_path, output_path):
    """Read the Alpaca JSON at `data_path`, write the conversation JSON to `output_path`; returns the count."""
    records = convert_examples(_read_json(data_path), source=data_path)
    out_dir = os.path.dirname(os.path.abspath(output_path))
    try:
        os.makedirs(out_dir, exist_ok=True)
        with open(output_path, 'w', encoding='utf-8') as stream:
            json.dump(records, stream, ensure_ascii=False, indent=2)
    except OSError as err:
        raise DatasetError(f"cannot write --output_path {output_path}: {err.strerror}") from None
    return len(records)


def main(argv=None):
    parser = OneLineArgumentParser(prog='alpaca_converter.py',
                                   description='Convert Stanford Alpaca JSON into conversation JSON.')
    parser.add_argument('--data_path', type=str, default='alpaca-data.json', help='Alpaca JSON list')
    parser.add_argument('--output_path', type=str, default='alpaca-data-conversation.json',
                        help='where to write the conversation JSON')
    args = parser.parse_args(argv)
    count = convert_file(args.data_path, args.output_path)
    print(f"Converted {count} examples.")
    print(f"Output: {os.path.abspath(args.output_path)}")
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('alpaca_converter.py', main))
