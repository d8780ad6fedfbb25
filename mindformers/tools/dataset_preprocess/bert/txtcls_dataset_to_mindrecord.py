"""txtcls_dataset_to_mindrecord (BERT): a text classification file -> MindRecord rows for BertForSequenceClassification.

    python mindformers/tools/dataset_preprocess/bert/txtcls_dataset_to_mindrecord.py --dataset_name sst_2 \
        --input_file SST-2/train.tsv --output_file sst2_train.mindrecord --vocab_file vocab.txt \
        --max_seq_length 128 --num_labels 2

Input formats (`--dataset_name`), one example per line after the header line (`--header True`, the default):
  sst_2, cola, ag_news, imdb   as the GPT-2 tool reads them (`sentence<TAB>label` for sst_2 and any two-column TSV)
  mnli    GLUE MNLI TSV: the header names the columns `sentence1`, `sentence2` and `gold_label`
          (contradiction 0, entailment 1, neutral 2, as BERT's MNLI processor)
  pair    `sentence_a<TAB>sentence_b<TAB>label` with an integer label

Each example becomes `[CLS] A [SEP]` (`[CLS] A [SEP] B [SEP]` for pairs, the longer side cut first) of at most
`--max_seq_length` tokens, padded with [PAD] to exactly that length. Schema (int64, shape [-1], the columns of
upstream's BERT txtcls YAMLs): `input_ids`, `input_mask` (1 on real tokens), `segment_ids` (1 on B) and
`label_ids` (one class id). With `--num_labels N` a label outside 0..N-1 is an error naming its line.
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

from mindformers.dataset.labels import labels as DATASET_LABELS
from mindformers.tools.dataset_preprocess.bert.common import add_bert_tokenizer_args, bert_tokenizer
from mindformers.tools.dataset_preprocess.cli import OneLineArgumentParser, run_cli
from mindformers.tools.dataset_preprocess.common import check_output_file, parse_bool, positive_int, read_text, write_mindrecord
from mindformers.tools.dataset_preprocess.gpt2.txtcls_dataset_to_mindrecord import DATASETS as SINGLE_DATASETS
from mindformers.tools.dataset_preprocess.gpt2.txtcls_dataset_to_mindrecord import read_examples as read_single
from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.tools.logger import logger

__all__ = ['DATASETS', 'COLUMNS', 'read_examples', 'encode_example', 'encode_examples', 'main']

DATASETS = SINGLE_DATASETS + ('mnli', 'pair')
COLUMNS = ('input_ids', 'input_mask', 'segment_ids', 'label_ids')


def _read_mnli(text, header):
    if not header:
        raise ConfigError("--dataset_name mnli reads its columns by the header line; keep --header True")
    reader = csv.reader(io.StringIO(text), delimiter='\t', quoting=csv.QUOTE_NONE)
    names = next(reader, None) or []
    missing = [name for name in ('sentence1', 'sentence2', 'gold_label') if name not in names]
    if missing:
        raise DatasetError(f"line 1: the MNLI header has no column {missing}; it has {names}")
    first, second, gold = (names.index(name) for name in ('sentence1', 'sentence2', 'gold_label'))
    classes = DATASET_LABELS['mnli']
    examples = []
    for fields in reader:
        if not any(field.strip() for field in fields):
            continue
        if len(fields) <= max(first, second, gold):
            raise DatasetError(f"line {reader.line_num}: mnli needs {len(names)} fields, got {len(fields)}")
        label = fields[gold].strip()
        if label not in classes:
            raise DatasetError(f"line {reader.line_num}: mnli gold_label {label!r} is not one of {classes}")
        examples.append((fields[first].strip(), fields[second].strip(), classes.index(label)))
    return examples


def _read_pairs(text, header):
    reader = csv.reader(io.StringIO(text), delimiter='\t', quoting=csv.QUOTE_NONE)
    examples = []
    for index, fields in enumerate(reader):
        if (header and index == 0) or not any(field.strip() for field in fields):
            continue
        if len(fields) < 3:
            raise DatasetError(f"line {reader.line_num}: pair needs 3 fields (sentence_a, sentence_b, label), got "
                               f"{len(fields)}: {fields!r}")
        try:
            label = int(fields[2].strip())
        except ValueError:
            label = -1
        if label < 0:
            raise DatasetError(f"line {reader.line_num}: label {fields[2]!r} is not an integer >= 0")
        examples.append((fields[0].strip(), fields[1].strip(), label))
    return examples


def read_examples(dataset_name, text, header=True):
    """[(text_a, text_b or None, label id, line number)] of a dataset file's content."""
    if dataset_name not in DATASETS:
        raise ConfigError(f"--dataset_name {dataset_name!r}: choose from {list(DATASETS)}")
    if dataset_name in SINGLE_DATASETS:
        examples = [(sentence, None, label) for sentence, label in read_single(dataset_name, text, header)]
    else:
        examples = (_read_mnli if dataset_name == 'mnli' else _read_pairs)(text, header)
    if not examples:
        raise DatasetError(f"no {dataset_name} example found" + (" after the header line" if header else ""))
    return examples


