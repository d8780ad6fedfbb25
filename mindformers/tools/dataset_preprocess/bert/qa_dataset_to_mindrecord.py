"""qa_dataset_to_mindrecord (BERT): a SQuAD v1.1 JSON file -> MindRecord feature rows for BertForQuestionAnswering.

    python mindformers/tools/dataset_preprocess/bert/qa_dataset_to_mindrecord.py --input_file train-v1.1.json \
        --output_file squad_train.mindrecord --vocab_file vocab.txt --max_seq_length 384 --doc_stride 128
    python mindformers/tools/dataset_preprocess/bert/qa_dataset_to_mindrecord.py --input_file dev-v1.1.json \
        --output_file squad_dev.mindrecord --vocab_file vocab.txt --is_training False --temp_file_dir squad_temp

The rows are those SQuADDataLoader makes on the fly (the same reading, windowing and answer positions):
`[CLS] question [SEP] context window [SEP]`, windows `--doc_stride` tokens apart, the question cut to
`--max_query_length` tokens. Schema (int64, shape [-1], the loader's columns): `input_ids`, `input_mask`,
`token_type_id`, `start_position`, `end_position` (the answer's token span in the window, 0 and 0 when it lies
outside or with `--is_training False`) and `unique_id`. With `--is_training False` the examples and features that
SQuADMetric decodes answers with are written to `--temp_file_dir` (the metric's `temp_file_dir`, default
./squad_temp), so `run_mindformer.py --run_mode eval --eval_dataset_dir squad_dev.mindrecord` scores EM/F1.
Answer offsets outside their context, answers that are not the text at their offset and questions that leave no
room for context stop with one line naming the question; nothing is written then.
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

from mindformers.dataset.dataloader.squad_dataloader import (COLUMNS, MAX_SEQ_LEN, convert_examples_to_features,
                                                             read_squad, write_squad_temp)
from mindformers.tools.dataset_preprocess.bert.common import add_bert_tokenizer_args, bert_tokenizer
from mindformers.tools.dataset_preprocess.cli import OneLineArgumentParser, run_cli
from mindformers.tools.dataset_preprocess.common import check_output_file, parse_bool, positive_int, write_mindrecord
from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger

__all__ = ['feature_rows', 'main']


def feature_rows(features):
    """The MindRecord rows (dicts of int64 arrays, COLUMNS) of SQuAD features."""
    return [{column: np.asarray(feature[column], np.int64).reshape(-1) for column in COLUMNS} for feature in features]


def main(argv=None):
    parser = OneLineArgumentParser(prog='qa_dataset_to_mindrecord.py',
                                   description='Window SQuAD v1.1 questions into BERT question answering rows.')
    parser.add_argument('--input_file', type=str, required=True, help='a SQuAD v1.1 JSON file')
    parser.add_argument('--output_file', type=str, required=True, help='the MindRecord file to write')
    parser.add_argument('--is_training', type=str, default='True',
                        help='True: answer positions in the rows; False: eval rows plus the metric temp files')
    parser.add_argument('--max_seq_length', type=str, default=str(MAX_SEQ_LEN), help='tokens per row')
    parser.add_argument('--max_query_length', type=str, default='64', help='question tokens kept, at most')
    parser.add_argument('--doc_stride', type=str, default='128', help='tokens between window starts')
    parser.add_argument('--temp_file_dir', type=str, default='./squad_temp',
                        help="with --is_training False: where SQuADMetric's temp_examples/features.json go")
    add_bert_tokenizer_args(parser)
    args = parser.parse_args(argv)
    training = parse_bool('--is_training', args.is_training)
    max_seq_length = positive_int('--max_seq_length')(args.max_seq_length)
    max_query_length = positive_int('--max_query_length')(args.max_query_length)
    doc_stride = positive_int('--doc_stride')(args.doc_stride)
    if not os.path.isfile(args.input_file):
        raise ConfigError(f"--input_file {args.input_file} is not a file")
    check_output_file(args.output_file, 1)
    tokenizer = bert_tokenizer(args)
    examples = read_squad(args.input_file, is_training=training)
    features = convert_examples_to_features(examples, tokenizer, max_seq_length, max_query_length, doc_stride,
                                            is_training=training)
    rows = feature_rows(features)
    write_mindrecord(args.output_file, rows, {c: {'type': 'int64', 'shape': [-1]} for c in COLUMNS},
                     'bert-squad-schema')
    if not training:
        write_squad_temp(args.temp_file_dir, examples, features)
        logger.info("SQuADMetric's examples and features written to %s", os.path.abspath(args.temp_file_dir))
    logger.info("%d questions -> %d rows of %d tokens (doc_stride %d)", len(examples), len(rows), max_seq_length,
                doc_stride)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('qa_dataset_to_mindrecord.py', main))
