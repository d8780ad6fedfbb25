"""qwen2_5_preprocess: chat conversations or wiki text -> Qwen2.5 MindRecord rows of seq_length + 1 tokens.

    python research/qwen2_5/qwen2_5_preprocess.py --dataset_type qa --input_glob alpaca-data-messages.json \
        --vocab_file vocab.json --merges_file merges.txt --seq_length 8192 --output_file alpaca.mindrecord
    python research/qwen2_5/qwen2_5_preprocess.py --dataset_type wiki --input_glob wiki.train.tokens \
        --vocab_file vocab.json --merges_file merges.txt --seq_length 8192 --output_file wiki.mindrecord

qa: JSON Lines, one {"messages": [{"role", "content"}, ...]} per line (research/qwen2_5/alpaca_converter.py
writes them from Alpaca data). Each conversation is rendered in ChatML (`<|im_start|>{role}\\n{content}<|im_end|>\\n`
per message) and tokenized, then cut or right-padded with <|endoftext|> to exactly seq_length + 1 tokens.
Schema (int32 [-1]): input_ids, target_ids (= input_ids: the whole conversation is learnt, as upstream) and
attention_mask (1 where the token is not the pad id).
wiki: blank-line separated paragraphs (headings starting with '=' dropped) are tokenized, concatenated
(`--repeat` times) and cut into rows of seq_length + 1 tokens; the last partial row is dropped. Schema:
input_ids int32 [-1].
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)  # the research tokenizer lives next to this script
try:
    import mindformers.tools.errors  # noqa: F401  pylint: disable=unused-import
except ImportError:  # run from a source tree: put the repository root on the path
    sys.path.insert(0, os.path.abspath(os.path.join(HERE, '..', '..')))

# pylint: disable=wrong-import-position
import numpy as np
from tqdm import tqdm

from mindformers.tools.dataset_preprocess.cli import OneLineArgumentParser, run_cli
from mindformers.tools.dataset_preprocess.common import (check_output_file, output_file_names, positive_int,
                                                         read_text, wiki_rows)
from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.tools.logger import logger
from qwen2_5_tokenizer import Qwen2Tokenizer

__all__ = ['CHATML_TEMPLATE', 'tokenize_qa', 'tokenize_wiki', 'main']

CHATML_TEMPLATE = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
                   "'<|im_end|>' + '\n' }}{% endfor %}"
                   "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def _read_jsonl(path):
    conversations = []
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as err:
            raise DatasetError(f"{path}:{number} is not a JSON object: {err}") from None
        messages = record.get('messages') if isinstance(record, dict) else None
        if not isinstance(messages, list) or not all(isinstance(m, dict) and isinstance(m.get('role'), str) and
                                                     isinstance(m.get('content'), str) for m in messages):
            raise DatasetError(f"{path}:{number} needs a 'messages' list of {{'role', 'content'}} strings")
        conversations.append(messages)
    if not conversations:
        raise DatasetError(f"{path} holds no conversation")
    return conversations


def tokenize_qa(tokenizer, conversations, row_length):
    """Rows {input_ids, target_ids, attention_mask} of exactly `row_length` tokens."""
    pad = tokenizer.pad_token_id
    rows = []
    for messages in tqdm(conversations, desc='Tokenizing', unit='conversation'):
        ids = tokenizer.apply_chat_template(messages, chat_template=CHATML_TEMPLATE, add_generation_prompt=False)
        ids = (ids + [pad] * row_length)[:row_length]
        array = np.asarray(ids, np.int32)
        rows.append({'input_ids': array, 'target_ids': array.copy(), 'attention_mask': (array != pad).astype(np.int32)})
    return rows


def tokenize_wiki(tokenizer, text, row_length, repeat=1):
    return wiki_rows(tokenizer, [text], row_length, repeat)


SCHEMAS = {'qa': ('input_ids', 'target_ids', 'attention_mask'), 'wiki': ('input_ids',)}


def main(argv=None):
    parser = OneLineArgumentParser(prog='qwen2_5_preprocess.py',
                                   description='Tokenize chat conversations or wiki text into Qwen2.5 MindRecord rows.')
    parser.add_argument('--dataset_type', type=str, default='qa', choices=['wiki', 'qa'])
    parser.add_argument('--input_glob', type=str, required=True, help='input file (JSON Lines for qa)')
    parser.add_argument('--output_file', type=str, default='./alpaca-fastchat-qwen.mindrecord')
    parser.add_argument('--vocab_file', type=str, default='./vocab.json')
    parser.add_argument('--merges_file', type=str, default='./merges.txt')
    parser.add_argument('--file_partition', type=str, default='1')
    parser.add_argument('--repeat', type=str, default='1')
    parser.add_argument('--seq_length', type=str, default='2048')
    args = parser.parse_args(argv)
    seq_length = positive_int('--seq_length')(args.seq_length)
    partition = positive_int('--file_partition')(args.file_partition)
    repeat = positive_int('--repeat')(args.repeat)
    for what, path in (('--vocab_file', args.vocab_file), ('--merges_file', args.merges_file),
                       ('--input_glob', args.input_glob)):
        if not os.path.isfile(path):
            raise ConfigError(f"{what} {path} does not exist")
    check_output_file(args.output_file, partition)
    tokenizer = Qwen2Tokenizer(vocab_file=args.vocab_file, merges_file=args.merges_file)
    if args.dataset_type == 'qa':
        rows = tokenize_qa(tokenizer, _read_jsonl(args.input_glob), seq_length + 1)
    else:
        rows = tokenize_wiki(tokenizer, read_text(args.input_glob), seq_length + 1, repeat)
    from mindspore.mindrecord import FileWriter  # pylint: disable=import-outside-toplevel
    writer = FileWriter(file_name=args.output_file, shard_num=partition)
    writer.add_schema({c: {'type': 'int32', 'shape': [-1]} for c in SCHEMAS[args.dataset_type]}, 'qwen2_5')
    writer.write_raw_data(rows)
    writer.commit()
    logger.info("Transformed %d records into %s", len(rows), ', '.join(output_file_names(args.output_file, partition)))
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('qwen2_5_preprocess.py', main))
