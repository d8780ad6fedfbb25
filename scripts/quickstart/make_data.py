"""make_data: a small instruction-tuning set that a tiny LLaMA learns in minutes, and a held-out test of it.

    python scripts/quickstart/make_data.py --output_dir demo_data --num_samples 3000 --seed 0

Writes into --output_dir:
  train.json    Stanford-Alpaca list of {"instruction", "input", "output"} (alpaca_converter.py's input)
  heldout.json  list of {"instruction", "input", "output", "prompt"}: questions that never occur in
                train.json; "prompt" is the exact text to give the finetuned model (vicuna_v1.1 chat
                template around the Alpaca prompt, ending in "ASSISTANT:"), "output" the right answer
  corpus.txt    the training conversations as plain text, to train the tokenizer on

The task. A made-up world of creatures with invented names ("the dravok"), each with a color, a home
and a food, drawn at random. Every fact can be asked in four phrasings (three plain instructions and
one "Answer the question." with the question in the Input section). For each creature and attribute
one phrasing is held out, a different one for different creatures, so every phrasing is trained on
most creatures and every fact is trained in three phrasings. A held-out question is then answerable
only by a model that learnt the fact *and* what the unseen combination asks for; a model that did not
learn scores about 1 in 8 (the number of values per attribute). Beside the facts there are two small
word tasks on a list of common words ("Repeat these words." and "What is the last word?"), whose
held-out questions use word triples that never occur in training: they need copying from the
prompt, not memorizing.

Why a tiny model learns it. Answers are 1-3 words from closed lists, prompts are short and share the
same template (the chat and Alpaca boilerplate are fixed, so a 1000-piece tokenizer trained on this
corpus makes most of their words single tokens), and the whole world is a few hundred facts: a LLaMA
with hidden size 128-256 and 2-4 layers fits it in ~2000 steps of batch 16-32. Everything is drawn from
`random.Random(seed)`: the same seed gives the same files, byte for byte.
"""
import argparse
import json
import os
import random
import sys

try:
    from mindformers.tools.dataset_preprocess.llama.alpaca_converter import build_prompt
except ImportError:  # run from a source tree: put the repository root on the path
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))
    from mindformers.tools.dataset_preprocess.llama.alpaca_converter import build_prompt
# pylint: disable=wrong-import-position
from mindformers.tools.dataset_preprocess.llama.conversation import get_default_conv_template

ATTRIBUTES = {
    'color': ['red', 'blue', 'green', 'yellow', 'purple', 'orange', 'white', 'black'],
    'home': ['the forest', 'the desert', 'the river', 'the mountains', 'the cave', 'the island', 'the swamp',
             'the meadow'],
    'food': ['berries', 'fish', 'seeds', 'leaves', 'honey', 'mushrooms', 'insects', 'roots'],
}
# (instruction, input) templates; {e} is the creature's name
PHRASINGS = {
    'color': [("What color is the {e}?", ""),
              ("Tell me the color of the {e}.", ""),
              ("Answer the question.", "Which color does the {e} have?"),
              ("Name the color of the {e}.", "")],
    'home': [("Where does the {e} live?", ""),
             ("Tell me where the {e} lives.", ""),
             ("Answer the question.", "What is the home of the {e}?"),
             ("Name the place where the {e} lives.", "")],
    'food': [("What does the {e} eat?", ""),
             ("Tell me what the {e} eats.", ""),
             ("Answer the question.", "What food does the {e} like?"),
             ("Name the food of the {e}.", "")],
}
WORDS = ['apple', 'river', 'stone', 'cloud', 'lamp', 'horse', 'bread', 'chair', 'music', 'garden', 'window',
         'candle', 'forest', 'letter', 'mirror', 'silver', 'pencil', 'bridge', 'tiger', 'winter', 'summer',
         'rocket', 'violin', 'castle', 'ocean', 'basket', 'feather', 'button', 'island', 'thunder', 'pepper',
         'dragon', 'planet', 'jacket', 'monkey', 'rabbit', 'shadow', 'copper', 'marble', 'lemon']
WORD_TASKS = {
    'repeat': ("Repeat these words.", lambda words: ' '.join(words)),
    'last': ("What is the last word?", lambda words: words[-1]),
}
ONSETS = ['b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'dr', 'gl', 'kr', 'pl',
          'sk', 'tr', 'zw']
VOWELS = ['a', 'e', 'i', 'o', 'u']
CODAS = ['', '', 'n', 'r', 'x', 'k', 'm', 'l']
FACT_SHARE = 0.7  # of the training samples; the rest are word tasks


