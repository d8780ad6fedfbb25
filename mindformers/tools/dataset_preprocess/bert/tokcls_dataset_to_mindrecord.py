"""tokcls_dataset_to_mindrecord (BERT): CLUENER-style JSON lines -> MindRecord rows for BertForTokenClassification.

    python mindformers/tools/dataset_preprocess/bert/tokcls_dataset_to_mindrecord.py \
        --input_file cluener/train.json --output_file cluener_train.mindrecord --vocab_file vocab.txt \
        --max_seq_length 128

Input: one JSON record per line, `{"text": "...", "label": {"<type>": {"<entity text>": [[start, end], ...]}}}`
with character offsets (end inclusive) and CLUENER's ten types (address, book, company, game, government, movie,
name, organization, position, scene); records without `label` are all 'O'.

Each text becomes `[CLS] c1 c2 ... [SEP]`, one token per character (the tokenizer's is_tokenize_char), cut to
`--max_seq_length` and padded to it; the labels are CLUENER's BIOS ids per character (0 'O' on [CLS], [SEP] and
padding), as TokenClassificationDataset makes them from the JSON files. Schema (int64, shape [-1]): `input_ids`,
`input_mask`, `segment_ids`, `label_ids`. An unknown entity tag, a span outside its text, or a span that is not
its entity's characters stops the tool with one line naming the input line; nothing is written.
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
from tqdm import tqdm

from mindformers.dataset.dataloader.cluener_dataloader import read_cluener
from mindformers.dataset.labels import cluener_labels
from mindformers.dataset.transforms.text_transforms import LabelPadding, TokenizeWithLabel
from mindformers.tools.dataset_preprocess.bert.common import add_bert_tokenizer_args, bert_tokenizer
from mindformers.tools.dataset_preprocess.cli import OneLineArgumentParser, run_cli
from mindformers.tools.dataset_preprocess.common import check_output_file, positive_int, write_mindrecord
from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.tools.logger import logger

__all__ = ['COLUMNS', 'encode_records', 'main']

COLUMNS = ('input_ids', 'input_mask', 'segment_ids', 'label_ids')


def encode_records(tokenizer, records, max_seq_length):
    """[(text, label ids)] -> rows of COLUMNS (int64), through the same transforms as TokenClassificationDataset."""
    if max_seq_length < 3:
        raise ConfigError(f"--max_seq_length {max_seq_length} leaves no room for text after [CLS] and [SEP]; give "
                          f"at least 3")
    tokenize, pad_labels = TokenizeWithLabel(tokenizer, max_seq_length), LabelPadding(max_seq_length)
    rows = []
    for text, label_ids in tqdm(records, desc='Tokenizing', unit='record'):
        input_ids, segment_ids, input_mask, labels = tokenize(text, label_ids)
        rows.append({'input_ids': input_ids.astype(np.int64), 'input_mask': input_mask.astype(np.int64),
                     'segment_ids': segment_ids.astype(np.int64),
                     'label_ids': pad_labels(labels).astype(np.int64)})
    return rows


def main(argv=None):
    parser = OneLineArgumentParser(prog='tokcls_dataset_to_mindrecord.py',
                                   description='Tokenize CLUENER-style JSON lines into BERT token classification '
                                               'MindRecord rows.')
    parser.add_argument('--input_file', type=str, required=True, help='CLUENER JSON lines (train.json, dev.json)')
    parser.add_argument('--output_file', type=str, required=True, help='the MindRecord file to write')
    parser.add_argument('--max_seq_length', type=str, default='128', help='tokens per row (the model seq_length)')
    add_bert_tokenizer_args(parser, default_name='tokcls_bert_base_chinese', lower_case='False')
    args = parser.parse_args(argv)
    max_seq_length = positive_int('--max_seq_length')(args.max_seq_length)
    check_output_file(args.output_file, 1)
    if not os.path.isfile(args.input_file):
        raise DatasetError(f"input file not found: {args.input_file}")
    records = read_cluener(args.input_file)
    tokenizer = bert_tokenizer(args, is_tokenize_char=True)
    rows = encode_records(tokenizer, records, max_seq_length)
    write_mindrecord(args.output_file, rows, {c: {'type': 'int64', 'shape': [-1]} for c in COLUMNS},
                     'bert-tokcls-schema')
    counts = np.bincount(np.concatenate([row['label_ids'] for row in rows]), minlength=len(cluener_labels))
    cut = sum(len(text) > max_seq_length - 2 for text, _ in records)
    logger.info("%d rows of %d tokens (%d texts cut to %d characters); tags: %s", len(rows), max_seq_length, cut,
                max_seq_length - 2, {cluener_labels[i]: int(n) for i, n in enumerate(counts) if n})
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('tokcls_dataset_to_mindrecord.py', main))
