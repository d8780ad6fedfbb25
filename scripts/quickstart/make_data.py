"""make_data: a small instruction-tuning set that a tiny LLaMA learns in minutes, and a held-out test of it.

    python scripts/quickstart/make_data.py --output_dir demo_data --num_samples 3000 --seed 0

Writes into --output_dir:
  train.json    Stanford-Alpaca list of {"instruction", "input", "output"} (alpaca_converter.py's input)
  heldout.json  list of {"instruction", "input", "output", "prompt"}: questions that never occur in
                train.json; "prompt" is the exact text to give the finetuned model (vicuna_v1.1 chat
                template around the Alpaca prompt, ending in "ASSISTANT:"), "output" the right answer
  corpus.txt    the training conversations as plain text, to train the tokenizer on

The task. A made-up world of creatures with invented names ("the dravok"), each with a color, a home
and a food drawn from eight values each. Every fact can be asked in four phrasings (three plain
instructions and one "Answer the question." with the question in the Input section). For each
creature and attribute one phrasing is held out, a different one for different creatures, so every
phrasing is trained on most creatures and every fact is trained in three phrasings. A held-out
question is then answerable only by a model that learnt the fact *and* what the unseen
(phrasing, creature) combination asks for; a model that did not learn scores about 1 in 8.

Why a tiny model learns it. Answers are 1-2 words from closed lists, the questions are short and sit
in a fixed template (the chat and Alpaca boilerplate never change, and a 1000-piece tokenizer trained
on this corpus makes most of their words single tokens, so a sample is 75-90 tokens), and the whole
world is 120 facts. Measured with the project's LlamaForCausalLM (hidden 256, 2 layers, 4 heads,
seq_length 96, vocab 1000) trained from scratch on 3000 samples with batch 16, AdamW, lr 1e-3 cosine:
about half of the 120 held-out questions right after 1 epoch (187 steps), 107-115 after 2, 116-120
after 4 (748 steps, 1.5-3 minutes on 2 CPU cores); untrained, 1 in 8.
(Copying tasks, e.g. "repeat these words", were tried and left out: a model this small does not pick
them up in a few minutes.) Everything is drawn from `random.Random(seed)`: the same seed gives the
same files, byte for byte.
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
ONSETS = ['b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'dr', 'gl', 'kr', 'pl',
          'sk', 'tr', 'zw']
VOWELS = ['a', 'e', 'i', 'o', 'u']
CODAS = ['', '', 'n', 'r', 'x', 'k', 'm', 'l']


def make_names(rng, count):
    """`count` distinct invented names of 2-3 syllables."""
    names = []
    while len(names) < count:
        syllables = rng.choice((2, 2, 3))
        name = ''.join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables)) + rng.choice(CODAS)
        if name not in names and 5 <= len(name) <= 9:
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


def render_prompt(item):
    """The exact model input for an example: chat template around the Alpaca prompt, ending in 'ASSISTANT:'."""
    conv = get_default_conv_template()
    conv.append_message(conv.roles[0], build_prompt(item['instruction'], item['input']))
    conv.append_message(conv.roles[1], None)
    return conv.get_prompt()


def make_dataset(num_samples=3000, seed=0, num_entities=40):
    """(train, heldout) lists of examples, a pure function of the arguments.

    The training questions (3 phrasings of every fact) are repeated in turn up to `num_samples` and
    shuffled; the held-out set has one question per creature and attribute.
    """
    rng = random.Random(seed)
    world = make_world(rng, num_entities)
    fact_train, heldout = fact_examples(world)
    if num_samples < len(fact_train):
        raise ValueError(f"--num_samples must be at least {len(fact_train)} so that every trained fact "
                         f"occurs (with {num_entities} creatures), got {num_samples}")
    train = [fact_train[i % len(fact_train)] for i in range(num_samples)]
    rng.shuffle(train)
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
