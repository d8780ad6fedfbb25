"""tnews_data_process: TNEWS (CLUE news-title classification) JSON lines -> prompt-classification MindRecord rows.

    python mindformers/tools/dataset_preprocess/pangualpha/tnews_data_process.py --input_file tnews/dev.json \
        --label_file tnews/labels.json --output_file tnews.mindrecord --max_length 1024 --n_shot one_shot

Each input line is {"label_desc": "news_sports", "sentence": ...}. An example becomes `--num_labels` candidate texts
(the true label and others drawn at random, in a random order): `--prompt_text` ("这是关于{}的文章：{}") filled with a
label's Chinese name and the sentence, after the zero/one/few-shot examples. Columns (int32):
- input_ids: the candidates' ids, each cut and padded (pad id) to `--max_length`, flattened (num_labels * max_length),
- labels: [index of the true candidate],
- attention_mask: 1 on each candidate's sentence tokens (the part whose loss PromptAccMetric compares), else 0.
`--label_file` lines with "label_desc_ch" give the Chinese names (else the built-in TNEWS map). The tokenizer is
pangualpha_2_6b's vocab.model from checkpoint_download/pangualpha/ (downloaded when absent), or `--vocab_file`.
Randomness is seeded (2), as upstream, so the same files give the same rows.
"""
import itertools
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

from mindformers.tools.dataset_preprocess.cli import OneLineArgumentParser, run_cli
from mindformers.tools.dataset_preprocess.common import check_output_file, data_columns, positive_int, read_text
from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.tools.logger import logger

__all__ = ['EN2ZH_LABEL_MAP', 'read_tnews', 'shot_examples', 'prompt_examples', 'main']

EN2ZH_LABEL_MAP = {'news_story': '故事', 'news_culture': '文化', 'news_entertainment': '娱乐', 'news_sports': '体育',
                   'news_finance': '财经', 'news_house': '房产', 'news_car': '汽车', 'news_edu': '教育',
                   'news_tech': '科技', 'news_military': '军事', 'news_travel': '旅行', 'news_world': '世界',
                   'news_stock': '股票', 'news_agriculture': '农业', 'news_game': '游戏'}
COLUMNS = ('input_ids', 'labels', 'attention_mask')
SHOTS = {'zero_shot': 0, 'one_shot': 1, 'five_shot': 5, 'few_shot': 5}


def _json_lines(path):
    rows = []
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            raise DatasetError(f"{path} line {number} is not JSON") from None
    return rows


def label_names(label_file):
    """English label -> Chinese name, from the label file's "label_desc_ch" entries or the TNEWS map."""
    names = {}
    if label_file:
        for row in _json_lines(label_file):
            if 'label_desc_ch' in row and 'label_desc' in row:
                names[row['label_desc']] = row['label_desc_ch']
    return names or dict(EN2ZH_LABEL_MAP)


def read_tnews(path, names):
    """[(sentence, Chinese label)] of a TNEWS JSON-lines file; a line without them names its number."""
    examples = []
    for number, row in enumerate(_json_lines(path), 1):
        if not isinstance(row, dict) or 'sentence' not in row or 'label_desc' not in row:
            raise DatasetError(f"{path} line {number} has no 'sentence' and 'label_desc' keys")
        if row['label_desc'] not in names:
            raise DatasetError(f"{path} line {number}: label {row['label_desc']!r} has no Chinese name (give a "
                               f"--label_file with label_desc_ch)")
        examples.append((row['sentence'], names[row['label_desc']]))
    return examples


def shot_examples(examples, count, rng, prompt, max_len=150):
    """`count` filled prompts with labels as balanced as possible, each cut to max_len characters, one per line."""
    if count == 0:
        return ''
    groups = [np.array([index for index, _ in group]) for _, group in
              itertools.groupby(sorted(enumerate(examples), key=lambda item: item[1][1]), key=lambda item: item[1][1])]
    for group in groups:
        rng.shuffle(group)
    per_label = (count - 1) // len(groups) + 1
    chosen = np.concatenate([group[:per_label] for group in groups])
    rng.shuffle(chosen)
    return '\n'.join(prompt.format(examples[i][1], examples[i][0])[:max_len] for i in chosen[:count]) + '\n'


