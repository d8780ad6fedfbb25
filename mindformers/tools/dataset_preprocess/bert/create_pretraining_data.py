"""create_pretraining_data (BERT): plain text -> masked-LM + next-sentence MindRecord rows for BertForPreTraining.

    python mindformers/tools/dataset_preprocess/bert/create_pretraining_data.py --input_file corpus.txt \
        --output_file wiki_train.mindrecord --vocab_file vocab.txt --max_seq_length 128 \
        --max_predictions_per_seq 20 --masked_lm_prob 0.15 --dupe_factor 10 --random_seed 12345

Input: one sentence (or line of text) per line, documents separated by blank lines, as Google's BERT tool reads
it (the flags keep its names and defaults). Each row is `[CLS] A [SEP] B [SEP]`: A is the first sentences of a
stretch of a document, B either the sentences that follow (`next_sentence_labels` 0) or, half of the time,
sentences of another document (1). `masked_lm_prob` of the word pieces (at most `max_predictions_per_seq`,
whole words with `--do_whole_word_mask True`) are chosen for prediction: 80 % become [MASK], 10 % a random
word piece, 10 % stay.

Schema (the columns of upstream's configs/bert YAML, in BertForPreTraining's argument order): `input_ids`,
`input_mask`, `segment_ids` (int64, max_seq_length), `next_sentence_labels` (int64, 1), `masked_lm_positions`,
`masked_lm_ids` (int64, max_predictions_per_seq, padded with 0) and `masked_lm_weights` (float32, 1.0 on real
predictions, 0.0 on padding).
"""
import os
import random
import sys

if __name__ == '__main__':
    try:
        import mindformers.tools.errors  # noqa: F401  pylint: disable=unused-import
    except ImportError:  # run from a source tree: put the repository root on the path
        sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')))

# pylint: disable=wrong-import-position
import numpy as np
from tqdm import tqdm

from mindformers.tools.dataset_preprocess.bert.common import add_bert_tokenizer_args, bert_tokenizer
from mindformers.tools.dataset_preprocess.cli import OneLineArgumentParser, run_cli
from mindformers.tools.dataset_preprocess.common import check_output_file, parse_bool, positive_int, read_text, write_mindrecord
from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.tools.logger import logger

__all__ = ['COLUMNS', 'read_documents', 'create_instances', 'mask_tokens', 'instance_to_row', 'main']

COLUMNS = ('input_ids', 'input_mask', 'segment_ids', 'next_sentence_labels', 'masked_lm_positions',
           'masked_lm_ids', 'masked_lm_weights')
SCHEMA = {column: {'type': 'float32' if column == 'masked_lm_weights' else 'int64', 'shape': [-1]}
          for column in COLUMNS}


def read_documents(text, tokenizer):
    """[[word pieces of each non-empty line] per document] of a corpus (blank lines end documents)."""
    documents, current = [], []
    for line in tqdm(text.splitlines(), desc='Tokenizing', unit='line'):
        line = line.strip()
        if not line:
            if current:
                documents.append(current)
            current = []
            continue
        tokens = tokenizer.tokenize(line)
        if tokens:
            current.append(tokens)
    if current:
        documents.append(current)
    return documents


def _truncate_pair(tokens_a, tokens_b, budget, rng):
    """Drop tokens from the front or back (at random) of the longer side until both fit `budget`."""
    while len(tokens_a) + len(tokens_b) > budget:
        longer = tokens_a if len(tokens_a) > len(tokens_b) else tokens_b
        del longer[0 if rng.random() < 0.5 else -1]


def _random_other_document(documents, index, rng):
    for _ in range(10):
        other = rng.randrange(len(documents))
        if other != index:
            return documents[other]
    return documents[(index + 1) % len(documents)]


def create_instances(documents, index, max_seq_length, short_seq_prob, rng):
    """(tokens_a, tokens_b, is_random_next) pairs cut from documents[index]."""
    document = documents[index]
    budget = max_seq_length - 3
    target = budget if rng.random() >= short_seq_prob else rng.randint(2, budget)
    instances, chunk, length = [], [], 0
    for position, segment in enumerate(document):
        chunk.append(segment)
        length += len(segment)
        if position != len(document) - 1 and length < target:
            continue
        a_end = rng.randint(1, len(chunk) - 1) if len(chunk) >= 2 else 1
        tokens_a = [token for part in chunk[:a_end] for token in part]
        random_next = len(documents) > 1 and (len(chunk) == 1 or rng.random() < 0.5)
        if random_next:
            other = _random_other_document(documents, index, rng)
            start = rng.randrange(len(other))
            tokens_b = []
            for part in other[start:]:
                tokens_b.extend(part)
                if len(tokens_b) >= target - len(tokens_a):
                    break
        else:
            tokens_b = [token for part in chunk[a_end:] for token in part]
        if tokens_a and tokens_b:
            _truncate_pair(tokens_a, tokens_b, budget, rng)
            instances.append((tokens_a, tokens_b, int(random_next)))
        chunk, length = [], 0
        target = budget if rng.random() >= short_seq_prob else rng.randint(2, budget)
    return instances


def mask_tokens(tokens, vocab_words, masked_lm_prob, max_predictions, rng, whole_word=False,
                special=('[CLS]', '[SEP]'), mask_token='[MASK]'):
    """(tokens with the chosen positions replaced, sorted positions, the original tokens there); `special`
    tokens are never chosen."""
    groups = []
    for position, token in enumerate(tokens):
        if token in special:
            continue
        if whole_word and groups and token.startswith('##'):
            groups[-1].append(position)
        else:
            groups.append([position])
    rng.shuffle(groups)
    wanted = min(max_predictions, max(1, int(round(len(tokens) * masked_lm_prob))))
    output, chosen = list(tokens), []
    for group in groups:
        if len(chosen) >= wanted:
            break
        if len(chosen) + len(group) > wanted:
            continue
        for position in group:
            draw = rng.random()
            if draw < 0.8:
                output[position] = mask_token
            elif draw >= 0.9:
                output[position] = vocab_words[rng.randrange(len(vocab_words))]
            chosen.append(position)
    chosen.sort()
    return output, chosen, [tokens[position] for position in chosen]


