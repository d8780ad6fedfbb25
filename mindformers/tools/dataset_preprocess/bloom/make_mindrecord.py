"""make_mindrecord: Alpaca-format instructions -> BLOOM MindRecord rows of `--seq_length` tokens (int64 input_ids).

    python mindformers/tools/dataset_preprocess/bloom/make_mindrecord.py --input_dataset_file alpaca_data.json \
        --output_path alpaca_2049/ --seq_length 2049

Each record ({"instruction", "input", "output"}) is rendered with the Alpaca prompt ("Below is an instruction
that describes a task ... ### Response:\n{output}", with or without the "### Input:" part), tokenized with the
BLOOM tokenizer, cut to `--seq_length`, then given one </s> if there is room and padded with </s> (BLOOM's
loss skips positions whose input is </s>). `--N` takes only the first N records (-1: all). Writes
`<output_path>/dataset.mindrecord` with schema {input_ids: int64 [-1]}. The tokenizer is bloom_560m's
tokenizer.json from checkpoint_download/bloom/ (downloaded when absent), or `--tokenizer_file`.
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
import numpy as np
from tqdm import tqdm

from mindformers.tools.dataset_preprocess.cli import OneLineArgumentParser, run_cli
from mindformers.tools.dataset_preprocess.common import check_output_file, positive_int, read_text
from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.tools.logger import logger

__all__ = ['alpaca_prompt', 'encode_record', 'main']

PROMPT_WITH_INPUT = ("Below is an instruction that describes a task, paired with an input that provides further "
                     "context. Write a response that appropriately completes the request.\n\n"
                     "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n{output}")
PROMPT_NO_INPUT = ("Below is an instruction that describes a task. Write a response that appropriately completes "
                   "the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n{output}")


def alpaca_prompt(record):
    template = PROMPT_WITH_INPUT if record.get('input') else PROMPT_NO_INPUT
    return template.format(instruction=record.get('instruction', ''), input=record.get('input', ''),
                           output=record.get('output', ''))


def encode_record(tokenizer, record, seq_length):
    """One record -> exactly `seq_length` int64 ids: prompt ids, one </s> when there is room, </s> padding."""
    ids = tokenizer(alpaca_prompt(record), add_special_tokens=False)['input_ids'][:seq_length]
    eos = tokenizer.eos_token_id
    return np.asarray(ids + [eos] * (seq_length - len(ids)), np.int64)


def _records(path):
    try:
        data = json.loads(read_text(path))
    except ValueError as err:
        raise DatasetError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) and 'instruction' in r for r in data):
        raise DatasetError(f"{path}: expected a JSON list of {{'instruction', 'input', 'output'}} records (Alpaca)")
    return data


def _tokenizer(tokenizer_file):
    if tokenizer_file:
        from mindformers.models.bloom.bloom_tokenizer import BloomTokenizer  # pylint: disable=C0415
        return BloomTokenizer(vocab_file=tokenizer_file)
    from mindformers.auto_class import AutoTokenizer  # pylint: disable=import-outside-toplevel
    return AutoTokenizer.from_pretrained('bloom_560m')


def main(argv=None):
    parser = OneLineArgumentParser(prog='make_mindrecord.py', description='Alpaca JSON -> BLOOM MindRecord rows.')
    parser.add_argument('--input_dataset_file', type=str, required=True, help='Alpaca-format JSON list')
    parser.add_argument('--output_path', type=str, required=True, help='folder for dataset.mindrecord')
    parser.add_argument('--seq_length', type=str, default='2049', help='tokens per row (seq_length + 1 to train)')
    parser.add_argument('--N', type=int, default=-1, help='use the first N records (-1: all)')
    parser.add_argument('--tokenizer_file', type=str, default=None, help="BLOOM's tokenizer.json (else bloom_560m's)")
    args = parser.parse_args(argv)
    seq_length = positive_int('--seq_length')(args.seq_length)
    if args.N == 0 or args.N < -1:
        raise ConfigError(f"--N must be -1 (all records) or a positive count, got {args.N}")
    output_file = os.path.join(args.output_path, 'dataset.mindrecord')
    check_output_file(output_file, 1)
    records = _records(args.input_dataset_file)
    if args.N > 0:
        records = records[:args.N]
    tokenizer = _tokenizer(args.tokenizer_file)
    rows = [{'input_ids': encode_record(tokenizer, r, seq_length)} for r in tqdm(records, desc='Tokenizing')]
    from mindspore.mindrecord import FileWriter  # pylint: disable=import-outside-toplevel
    writer = FileWriter(file_name=output_file, shard_num=1)
    writer.add_schema({'input_ids': {'type': 'int64', 'shape': [-1]}}, 'lm-schema')
    writer.write_raw_data(rows)
    writer.commit()
    logger.info("wrote %d rows of %d tokens to %s", len(rows), seq_length, output_file)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('make_mindrecord.py', main))
