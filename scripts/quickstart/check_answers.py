"""check_answers: score the fine-tuned model's predictions on the held-out questions and show a few.

    python scripts/quickstart/check_answers.py --heldout demo_workdir/data/heldout.json \
        --predictions demo_workdir/text_generation_result.txt

Reads the predict run's `text_generation_result.txt` (str of a list of {'text_generation_text': [...]}),
takes the text after the last "ASSISTANT:" of each output as the answer, compares it with the expected
answer, prints examples and the accuracy, and exits 1 when fewer than --min_accuracy are right.
"""
import argparse
import ast
import json
import sys


def answers_from_predictions(path):
    with open(path, encoding='utf-8') as stream:
        batches = ast.literal_eval(stream.read())
    texts = [text for batch in batches for text in batch['text_generation_text']]
    return [text.rsplit('ASSISTANT:', 1)[-1].strip() for text in texts]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--heldout', required=True)
    parser.add_argument('--predictions', required=True)
    parser.add_argument('--show', type=int, default=3)
    parser.add_argument('--min_accuracy', type=float, default=0.5)
    args = parser.parse_args()
    with open(args.heldout, encoding='utf-8') as stream:
        heldout = json.load(stream)
    answers = answers_from_predictions(args.predictions)
    if len(answers) != len(heldout):
        print(f"check_answers.py: error: {len(answers)} predictions for {len(heldout)} held-out questions",
              file=sys.stderr)
        return 2
    right = [a.rstrip('.').lower() == item['output'].rstrip('.').lower() for a, item in zip(answers, heldout)]
    for item, answer, ok in list(zip(heldout, answers, right))[:args.show]:
        question = (item['instruction'] + ' ' + item['input']).strip()
        print(f"held-out question: {question}\n  model answer: {answer!r}   expected: {item['output']!r}   "
              f"{'correct' if ok else 'wrong'}")
    accuracy = sum(right) / len(right)
    print(f"held-out accuracy: {sum(right)}/{len(right)} = {accuracy:.1%} (chance is about 12.5%)")
    return 0 if accuracy >= args.min_accuracy else 1


if __name__ == '__main__':
    sys.exit(main())