def check_labels(examples, num_labels):
    """Every label must be a class of the model: 0..num_labels-1."""
    for number, (_, _, label) in enumerate(examples, 1):
        if label >= num_labels:
            raise DatasetError(f"example {number}: label {label} is out of range for --num_labels {num_labels} "
                               f"(ids 0..{num_labels - 1}); give the number of classes the data has")


def _truncate_pair(tokens_a, tokens_b, budget):
    """Cut the longer of the two token lists, one token at a time, until both fit `budget` tokens."""
    while len(tokens_a) + len(tokens_b) > budget:
        (tokens_a if len(tokens_a) >= len(tokens_b) else tokens_b).pop()


def encode_example(tokenizer, text_a, text_b, label, max_seq_length):
    """{'input_ids', 'input_mask', 'segment_ids', 'label_ids'} int64 arrays of one example."""
    tokens_a = tokenizer.tokenize(text_a)
    tokens_b = tokenizer.tokenize(text_b) if text_b is not None else None
    if tokens_b is None:
        tokens_a = tokens_a[:max_seq_length - 2]
    else:
        _truncate_pair(tokens_a, tokens_b, max_seq_length - 3)
    ids_a = tokenizer.convert_tokens_to_ids(tokens_a)
    ids_b = tokenizer.convert_tokens_to_ids(tokens_b) if tokens_b is not None else None
    input_ids = tokenizer.build_inputs_with_special_tokens(ids_a, ids_b)
    segment_ids = [0] * (len(ids_a) + 2) + ([1] * (len(ids_b) + 1) if ids_b is not None else [])
    pad = max_seq_length - len(input_ids)
    return {'input_ids': np.asarray(input_ids + [tokenizer.pad_token_id] * pad, np.int64),
            'input_mask': np.asarray([1] * len(input_ids) + [0] * pad, np.int64),
            'segment_ids': np.asarray(segment_ids + [0] * pad, np.int64),
            'label_ids': np.asarray([label], np.int64)}


def encode_examples(tokenizer, examples, max_seq_length):
    minimum = 3 if any(text_b is not None for _, text_b, _ in examples) else 2
    if max_seq_length <= minimum:
        raise ConfigError(f"--max_seq_length {max_seq_length} leaves no room for text after [CLS] and [SEP] "
                          f"({minimum} special tokens); give at least {minimum + 1}")
    return [encode_example(tokenizer, text_a, text_b, label, max_seq_length)
            for text_a, text_b, label in tqdm(examples, desc='Tokenizing', unit='example')]


def main(argv=None):
    parser = OneLineArgumentParser(prog='txtcls_dataset_to_mindrecord.py',
                                   description='Tokenize a text classification dataset into BERT MindRecord rows.')
    parser.add_argument('--dataset_name', type=str, required=True, choices=DATASETS)
    parser.add_argument('--input_file', type=str, required=True, help='the raw dataset file')
    parser.add_argument('--output_file', type=str, required=True, help='the MindRecord file to write')
    parser.add_argument('--max_seq_length', type=str, default='128', help='tokens per row (the model seq_length)')
    parser.add_argument('--num_labels', type=str, default=None, help='classes of the model: labels must be below')
    parser.add_argument('--header', type=str, default='True', help='whether the first line is a header')
    add_bert_tokenizer_args(parser)
    args = parser.parse_args(argv)
    max_seq_length = positive_int('--max_seq_length')(args.max_seq_length)
    num_labels = positive_int('--num_labels')(args.num_labels) if args.num_labels is not None else None
    header = parse_bool('--header', args.header)
    check_output_file(args.output_file, 1)
    examples = read_examples(args.dataset_name, read_text(args.input_file), header)
    if num_labels is not None:
        check_labels(examples, num_labels)
    tokenizer = bert_tokenizer(args)
    rows = encode_examples(tokenizer, examples, max_seq_length)
    write_mindrecord(args.output_file, rows, {c: {'type': 'int64', 'shape': [-1]} for c in COLUMNS},
                     'bert-txtcls-schema')
    for text_a, text_b, label in examples[:3]:
        logger.info("example: label %d, text %r%s", label, text_a[:80], f" / {text_b[:60]!r}" if text_b else '')
    counts = np.bincount([label for _, _, label in examples])
    logger.info("%d rows of %d tokens; examples per label: %s", len(rows), max_seq_length, counts.tolist())
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('txtcls_dataset_to_mindrecord.py', main))
