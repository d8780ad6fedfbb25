"""txtcls_dataset_to_mindrecord: a text classification file -> MindRecord rows for GPT2ForSequenceClassification.

    python mindformers/tools/dataset_preprocess/gpt2/txtcls_dataset_to_mindrecord.py --dataset_name sst_2 \
        --input_file SST-2/train.tsv --output_file sst2_train.mindrecord --max_length 1024

Input formats (`--dataset_name`), one example per line after the header line (`--header True`, the default):
  cola     tab separated `source, label, original label, sentence` (GLUE CoLA)
  sst_2    tab separated `sentence, label` (GLUE SST-2; also any other two-column TSV)
  ag_news  CSV `"class","title","description"` with class 1..4 (stored as 0..3); the text is "title. description"
  imdb     CSV `review,sentiment` with sentiment positive (1) / negative (0)

Each text is encoded with the GPT-2 tokenizer (<|endoftext|> on both sides), cut to `--max_length` tokens and
right-padded with <|endoftext|> to exactly `--max_length`. Schema (int64, shape [-1], as upstream): `input_ids`,
`attention_mask` (1 on real tokens) and `labels` (one class id); `--data_columns` picks which are written.
The tokenizer's vocab.json and merges.txt are looked up in checkpoint_download/gpt2/ (downloaded when absent),
or given with `--vocab_file` / `--merges_file`.
"""
import csv
import io
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
from mindformers.tools.dataset_preprocess.common import (add_gpt2_tokenizer_args, check_output_file, data_columns,
                                                         gpt2_tokenizer, parse_bool, positive_int, read_text)
from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.tools.logger import logger

__all__ = ['DATASETS', 'read_examples', 'encode_examples', 'main']

DATASETS = ('cola', 'sst_2', 'ag_news', 'imdb')
COLUMNS = ('input_ids', 'labels', 'attention_mask')


def _int_label(value, line_number, low=0):
    try:
        label = int(str(value).strip().strip('"'))
    except ValueError:
        label = None
    if label is None or label < low:
        raise DatasetError(f"line {line_number}: label {value!r} is not an integer >= {low}")
    return label - low


def _parse(dataset_name, fields, line_number):
    """(text, label id) of one example, from its fields."""
    def need(count):
        if len(fields) < count:
            raise DatasetError(f"line {line_number}: {dataset_name} needs {count} fields, got {len(fields)}: "
                               f"{fields!r}")
    if dataset_name == 'cola':
        need(4)
        return fields[3].strip(), _int_label(fields[1], line_number)
    if dataset_name == 'ag_news':
        need(3)
        return f"{fields[1].strip()}. {fields[2].strip()}", _int_label(fields[0], line_number, low=1)
    if dataset_name == 'imdb':
        need(2)
        sentiment = fields[-1].strip().lower()
        if sentiment not in ('positive', 'negative'):
            raise DatasetError(f"line {line_number}: imdb sentiment must be positive or negative, got {fields[-1]!r}")
        return ','.join(fields[:-1]).strip(), int(sentiment == 'positive')
    need(2)
    return fields[0].strip(), _int_label(fields[1], line_number)


def read_examples(dataset_name, text, header=True):
    """[(text, label id)] of a dataset file's content."""
    if dataset_name not in DATASETS:
        raise ConfigError(f"--dataset_name {dataset_name!r}: choose from {list(DATASETS)}")
    if dataset_name in ('ag_news', 'imdb'):
        reader = csv.reader(io.StringIO(text))
    else:
        reader = csv.reader(io.StringIO(text), delimiter='\t', quoting=csv.QUOTE_NONE)
    examples = []
    try:
        for index, fields in enumerate(reader):
            if (header and index == 0) or not any(field.strip() for field in fields):
                continue
            examples.append(_parse(dataset_name, fields, reader.line_num))
    except csv.Error as err:
        raise DatasetError(f"line {reader.line_num}: not valid {dataset_name} input: {err}") from None
    if not examples:
        raise DatasetError(f"no {dataset_name} example found" + (" after the header line" if header else ""))
    return examples


def encode_examples(tokenizer, examples, max_length):
    """{'input_ids', 'attention_mask', 'labels'} int64 arrays per example; texts cut/padded to max_length."""
    rows = []
    for text, label in tqdm(examples, desc='Tokenizing', unit='example'):
        encoded = tokenizer(text, max_length=max_length, padding='max_length', truncation=True)
        rows.append({'input_ids': np.asarray(encoded['input_ids'], np.int64),
                     'attention_mask': np.asarray(encoded['attention_mask'], np.int64),
                     'labels': np.asarray([label], np.int64)})
    return rows


def main(argv=None):
    parser = OneLineArgumentParser(prog='txtcls_dataset_to_mindrecord.py',
                                   description='Tokenize a text classification dataset into GPT-2 MindRecord rows.')
    parser.add_argument('--dataset_name', type=str, required=True, choices=DATASETS)
    parser.add_argument('--data_columns', type=str, nargs='+', default=list(COLUMNS))
    parser.add_argument('--input_file', type=str, required=True, help='the raw dataset file')
    parser.add_argument('--output_file', type=str, required=True, help='the MindRecord file to write')
    parser.add_argument('--max_length', type=str, default='1024', help='tokens per row (the model seq_length)')
    parser.add_argument('--header', type=str, default='True', help='whether the first line is a header')
    add_gpt2_tokenizer_args(parser)
    args = parser.parse_args(argv)
    max_length = positive_int('--max_length')(args.max_length)
    header = parse_bool('--header', args.header)
    columns = data_columns(args.data_columns, COLUMNS)
    check_output_file(args.output_file, 1)
    examples = read_examples(args.dataset_name, read_text(args.input_file), header)
    tokenizer = gpt2_tokenizer(args.tokenizer_type, args.vocab_file, args.merges_file)
    rows = encode_examples(tokenizer, examples, max_length)
    from mindspore.mindrecord import FileWriter  # pylint: disable=import-outside-toplevel
    writer = FileWriter(file_name=args.output_file, shard_num=1)
    writer.add_schema({c: {'type': 'int64', 'shape': [-1]} for c in columns}, 'txtcls-schema')
    writer.write_raw_data([{c: row[c] for c in columns} for row in rows])
    writer.commit()
    for text, label in examples[:3]:
        logger.info("example: label %d, text %r", label, text[:80])
    counts = np.bincount([label for _, label in examples])
    logger.info("Wrote %d total instances of %d tokens (%s) to %s; examples per label: %s", len(rows), max_length,
                ', '.join(columns), args.output_file, counts.tolist())
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('txtcls_dataset_to_mindrecord.py', main))