def instance_to_row(tokenizer, tokens, segment_ids, next_label, positions, labels, max_seq_length,
                    max_predictions):
    """The MindRecord row (dict of numpy arrays, SCHEMA's columns) of one masked pair."""
    ids = tokenizer.convert_tokens_to_ids(tokens)
    pad = max_seq_length - len(ids)
    open_slots = max_predictions - len(positions)
    return {'input_ids': np.asarray(ids + [tokenizer.pad_token_id] * pad, np.int64),
            'input_mask': np.asarray([1] * len(ids) + [0] * pad, np.int64),
            'segment_ids': np.asarray(segment_ids + [0] * pad, np.int64),
            'next_sentence_labels': np.asarray([next_label], np.int64),
            'masked_lm_positions': np.asarray(list(positions) + [0] * open_slots, np.int64),
            'masked_lm_ids': np.asarray(tokenizer.convert_tokens_to_ids(labels) + [0] * open_slots, np.int64),
            'masked_lm_weights': np.asarray([1.0] * len(positions) + [0.0] * open_slots, np.float32)}


def build_rows(tokenizer, documents, max_seq_length, max_predictions, masked_lm_prob, dupe_factor,
               short_seq_prob, seed, whole_word=False):
    rng = random.Random(seed)
    vocab_words = [word for word in tokenizer.vocab if not (word.startswith('[') and word.endswith(']'))]
    cls, sep = str(tokenizer.cls_token), str(tokenizer.sep_token)
    rows = []
    for _ in range(dupe_factor):
        for index in range(len(documents)):
            for tokens_a, tokens_b, random_next in create_instances(documents, index, max_seq_length,
                                                                     short_seq_prob, rng):
                tokens = [cls] + tokens_a + [sep] + tokens_b + [sep]
                segment_ids = [0] * (len(tokens_a) + 2) + [1] * (len(tokens_b) + 1)
                masked, positions, labels = mask_tokens(tokens, vocab_words, masked_lm_prob, max_predictions, rng,
                                                        whole_word, (cls, sep), str(tokenizer.mask_token))
                rows.append(instance_to_row(tokenizer, masked, segment_ids, random_next, positions, labels,
                                            max_seq_length, max_predictions))
    rng.shuffle(rows)
    return rows


def _probability(name, value):
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise ConfigError(f"{name} must be a number between 0 and 1, got '{value}'")
    return number


def main(argv=None):
    parser = OneLineArgumentParser(prog='create_pretraining_data.py',
                                   description='Mask plain text into BERT pre-training (MLM + NSP) MindRecord rows.')
    parser.add_argument('--input_file', type=str, required=True,
                        help='UTF-8 text, one sentence per line, a blank line between documents')
    parser.add_argument('--output_file', type=str, required=True, help='the MindRecord file to write')
    parser.add_argument('--max_seq_length', type=str, default='128', help='tokens per row (the model seq_length)')
    parser.add_argument('--max_predictions_per_seq', type=str, default='20', help='masked positions per row, at most')
    parser.add_argument('--masked_lm_prob', type=str, default='0.15', help='share of the word pieces to predict')
    parser.add_argument('--dupe_factor', type=str, default='10', help='passes over the text, each masked anew')
    parser.add_argument('--short_seq_prob', type=str, default='0.1', help='share of rows cut shorter on purpose')
    parser.add_argument('--do_whole_word_mask', type=str, default='False', help='mask all pieces of a word at once')
    parser.add_argument('--random_seed', type=str, default='12345')
    add_bert_tokenizer_args(parser)
    args = parser.parse_args(argv)
    max_seq_length = positive_int('--max_seq_length')(args.max_seq_length)
    max_predictions = positive_int('--max_predictions_per_seq')(args.max_predictions_per_seq)
    dupe_factor = positive_int('--dupe_factor')(args.dupe_factor)
    masked_lm_prob = _probability('--masked_lm_prob', args.masked_lm_prob)
    short_seq_prob = _probability('--short_seq_prob', args.short_seq_prob)
    whole_word = parse_bool('--do_whole_word_mask', args.do_whole_word_mask)
    try:
        seed = int(args.random_seed)
    except ValueError:
        raise ConfigError(f"--random_seed must be an integer, got '{args.random_seed}'") from None
    if max_seq_length < 5:
        raise ConfigError(f"--max_seq_length {max_seq_length} leaves no room for two segments after [CLS] and two "
                          f"[SEP]; give at least 5")
    check_output_file(args.output_file, 1)
    tokenizer = bert_tokenizer(args)
    documents = read_documents(read_text(args.input_file), tokenizer)
    if not documents:
        raise DatasetError(f"{args.input_file} holds no text")
    rows = build_rows(tokenizer, documents, max_seq_length, max_predictions, masked_lm_prob, dupe_factor,
                      short_seq_prob, seed, whole_word)
    if not rows:
        raise DatasetError(f"{args.input_file}: no document has two lines to make a sentence pair of; put one "
                           f"sentence per line")
    write_mindrecord(args.output_file, rows, SCHEMA, 'bert-pretraining-schema')
    random_share = np.mean([row['next_sentence_labels'][0] for row in rows])
    logger.info("%d documents -> %d rows of %d tokens (%.0f %% with a random next sentence)", len(documents),
                len(rows), max_seq_length, 100 * random_share)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('create_pretraining_data.py', main))
