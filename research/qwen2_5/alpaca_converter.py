"""alpaca_converter: Alpaca JSON ({instruction, input, output} records) -> JSON Lines of chat messages for
qwen2_5_preprocess.py --dataset_type qa.

    python research/qwen2_5/alpaca_converter.py --data_path alpaca_data.json --output_path alpaca-data-messages.json

Each line is {"type": "chatml", "messages": [system "You are a helpful assistant.", user, assistant]}; the user
turn is the instruction, followed by ": <input>" (one trailing '.' of the instruction dropped) when there is one.
"""
import json
import os
import sys

try:
    import mindformers.tools.errors  # noqa: F401  pylint: disable=unused-import
except ImportError:  # run from a source tree: put the repository root on the path
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))

# pylint: disable=wrong-import-position
from mindformers.tools.dataset_preprocess.cli import OneLineArgumentParser, run_cli
from mindformers.tools.dataset_preprocess.common import read_text
from mindformers.tools.errors import ConfigError, DatasetError

SYSTEM_PROMPT = 'You are a helpful assistant.'


def to_messages(record):
    instruction = record.get('instruction', '')
    if record.get('input'):
        instruction = (instruction[:-1] if instruction.endswith('.') else instruction) + ': ' + record['input']
    return {'type': 'chatml', 'messages': [{'role': 'system', 'content': SYSTEM_PROMPT},
                                           {'role': 'user', 'content': instruction},
                                           {'role': 'assistant', 'content': record.get('output', '')}]}


def main(argv=None):
    parser = OneLineArgumentParser(prog='alpaca_converter.py', description='Alpaca JSON -> chat messages (JSONL).')
    parser.add_argument('--data_path', type=str, default='alpaca-data.json')
    parser.add_argument('--output_path', type=str, default='alpaca-data-messages.json')
    args = parser.parse_args(argv)
    if os.path.exists(args.output_path):
        raise ConfigError(f"--output_path {args.output_path} already exists; remove it or choose another path")
    try:
        data = json.loads(read_text(args.data_path))
    except ValueError as err:
        raise DatasetError(f"{args.data_path} is not valid JSON: {err}") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) and 'instruction' in r for r in data):
        raise DatasetError(f"{args.data_path}: expected a JSON list of {{'instruction', 'input', 'output'}} records")
    with open(args.output_path, 'w', encoding='utf-8') as stream:
        for record in data:
            stream.write(json.dumps(to_messages(record), ensure_ascii=False) + '\n')
    print(f"wrote {len(data)} conversations to {args.output_path}")
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('alpaca_converter.py', main))