def prompt_examples(examples, tokenizer, prefix, prompt, max_length, num_labels, rng):
    """Yield {'input_ids', 'labels', 'attention_mask'} rows, one per example (see the module doc)."""
    labels = sorted({label for _, label in examples})
    if len(labels) < num_labels:
        raise DatasetError(f"the data has {len(labels)} labels ({', '.join(labels)}); --num_labels {num_labels} "
                           f"needs at least that many")
    pad = tokenizer.pad_token_id
    for sentence, true_label in examples:
        others = sorted(set(labels) - {true_label})
        candidates = [true_label] + [others[i] for i in rng.permutation(len(others))[:num_labels - 1]]
        candidates = [candidates[i] for i in rng.permutation(len(candidates))]
        ids_rows, mask_rows = [], []
        for label in candidates:
            start = len(tokenizer.encode(prefix + prompt.format(label, '')))
            ids = tokenizer.encode(prefix + prompt.format(label, sentence))[:max_length]
            mask = np.zeros(max_length, np.int32)
            mask[min(start, len(ids)):len(ids)] = 1
            ids_rows.append(np.asarray(ids + [pad] * (max_length - len(ids)), np.int32))
            mask_rows.append(mask)
        yield {'input_ids': np.concatenate(ids_rows), 'labels': np.array([candidates.index(true_label)], np.int32),
               'attention_mask': np.concatenate(mask_rows)}


def _tokenizer(vocab_file, tokenizer_type):
    if vocab_file:
        from mindformers.models.pangualpha.pangualpha_tokenizer import \
            PanguAlphaTokenizer  # pylint: disable=import-outside-toplevel
        return PanguAlphaTokenizer(vocab_file)
    from mindformers.auto_class import AutoTokenizer  # pylint: disable=import-outside-toplevel
    return AutoTokenizer.from_pretrained(tokenizer_type)


def main(argv=None):
    parser = OneLineArgumentParser(prog='tnews_data_process.py',
                                   description='TNEWS JSON lines -> prompt-classification MindRecord rows.')
    parser.add_argument('--input_file', type=str, required=True, help='TNEWS JSON lines (sentence, label_desc)')
    parser.add_argument('--label_file', type=str, default=None, help='labels.json (label_desc, label_desc_ch)')
    parser.add_argument('--output_file', type=str, required=True, help='MindRecord file to write')
    parser.add_argument('--num_splits', type=str, default='1', help='MindRecord partitions')
    parser.add_argument('--max_length', type=str, default='1024', help='tokens per candidate (the seq_length)')
    parser.add_argument('--tokenizer_type', type=str, default='pangualpha_2_6b', help='model name of the tokenizer')
    parser.add_argument('--vocab_file', type=str, default=None, help="a PanGu-Alpha vocab.model (else the name's)")
    parser.add_argument('--mindrecord_schema', type=str, default='pangualpha_tnews', help='schema name')
    parser.add_argument('--data_columns', nargs='+', default=list(COLUMNS), help='columns to write')
    parser.add_argument('--n_shot', type=str, default='one_shot', choices=sorted(SHOTS), help='examples before')
    parser.add_argument('--prompt_text', type=str, default='这是关于{}的文章：{}', help='prompt with {label} {text}')
    parser.add_argument('--num_labels', type=str, default='4', help='candidates per example')
    args = parser.parse_args(argv)
    max_length = positive_int('--max_length')(args.max_length)
    num_splits = positive_int('--num_splits')(args.num_splits)
    num_labels = positive_int('--num_labels')(args.num_labels)
    if num_labels < 2:
        raise ConfigError(f"--num_labels must be >= 2, got {num_labels}")
    if args.prompt_text.count('{}') != 2:
        raise ConfigError(f"--prompt_text must hold two '{{}}' (the label, then the text), got {args.prompt_text!r}")
    columns = data_columns(args.data_columns, COLUMNS)
    check_output_file(args.output_file, num_splits)
    for path in (args.input_file, args.label_file):
        if path and not os.path.isfile(path):
            raise ConfigError(f"file not found: {path}")
    rng = np.random.default_rng(seed=2)
    examples = read_tnews(args.input_file, label_names(args.label_file))
    if not examples:
        raise DatasetError(f"{args.input_file} holds no example")
    prefix = shot_examples(examples, SHOTS[args.n_shot], rng, args.prompt_text)
    tokenizer = _tokenizer(args.vocab_file, args.tokenizer_type)
    from mindspore.mindrecord import FileWriter  # pylint: disable=import-outside-toplevel
    writer = FileWriter(file_name=args.output_file, shard_num=num_splits)
    writer.add_schema({name: {'type': 'int32', 'shape': [-1]} for name in columns}, args.mindrecord_schema)
    count = 0
    for row in prompt_examples(examples, tokenizer, prefix, args.prompt_text, max_length, num_labels, rng):
        writer.write_raw_data([{name: row[name] for name in columns}])
        count += 1
    writer.commit()
    logger.info("wrote %d examples of %d candidates x %d tokens to %s", count, num_labels, max_length,
                args.output_file)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('tnews_data_process.py', main))
