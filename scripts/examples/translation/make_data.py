"""make_data: English -> "Toy" sentence pairs in the WMT16 layout, and a T5-style sentencepiece model for them.

    python scripts/examples/translation/make_data.py --output_dir toy_en_toy

writes `<output_dir>/{train,val,test}.{source,target}` (one sentence per line, the files line-aligned, as
WMT16 en-ro's wmt_en_ro/ folder) and `<output_dir>/spiece.model`.

Toy is a made-up language with a fixed rule: every English word has one Toy word, a describing word follows its
noun, a count comes after the noun phrase and makes the noun end in -i, and the verb goes to the end:
"the two clever dogs finds the red apple" -> "la hundi saĝa du la pomo ruga trovas". The doer is always a person
or an animal and the thing done to an object, each with describing words of its own, so the model can tell the
two noun phrases apart by their words. The val and test sentences never occur in train: a model must learn the
rule, not the sentences.

The sentencepiece model has the special ids of T5's spiece.model (0/1/2 = <pad>/</s>/<unk>, no <s>); it is a BPE
model, so that every word of this small vocabulary is one piece or two.
"""
import argparse
import io
import os
import random
import sys

# the doers (subjects) and the things done to (objects): a model can tell the two noun phrases apart by their words
AGENTS = {'cat': 'kato', 'dog': 'hundo', 'bird': 'birdo', 'horse': 'ĉevalo', 'fish': 'fiŝo', 'child': 'infano',
          'teacher': 'instruo', 'farmer': 'farmo', 'king': 'reĝo', 'queen': 'reĝino', 'friend': 'amiko',
          'doctor': 'kuraco'}
THINGS = {'boat': 'boato', 'house': 'domo', 'tree': 'arbo', 'river': 'rivero', 'garden': 'ĝardeno',
          'letter': 'letero', 'apple': 'pomo', 'song': 'kanto', 'stone': 'ŝtono', 'book': 'libro', 'bridge': 'ponto',
          'flower': 'floro'}
# describing words of each kind of noun phrase
AGENT_ADJECTIVES = {'happy': 'feliĉa', 'young': 'juna', 'old': 'malnova', 'clever': 'saĝa', 'tired': 'laca',
                    'brave': 'brava'}
THING_ADJECTIVES = {'red': 'ruga', 'small': 'malgra', 'big': 'granda', 'quiet': 'kvieta', 'green': 'verda',
                    'strange': 'stranga'}
VERBS = {'sees': 'vidas', 'likes': 'ŝatas', 'follows': 'sekvas', 'finds': 'trovas', 'paints': 'pentras',
         'remembers': 'memoras', 'visits': 'vizitas', 'hears': 'aŭdas', 'helps': 'helpas', 'carries': 'portas',
         'watches': 'rigardas', 'calls': 'vokas'}
COUNTS = {'two': 'du', 'three': 'tri', 'four': 'kvar', 'five': 'kvin'}
PLURAL = {'child': 'children', 'fish': 'fish'}
PREFIX = 'translate English to Toy: '


def noun_phrase(rng, nouns, adjectives, count_rate):
    """(English, Toy) of 'the [adjective] noun' or 'the <count> [adjective] nouns', from `nouns` and `adjectives`."""
    noun = rng.choice(sorted(nouns))
    adjective = rng.choice(sorted(adjectives)) if rng.random() < 0.7 else None
    count = rng.choice(sorted(COUNTS)) if rng.random() < count_rate else None
    english_noun = (PLURAL.get(noun, noun + 's') if count else noun)
    toy_noun = nouns[noun][:-1] + 'i' if count else nouns[noun]
    english = ['the'] + ([count] if count else []) + ([adjective] if adjective else []) + [english_noun]
    toy = ['la', toy_noun] + ([adjectives[adjective]] if adjective else []) + ([COUNTS[count]] if count else [])
    return english, toy


def sentence_pair(rng):
    subject, subject_toy = noun_phrase(rng, AGENTS, AGENT_ADJECTIVES, count_rate=0.3)
    verb = rng.choice(sorted(VERBS))
    obj, obj_toy = noun_phrase(rng, THINGS, THING_ADJECTIVES, count_rate=0.0)
    return ' '.join(subject + [verb] + obj), ' '.join(subject_toy + obj_toy + [VERBS[verb]])


def make_pairs(train_count, val_count, test_count, seed):
    """Distinct sentences: the held-out ones (val, test) never occur in train."""
    rng = random.Random(seed)
    seen, pairs = set(), []
    while len(pairs) < train_count + val_count + test_count:
        english, toy = sentence_pair(rng)
        if english not in seen:
            seen.add(english)
            pairs.append((english, toy))
    return {'train': pairs[:train_count], 'val': pairs[train_count:train_count + val_count],
            'test': pairs[train_count + val_count:]}


def write_split(output_dir, stage, pairs, prefix=PREFIX):
    for side, texts in (('source', [prefix + english for english, _ in pairs]), ('target', [toy for _, toy in pairs])):
        with open(os.path.join(output_dir, f'{stage}.{side}'), 'w', encoding='utf-8') as stream:
            stream.write('\n'.join(texts) + '\n')


def train_spiece(path, lines, vocab_size=300):
    """A sentencepiece BPE model with T5's special ids: <pad>=0, </s>=1, <unk>=2, no <s>."""
    import sentencepiece as spm  # pylint: disable=import-outside-toplevel
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, model_type='bpe',
                                   vocab_size=vocab_size, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                                   character_coverage=1.0, hard_vocab_limit=False, num_threads=1,
                                   shuffle_input_sentence=False, minloglevel=2)
    with open(path, 'wb') as stream:
        stream.write(model.getvalue())
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--output_dir', default='toy_en_toy')
    parser.add_argument('--train_count', type=int, default=3000)
    parser.add_argument('--val_count', type=int, default=100)
    parser.add_argument('--test_count', type=int, default=100)
    parser.add_argument('--vocab_size', type=int, default=300)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if min(args.train_count, args.val_count, args.test_count) < 1:
        parser.exit(2, f"{parser.prog}: error: --train_count, --val_count and --test_count must be >= 1\n")
    os.makedirs(args.output_dir, exist_ok=True)
    splits = make_pairs(args.train_count, args.val_count, args.test_count, args.seed)
    for stage, pairs in splits.items():
        write_split(args.output_dir, stage, pairs)
    lines = [PREFIX + english for english, _ in splits['train']] + [toy for _, toy in splits['train']]
    model = train_spiece(os.path.join(args.output_dir, 'spiece.model'), lines, args.vocab_size)
    counts = ', '.join(f'{stage} {len(pairs)}' for stage, pairs in splits.items())
    print(f"wrote {sum(len(p) for p in splits.values())} pairs ({counts}) and {model} to {args.output_dir}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
