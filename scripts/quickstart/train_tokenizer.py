"""train_tokenizer: train a small LLaMA-style sentencepiece BPE tokenizer (`<prefix>.model`) on a text corpus.

    python scripts/quickstart/train_tokenizer.py --input demo_data/corpus.txt \
        --model_prefix demo_data/tokenizer --vocab_size 1000

The model is laid out like LLaMA's: BPE with byte fallback (any UTF-8 text encodes, unknown characters
as <0x..> byte pieces), ids 0/1/2 = <unk>/<s>/</s>, no pad piece, digits split, whitespace kept as it
is (no normalization, no collapsing of spaces), a dummy-prefix space before the text. LlamaTokenizer
reads it with its defaults (pad_token '<unk>').

Training reads the corpus as a list of lines in file order on one thread, so the same corpus gives
the same model, byte for byte, in a few seconds for a corpus of a few MB.
"""
import argparse
import io
import os
import re
import sys

import sentencepiece as spm


class _OneLineArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message}\n')


def _fail(message):
    print(f"train_tokenizer.py: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def train_tokenizer(input_file, model_prefix, vocab_size=1000):
    """Train on the lines of `input_file`; writes `<model_prefix>.model` and `.vocab`, returns the .model path."""
    with open(input_file, encoding='utf-8') as stream:
        lines = [line.rstrip('\n') for line in stream if line.strip()]
    if not lines:
        raise ValueError(f"--input {input_file} has no text")
    # written through model_writer so that no path ends up inside the model: same corpus, same bytes
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        model_type='bpe',
        vocab_size=vocab_size,
        byte_fallback=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        unk_piece='<unk>', bos_piece='<s>', eos_piece='</s>',
        character_coverage=1.0,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        remove_extra_whitespaces=False,
        normalization_rule_name='identity',
        add_dummy_prefix=True,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        num_threads=1,
        minloglevel=2,
    )
    with open(model_prefix + '.model', 'wb') as stream:
        stream.write(model.getvalue())
    sp_model = spm.SentencePieceProcessor(model_proto=model.getvalue())
    with open(model_prefix + '.vocab', 'w', encoding='utf-8') as stream:
        for index in range(sp_model.get_piece_size()):
            stream.write(f"{sp_model.id_to_piece(index)}\t{sp_model.get_score(index):g}\n")
    return model_prefix + '.model'


def main(argv=None):
    parser = _OneLineArgumentParser(prog='train_tokenizer.py',
                                    description='Train a LLaMA-style sentencepiece BPE tokenizer.')
    parser.add_argument('--input', required=True, help='text corpus, one sentence or paragraph per line')
    parser.add_argument('--model_prefix', required=True, help='output prefix: writes <prefix>.model and <prefix>.vocab')
    parser.add_argument('--vocab_size', type=int, default=1000, help='number of pieces (>= 259 + characters)')
    args = parser.parse_args(argv)
    if not os.path.isfile(args.input):
        return _fail(f"--input {args.input}: no such file")
    if args.vocab_size < 260:
        return _fail(f"--vocab_size must be at least 260 (3 special + 256 byte pieces + 1), got {args.vocab_size}")
    out_dir = os.path.dirname(os.path.abspath(args.model_prefix))
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as err:
        return _fail(f"cannot create {out_dir}: {err.strerror}")
    try:
        model_file = train_tokenizer(args.input, args.model_prefix, args.vocab_size)
    except (ValueError, RuntimeError, OSError, UnicodeDecodeError) as err:
        # sentencepiece: "... Vocabulary size too high (5000). Please set it to a value <= 292."
        limit = re.search(r'Vocabulary size too high.*<= (\d+)', str(err))
        if limit:
            return _fail(f"--vocab_size {args.vocab_size} is more than {args.input} can fill; "
                         f"use --vocab_size {limit.group(1)} or less, or a larger corpus")
        return _fail(f"training on {args.input} failed: {err}")
    sp_model = spm.SentencePieceProcessor(model_file=model_file)
    print(f"Trained a BPE tokenizer with {sp_model.get_piece_size()} pieces.")
    print(f"Output: {os.path.abspath(model_file)}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
