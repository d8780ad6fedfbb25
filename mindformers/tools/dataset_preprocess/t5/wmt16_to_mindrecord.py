"""wmt16_to_mindrecord (T5): line-aligned source/target text (the WMT16 en-ro layout) -> MindRecord rows for T5.

    python mindformers/tools/dataset_preprocess/t5/wmt16_to_mindrecord.py --dataset_dir wmt_en_ro --stage train \
        --output_file wmt16_train.mindrecord --vocab_file spiece.model --src_max_length 1024 --tgt_max_length 128 \
        --prefix "translate the English to Romanian:"

Reads `<dataset_dir>/<stage>.source` and `<stage>.target` (one sentence per line) as WMT16DataLoader does and
writes the rows TranslationDataset makes from them: `input_ids` (`--prefix` + the source, `</s>`, padded to
`--src_max_length`), `attention_mask` and `labels` (the target with `</s>`, padded with the pad id to
`--tgt_max_length`), int32, shape [-1]. Sentences longer than their length are cut (and counted in the log). Files
of different lengths or a pair with an empty side stop the tool with one line naming the file and line; nothing is
written. Train from the rows with `--train_dataset_dir wmt16_train.mindrecord` and the T5 YAMLs.
"""
import os
import sys

if __name__ == '__main__':
    try:
        import mindformers.tools.errors  # noqa: F401  pylint: disable=unused-import
    except ImportError:  # run from a source tree: put the repository root on the path
        sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')))

# pylint: disable=wrong-import-position
from tqdm import tqdm

from mindformers.dataset.dataloader.wmt16_dataloader import read_translation_pairs
from mindformers.dataset.translation_dataset import COLUMNS, translation_features
from mindformers.tools.dataset_preprocess.cli import OneLineArgumentParser, run_cli
from mindformers.tools.dataset_preprocess.common import check_output_file, positive_int, write_mindrecord
from mindformers.tools.logger import logger

__all__ = ['encode_pairs', 'main']


def encode_pairs(tokenizer, pairs, src_max_length, tgt_max_length, prefix=''):
    """[(source, target)] -> (rows of COLUMNS, sources cut, targets cut), the rows as TranslationDataset makes."""
    rows, cut_sources, cut_targets = [], 0, 0
    eos = [tokenizer.eos_token_id]
    for source, target in tqdm(pairs, desc='Tokenizing', unit='pair'):
        input_ids, attention_mask, labels = translation_features(tokenizer, source, target, src_max_length,
                                                                 tgt_max_length, prefix)
        cut_sources += len(tokenizer(prefix + source, add_special_tokens=False)['input_ids']) + 1 > src_max_length
        cut_targets += len(tokenizer(target, add_special_tokens=False)['input_ids'] + eos) > tgt_max_length
        rows.append(dict(zip(COLUMNS, (input_ids, attention_mask, labels))))
    return rows, cut_sources, cut_targets


def _tokenizer(args):
    from mindformers.models.t5.t5_tokenizer import T5Tokenizer  # pylint: disable=import-outside-toplevel
    if args.vocab_file:
        return T5Tokenizer(args.vocab_file)
    from mindformers.auto_class import AutoTokenizer  # pylint: disable=import-outside-toplevel
    return T5Tokenizer.from_pretrained(AutoTokenizer.named_vocab_folder(args.tokenizer_type, T5Tokenizer))


def main(argv=None):
    parser = OneLineArgumentParser(prog='wmt16_to_mindrecord.py',
                                   description='Tokenize WMT16-layout sentence pairs into T5 MindRecord rows.')
    parser.add_argument('--dataset_dir', type=str, required=True, help='folder of <stage>.source / <stage>.target')
    parser.add_argument('--stage', type=str, default='train', help='file prefix: train, val or test')
    parser.add_argument('--output_file', type=str, required=True, help='the MindRecord file to write')
    parser.add_argument('--vocab_file', type=str, default=None, help="T5's sentencepiece model (spiece.model)")
    parser.add_argument('--tokenizer_type', type=str, default='t5_small',
                        help='model name whose cached spiece.model is used when --vocab_file is not given')
    parser.add_argument('--src_max_length', type=str, default='1024', help='source tokens per row (seq_length)')
    parser.add_argument('--tgt_max_length', type=str, default='128',
                        help='target tokens per row (max_decode_length)')
    parser.add_argument('--prefix', type=str, default='', help='text put before every source sentence as it is')
    args = parser.parse_args(argv)
    src_max_length = positive_int('--src_max_length')(args.src_max_length)
    tgt_max_length = positive_int('--tgt_max_length')(args.tgt_max_length)
    check_output_file(args.output_file, 1)
    pairs = read_translation_pairs(args.dataset_dir, args.stage)
    tokenizer = _tokenizer(args)
    rows, cut_sources, cut_targets = encode_pairs(tokenizer, pairs, src_max_length, tgt_max_length, args.prefix)
    write_mindrecord(args.output_file, rows, {c: {'type': 'int32', 'shape': [-1]} for c in COLUMNS},
                     't5-translation-schema')
    logger.info("%d rows: sources of %d tokens (%d cut), targets of %d tokens (%d cut)", len(rows), src_max_length,
                cut_sources, tgt_max_length, cut_targets)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('wmt16_to_mindrecord.py', main))
