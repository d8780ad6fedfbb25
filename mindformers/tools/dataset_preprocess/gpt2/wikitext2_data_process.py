"""wikitext2_data_process: WikiText-2 (or any plain text) -> GPT-2 MindRecord rows of `--max_length` tokens.

    python mindformers/tools/dataset_preprocess/gpt2/wikitext2_data_process.py \
        --input_file wikitext-2/wiki.train.tokens --output_file wikitext-2.train.mindrecord --max_length 1025

Passages are the text between heading lines ("= Title =" lines close a passage and are dropped); WikiText's
tokenization is undone, each passage's lines are joined with spaces and passages with newlines. The whole
text is encoded once with the GPT-2 tokenizer (so it starts with one <|endoftext|> and ends with one),
then cut into consecutive rows of exactly `--max_length` tokens; the last partial row is dropped. Use
seq_length + 1 for training data (the model shifts rows itself) and seq_length for evaluation.

Schema (int32, shape [-1]): `input_ids`, `attention_mask` (all ones) and `labels` (= input_ids), as upstream;
`--data_columns` picks which are written. The tokenizer is `--tokenizer_type gpt2`: its vocab.json and
merges.txt are looked up in checkpoint_download/gpt2/ (downloaded when absent), or given with
`--vocab_file` / `--merges_file`.
"""
import os
import sys

if __name__ == '__main__':
    try:
        import mindformers.tools.errors  # noqa: F401  pylint: disable=unused-import
    except ImportError:  # run from a source tree: put the repository root on the path
        sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')))

# pylint: disable=wrong-import-position
import numpy as np

from mindformers.tools.dataset_preprocess.cli import OneLineArgumentParser, run_cli
from mindformers.tools.dataset_preprocess.common import (add_gpt2_tokenizer_args, check_output_file, clean_wikitext,
                                                         cut_rows, data_columns, gpt2_tokenizer, output_file_names,
                                                         positive_int, read_text)
from mindformers.tools.logger import logger

__all__ = ['passages', 'tokenize_text', 'main']

COLUMNS = ('input_ids', 'attention_mask', 'labels')


def passages(text):
    """The passages of a WikiText file (or of plain text: one passage per blank-line-free run of lines)."""
    out, current = [], []
    for line in text.split('\n'):
        line = line.strip()
        if not line:
            continue
        if line.startswith('=') and line.endswith('='):
            if current:
                out.append(' '.join(current))
            current = []
            continue
        current.append(clean_wikitext(' ' + line + ' ').strip())
    if current:
        out.append(' '.join(current))
    return out


def tokenize_text(tokenizer, text, max_length):
    """Rows of exactly `max_length` ids cut from the encoding of the whole text."""
    ids = tokenizer('\n'.join(passages(text)))['input_ids']
    return [row['input_ids'] for row in cut_rows(ids, max_length, flag='--max_length', needed='--max_length')]


def main(argv=None):
    parser = OneLineArgumentParser(prog='wikitext2_data_process.py',
                                   description='Tokenize WikiText-2 into GPT-2 MindRecord rows.')
    parser.add_argument('--input_file', type=str, default='../wikitext-2/wiki.valid.tokens')
    parser.add_argument('--output_file', type=str, default='../wikitext2_processed/wikitext-2.mindrecord')
    parser.add_argument('--num_splits', type=str, default='1', help='number of MindRecord files to write')
    parser.add_argument('--max_length', type=str, default='1024', help='tokens per row (seq_length + 1 to train)')
    parser.add_argument('--data_columns', type=str, nargs='+', default=list(COLUMNS))
    add_gpt2_tokenizer_args(parser)
    args = parser.parse_args(argv)
    max_length = positive_int('--max_length')(args.max_length)
    num_splits = positive_int('--num_splits')(args.num_splits)
    columns = data_columns(args.data_columns, COLUMNS)
    check_output_file(args.output_file, num_splits)
    tokenizer = gpt2_tokenizer(args.tokenizer_type, args.vocab_file, args.merges_file)
    rows = tokenize_text(tokenizer, read_text(args.input_file), max_length)
    from mindspore.mindrecord import FileWriter  # pylint: disable=import-outside-toplevel
    writer = FileWriter(file_name=args.output_file, shard_num=num_splits)
    writer.add_schema({c: {'type': 'int32', 'shape': [-1]} for c in columns}, 'lm-schema')
    values = {'input_ids': lambda r: r, 'attention_mask': np.ones_like, 'labels': lambda r: r.copy()}
    writer.write_raw_data([{c: values[c](row) for c in columns} for row in rows])
    writer.commit()
    logger.info("wrote %d rows of %d tokens (%s) to %s", len(rows), max_length, ', '.join(columns),
                ', '.join(output_file_names(args.output_file, num_splits)))
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('wikitext2_data_process.py', main))