def make_names(rng, count):
    """`count` distinct invented names of 2-3 syllables (never one of the common words)."""
    names = []
    while len(names) < count:
        syllables = rng.choice((2, 2, 3))
        name = ''.join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables)) + rng.choice(CODAS)
        if name not in names and name not in WORDS and 5 <= len(name) <= 9:
            names.append(name)
    return names


def make_world(rng, num_entities):
    """[(name, {attribute: value})] with each attribute's values spread evenly over the creatures."""
    names = make_names(rng, num_entities)
    columns = {}
    for attribute, values in ATTRIBUTES.items():
        column = [values[i % len(values)] for i in range(num_entities)]
        rng.shuffle(column)
        columns[attribute] = column
    return [(name, {attribute: columns[attribute][i] for attribute in ATTRIBUTES}) for i, name in enumerate(names)]


def example(instruction, input_text, output):
    return {'instruction': instruction, 'input': input_text, 'output': output}


def fact_examples(world):
    """(training examples, held-out examples): per creature and attribute one phrasing is held out."""
    train, heldout = [], []
    for index, (name, facts) in enumerate(world):
        for attr_index, (attribute, value) in enumerate(facts.items()):
            held = (index + attr_index) % len(PHRASINGS[attribute])
            for phrasing_index, (instruction, input_text) in enumerate(PHRASINGS[attribute]):
                item = example(instruction.format(e=name), input_text.format(e=name), value)
                (heldout if phrasing_index == held else train).append(item)
    return train, heldout


def word_example(task, words):
    instruction, answer = WORD_TASKS[task]
    return example(instruction, ' '.join(words), answer(words))


def render_prompt(item):
    """The exact model input for an example: chat template around the Alpaca prompt, ending in 'ASSISTANT:'."""
    conv = get_default_conv_template()
    conv.append_message(conv.roles[0], build_prompt(item['instruction'], item['input']))
    conv.append_message(conv.roles[1], None)
    return conv.get_prompt()


def make_dataset(num_samples=3000, seed=0, num_entities=40, num_heldout_words=30):
    """(train, heldout) lists of examples, a pure function of the arguments."""
    rng = random.Random(seed)
    world = make_world(rng, num_entities)
    fact_train, fact_heldout = fact_examples(world)
    num_facts = max(len(fact_train), round(FACT_SHARE * num_samples))
    if num_samples < len(fact_train):
        raise ValueError(f"--num_samples must be at least {len(fact_train)} so that every trained fact "
                         f"occurs (with {num_entities} creatures), got {num_samples}")

    heldout_words, seen = [], set()
    tasks = sorted(WORD_TASKS)
    while len(heldout_words) < num_heldout_words:
        words = tuple(rng.sample(WORDS, 3))
        if words not in seen:
            seen.add(words)
            heldout_words.append(word_example(tasks[len(heldout_words) % len(tasks)], list(words)))

    train = [fact_train[i % len(fact_train)] for i in range(num_facts)]
    while len(train) < num_samples:
        words = tuple(rng.sample(WORDS, 3))
        if words in seen:  # held-out triples never occur in training, in any task
            continue
        train.append(word_example(rng.choice(tasks), list(words)))
    rng.shuffle(train)
    heldout = fact_heldout + heldout_words
    for item in heldout:
        item['prompt'] = render_prompt(item)
    return train, heldout


def corpus_lines(train):
    """The training conversations as text lines (no special tokens), for tokenizer training."""
    lines = []
    for item in train:
        text = render_prompt(item) + ' ' + item['output']
        lines.extend(line for line in text.split('\n') if line.strip())
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(prog='make_data.py', description=__doc__.split('\n')[0])
    parser.add_argument('--output_dir', required=True)
    parser.add_argument('--num_samples', type=int, default=3000, help='training examples to write')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num_entities', type=int, default=40, help='invented creatures (3 facts each)')
    args = parser.parse_args(argv)
    try:
        train, heldout = make_dataset(args.num_samples, args.seed, args.num_entities)
    except ValueError as err:
        print(f"make_data.py: error: {err}", file=sys.stderr)
        return 2
    os.makedirs(args.output_dir, exist_ok=True)
    outputs = {'train.json': train, 'heldout.json': heldout}
    for file_name, items in outputs.items():
        with open(os.path.join(args.output_dir, file_name), 'w', encoding='utf-8') as stream:
            json.dump(items, stream, ensure_ascii=False, indent=2)
            stream.write('\n')
    with open(os.path.join(args.output_dir, 'corpus.txt'), 'w', encoding='utf-8') as stream:
        stream.write('\n'.join(corpus_lines(train)) + '\n')
    print(f"Wrote {len(train)} training examples, {len(heldout)} held-out examples and the tokenizer corpus "
          f"to {os.path.abspath(args.output_dir)}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
