"""bert/create_pretraining_data.py: sentence pairs cut from documents (the next-sentence half contiguous in its
document, the random half from another), masking in the 80/10/10 proportions with the originals in masked_lm_ids,
whole-word masking, the MindRecord schema MaskLanguageModelDataset reads, and one-line errors (exit 2)."""
import random

import numpy as np
import pytest

from mindformers import BertTokenizer
from mindformers.tools.dataset_preprocess.bert.create_pretraining_data import (SCHEMA, build_rows, main,
                                                                               mask_tokens, read_documents)
from mindformers.tools.dataset_preprocess.cli import run_cli

WORDS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] + [f'w{i}' for i in range(60)] + ['##x', '##y']


@pytest.fixture(name='tokenizer')
def fixture_tokenizer(tmp_path):
    (tmp_path / 'vocab.txt').write_text('\n'.join(WORDS) + '\n', encoding='utf-8')
    return BertTokenizer(vocab_file=str(tmp_path / 'vocab.txt'))


def corpus(documents=12, lines=6, seed=0):
    """Documents whose words never repeat across the corpus positions: w{doc}{line} pieces in a known order."""
    rng = random.Random(seed)
    docs = []
    for _ in range(documents):
        docs.append('\n'.join(' '.join(f'w{rng.randrange(60)}' for _ in range(rng.randint(3, 7)))
                              for _ in range(lines)))
    return '\n\n'.join(docs) + '\n'


def restore(row, tokenizer):
    """The row's tokens with the original word pieces put back at the masked positions."""
    ids = row['input_ids'].copy()
    count = int(row['masked_lm_weights'].sum())
    ids[row['masked_lm_positions'][:count]] = row['masked_lm_ids'][:count]
    return tokenizer.convert_ids_to_tokens(ids[:int(row['input_mask'].sum())].tolist())


def starts(document, piece):
    return [i for i in range(len(document) - len(piece) + 1) if document[i:i + len(piece)] == piece]


def follows(document, tokens_a, tokens_b):
    """Whether B comes right after A in the document, but for a few pieces cut off A's end or B's start."""
    return any(0 <= j - (i + len(tokens_a)) < 8 for i in starts(document, tokens_a) for j in starts(document, tokens_b))


def test_pairs_masks_and_schema(tokenizer):
    documents = read_documents(corpus(), tokenizer)
    flat = [[token for line in doc for token in line] for doc in documents]
    rows = build_rows(tokenizer, documents, max_seq_length=32, max_predictions=5, masked_lm_prob=0.15,
                      dupe_factor=4, short_seq_prob=0.1, seed=1)
    assert rows and sorted(rows[0]) == sorted(SCHEMA)
    kinds = {'mask': 0, 'same': 0, 'other': 0}
    for row in rows:
        assert row['input_ids'].shape == row['input_mask'].shape == row['segment_ids'].shape == (32,)
        assert row['masked_lm_ids'].shape == row['masked_lm_positions'].shape == row['masked_lm_weights'].shape == (5,)
        assert row['masked_lm_weights'].dtype == np.float32 and row['input_ids'].dtype == np.int64
        tokens = restore(row, tokenizer)
        length = len(tokens)
        first_sep = tokens.index('[SEP]')
        assert tokens[0] == '[CLS]' and tokens[-1] == '[SEP]' and tokens.count('[SEP]') == 2
        assert row['segment_ids'][:length].tolist() == [0] * (first_sep + 1) + [1] * (length - first_sep - 1)
        assert not row['input_mask'][length:].any() and not row['input_ids'][length:].any()
        tokens_a, tokens_b = tokens[1:first_sep], tokens[first_sep + 1:-1]
        # B follows A in one document (truncation cuts pieces off the outer ends) or comes from another one
        assert any(follows(doc, tokens_a, tokens_b) for doc in flat) == (row['next_sentence_labels'][0] == 0)
        count = int(row['masked_lm_weights'].sum())
        assert 1 <= count <= 5 and not row['masked_lm_weights'][count:].any()
        positions = row['masked_lm_positions'][:count]
        assert (np.diff(positions) > 0).all() and (positions > 0).all() and (positions < length - 1).all()
        for position, original in zip(positions, row['masked_lm_ids'][:count]):
            seen = row['input_ids'][position]
            kinds['mask' if seen == tokenizer.mask_token_id else 'same' if seen == original else 'other'] += 1
    total = sum(kinds.values())
    share_random = np.mean([row['next_sentence_labels'][0] for row in rows])
    assert 0.35 < share_random < 0.65, share_random
    assert abs(kinds['mask'] / total - 0.8) < 0.05 and abs(kinds['same'] / total - 0.1) < 0.05, kinds


def test_whole_word_masking_takes_every_piece_of_a_word():
    tokens = ['[CLS]', 'w1', '##x', '##y', 'w2', 'w3', '##x', '[SEP]']
    for seed in range(20):
        _, positions, labels = mask_tokens(tokens, ['w9'], 0.5, 4, random.Random(seed), whole_word=True)
        chosen = set(positions)
        for word in ({1, 2, 3}, {4}, {5, 6}):
            assert word <= chosen or not word & chosen
        assert labels == [tokens[p] for p in positions] and 0 not in chosen and 7 not in chosen


@pytest.mark.usefixtures('tokenizer')   # writes vocab.txt
def test_command_line_writes_rows_and_errors_are_one_line(tmp_path, capsys):
    (tmp_path / 'corpus.txt').write_text(corpus(documents=3), encoding='utf-8')
    out = tmp_path / 'out.mindrecord'
    args = ['--input_file', str(tmp_path / 'corpus.txt'), '--output_file', str(out), '--vocab_file',
            str(tmp_path / 'vocab.txt'), '--max_seq_length', '24', '--dupe_factor', '2']
    assert run_cli('create_pretraining_data.py', main, args) == 0 and out.exists()
    from mindformers.dataset import MaskLanguageModelDataset  # pylint: disable=import-outside-toplevel
    dataset = MaskLanguageModelDataset(dataset_config={
        'data_loader': {'type': 'MindDataset', 'dataset_dir': str(out), 'shuffle': False},
        'input_columns': list(SCHEMA), 'batch_size': 2})
    batch = next(dataset.create_tuple_iterator(output_numpy=True))
    assert dataset.record_length == 24 and batch[0].dtype == np.int32 and batch[-1].dtype == np.float32
    capsys.readouterr()
    (tmp_path / 'one.txt').write_text('w1 w2\n', encoding='utf-8')
    for bad, message in ((['--masked_lm_prob', '1.5'], '--masked_lm_prob must be a number between 0 and 1'),
                         (['--max_seq_length', '4'], '--max_seq_length 4 leaves no room'),
                         (['--input_file', str(tmp_path / 'one.txt')], 'no document has two lines'),
                         (['--output_file', str(out)], 'already exists')):
        target = tmp_path / 'again.mindrecord'
        code = run_cli('create_pretraining_data.py', main, args[:2] + ['--output_file', str(target)] + args[4:] + bad)
        err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith('Tokenizing')]
        assert code == 2 and len(err) == 1 and message in err[0], err
        assert not target.exists() or bad[0] == '--output_file'
