"""llama_preprocess: wiki text or conversation JSON -> LLaMA training rows of seq_length+1 tokens in MindRecord.

    python mindformers/tools/dataset_preprocess/llama/llama_preprocess.py --dataset_type wiki \
        --input_glob wiki.train.tokens --model_file tokenizer.model --seq_length 2048 --output_file wiki2048.mindrecord
    python mindformers/tools/dataset_preprocess/llama/llama_preprocess.py --dataset_type qa \
        --input_glob alpaca-data-conversation.json --model_file tokenizer.model --seq_length 2048 \
        --output_file alpaca.mindrecord

wiki: schema {input_ids: int32 [-1]}. Blank-line separated paragraphs (headings starting with '=' dropped)
are tokenized as <s> ... </s>, concatenated (`--repeat` times) and cut into rows of exactly seq_length+1
tokens; the last partial row is dropped.

qa: schema {input_ids, labels: int32 [-1]}. Each conversation (alpaca_converter.py's output) is rendered
with the vicuna_v1.1 template ("<system> USER: <q> ASSISTANT: <a></s>USER: ...") and tokenized with
<s> in front and </s> at the end, cut to seq_length+1 (keeping the final </s>) and right-padded with the
pad id. `labels` is `input_ids` with -100 on the <s>, on each round's instruction part (everything up
to and including "ASSISTANT:") and on the padding, so only answers and their </s> are learnt. A row
whose tokens do not line up with its rounds (e.g. a message that contains "</s>") gets -100 everywhere.

The model shifts rows itself: inputs are tokens [0:seq_length], targets tokens [1:seq_length+1].
`--input_glob` may be one path or a glob (all matches, sorted); `--repeat` writes the data that many
times; `--file_partition n` > 1 writes n files named <output_file>0 .. <output_file>{n-1}, as MindSpore's
FileWriter does. An existing output file is never overwritten.
"""
import glob
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
from tqdm import tqdm

from mindformers.models.llama.llama_tokenizer import LlamaTokenizer
from mindformers.tools.dataset_preprocess.cli import OneLineArgumentParser, run_cli
from mindformers.tools.dataset_preprocess.common import (check_output_file, clean_wikitext, output_file_names,
                                                         positive_int, read_text, wiki_rows)
from mindformers.tools.dataset_preprocess.llama.conversation import get_default_conv_template
from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.tools.logger import logger

__all__ = ['IGNORE_TOKEN_ID', 'clean_wikitext', 'tokenize_wiki', 'conversation_to_row', 'tokenize_qa',
           'output_file_names', 'write_mindrecord', 'main']

IGNORE_TOKEN_ID = -100
WRITE_BATCH = 1000
SCHEMAS = {
    'wiki': {'input_ids': {'type': 'int32', 'shape': [-1]}},
    'qa': {'input_ids': {'type': 'int32', 'shape': [-1]}, 'labels': {'type': 'int32', 'shape': [-1]}},
}
ROLES = {'human': 0, 'gpt': 1}  # index into the template's roles (USER, ASSISTANT)


def tokenize_wiki(tokenizer, file_paths, row_length, repeat=1):
    """Rows of exactly `row_length` token ids (int32) from the paragraphs of the text files."""
    return wiki_rows(tokenizer, [read_text(path) for path in file_paths], row_length, repeat)


def _check_conversations(data, path):
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list of {{'id', 'conversations'}} records "
                           f"(alpaca_converter.py's output), got a {type(data).__name__}")
    for index, record in enumerate(data):
        messages = record.get('conversations') if isinstance(record, dict) else None
        if not isinstance(messages, list):
            raise DatasetError(f"{path}: record {index} has no 'conversations' list")
        for position, message in enumerate(messages):
            if not isinstance(message, dict) or message.get('from') not in ROLES \
                    or not isinstance(message.get('value'), str):
                raise DatasetError(f"{path}: record {index}, message {position} must be "
                                   f"{{'from': 'human'|'gpt', 'value': <text>}}, got {message!r:.80}")


def conversation_to_row(messages, tokenizer, row_length, template=None):
    """One conversation -> (input_ids, labels, lined_up, truncated), both lists of length `row_length`.

    The template renders the messages; the ids are the tokenizer's for the whole prompt (with <s> and
    </s> when it adds them, as the tool's tokenizer does). Labels are worked out round by round:
    "<instruction> ASSISTANT:" is ignored, the answer and the round's "</s>" are kept. If the rounds'
    tokens do not add up to the prompt's tokens exactly, `lined_up` is False and every label is -100.
    """
    conv = (template or get_default_conv_template()).copy()
    conv.messages = []
    if messages and ROLES[messages[0]['from']] != 0:
        messages = messages[1:]  # a conversation starts with the user; a leading answer has no question
    for position, message in enumerate(messages):
        role_index = ROLES[message['from']]
        if role_index != position % 2:
            raise DatasetError(f"message {position} is from '{message['from']}' but the turns must alternate "
                               f"human, gpt, human, ...")
        conv.append_message(conv.roles[role_index], message['value'])
    prompt = conv.get_prompt()
    input_ids = tokenizer(prompt)['input_ids']

    answer_sep = conv.sep + conv.roles[1] + ': '
    add_bos, add_eos = getattr(tokenizer, 'add_bos_token', True), getattr(tokenizer, 'add_eos_token', True)
    expected = [tokenizer.bos_token_id] if add_bos else []
    labels = [IGNORE_TOKEN_ID] * len(expected)
    for round_text in prompt.split(conv.sep2):
        parts = round_text.split(answer_sep)
        if round_text == '' or len(parts) != 2:
            break
        instruction_ids = tokenizer(parts[0] + answer_sep.rstrip(' '), add_special_tokens=False)['input_ids']
        round_ids = tokenizer(round_text, add_special_tokens=False)['input_ids']
        if round_ids[:len(instruction_ids)] != instruction_ids:
            break
        expected += round_ids + [tokenizer.eos_token_id]
        labels += [IGNORE_TOKEN_ID] * len(instruction_ids) + round_ids[len(instruction_ids):] + [tokenizer.eos_token_id]
    if add_eos:  # the </s> the tokenizer adds at the end
        expected.append(tokenizer.eos_token_id)
        labels.append(tokenizer.eos_token_id)
    lined_up = expected == input_ids
    if not lined_up:
        labels = [IGNORE_TOKEN_ID] * len(input_ids)

    truncated = len(input_ids) > row_length
    if truncated and add_eos:  # as the tokenizer's truncation does: cut the text, keep the closing </s>
        input_ids = input_ids[:row_length - 1] + input_ids[-1:]
        labels = labels[:row_length - 1] + labels[-1:]
    elif truncated:
        input_ids, labels = input_ids[:row_length], labels[:row_length]
    padding = row_length - len(input_ids)
    input_ids = input_ids + [tokenizer.pad_token_id] * padding
    labels = labels + [IGNORE_TOKEN_ID] * padding
    return input_ids, labels, lined_up, truncated


def tokenize_qa(tokenizer, file_paths, row_length, repeat=1):
    """Rows {'input_ids', 'labels'} (int32, `row_length` long) from conversation JSON files."""
    conversations = []
    for path in file_paths:
        data = _read_json(path)
        _check_conversations(data, path)
        conversations.extend((path, index, record['conversations']) for index, record in enumerate(data))
    if not conversations:
        raise DatasetError(f"no conversation found in {', '.join(file_paths)}")
    template = get_default_conv_template()
    rows, not_lined_up, truncated = [], 0, 0
    for path, index, messages in tqdm(conversations, desc='Tokenizing', unit='conversation'):
        try:
            input_ids, labels, lined_up, was_truncated = conversation_to_row(messages, tokenizer, row_length, template)
        except DatasetError as err:
            raise DatasetError(f"{path}: record {index}: {err}") from None
        not_lined_up += not lined_up
        truncated += was_truncated
        rows.append({'input_ids': np.array(input_ids, dtype=np.int32), 'labels': np.array(labels, dtype=np.int32)})
    if truncated:
        logger.warning("%d of %d conversations are longer than seq_length+1 = %d tokens and were cut",
                       truncated, len(conversations), row_length)
    if not_lined_up:
        logger.warning("%d of %d conversations did not tokenize round by round as a whole (e.g. a message holds "
                       "'</s>'); all their labels are -100", not_lined_up, len(conversations))
    return rows * repeat


def _read_json(path):
    try:
        return json.loads(read_text(path))
    except ValueError as err:
        raise DatasetError(f"{path} is not valid JSON: {err}") from None


def _input_files(pattern):
    if not glob.has_magic(pattern):
        if not os.path.isfile(pattern):
            raise DatasetError(f"--input_glob {pattern}: no such file")
        return [pattern]
    files = sorted(path for path in glob.glob(pattern, recursive=True) if os.path.isfile(path))
    if not files:
        raise DatasetError(f"--input_glob '{pattern}' matches no file")
    return files


def write_mindrecord(rows, output_file, file_partition, dataset_type):
    """Write rows with MindSpore's FileWriter (schema and description by dataset type); returns the files."""
    from mindspore.mindrecord import FileWriter  # pylint: disable=import-outside-toplevel
    writer = FileWriter(file_name=output_file, shard_num=file_partition)
    writer.add_schema(SCHEMAS[dataset_type], dataset_type)
    for start in range(0, len(rows), WRITE_BATCH):
        writer.write_raw_data(rows[start:start + WRITE_BATCH])
    writer.commit()
    return output_file_names(output_file, file_partition)


def main(argv=None):
    parser = OneLineArgumentParser(prog='llama_preprocess.py',
                                   description='Tokenize wiki text or conversations into LLaMA MindRecord rows.')
    parser.add_argument('--dataset_type', type=str, default='wiki', choices=['wiki', 'qa'])
    parser.add_argument('--input_glob', type=str, required=True, help='input file(s): a path or a glob pattern')
    parser.add_argument('--output_file', type=str, default='./dataset/wiki2048/wiki2048')
    parser.add_argument('--tokenizer', type=str, default='llama', choices=['llama'])
    parser.add_argument('--model_file', type=str, default='./tokenizer.model', help='sentencepiece tokenizer.model')
    parser.add_argument('--file_partition', type=str, default='1', help='number of MindRecord files to write')
    parser.add_argument('--repeat', type=str, default='1', help='how many times to write the data')
    parser.add_argument('--seq_length', type=str, default='2048', help='rows hold seq_length+1 tokens')
    args = parser.parse_args(argv)

    seq_length = positive_int('--seq_length')(args.seq_length)
    file_partition = positive_int('--file_partition')(args.file_partition)
    repeat = positive_int('--repeat')(args.repeat)
    input_files = _input_files(args.input_glob)
    if not os.path.isfile(args.model_file):
        raise ConfigError(f"--model_file {args.model_file}: no such file (give the sentencepiece tokenizer.model)")
    check_output_file(args.output_file, file_partition)
    tokenizer = LlamaTokenizer(vocab_file=args.model_file, add_bos_token=True, add_eos_token=True)

    if args.dataset_type == 'wiki':
        rows = tokenize_wiki(tokenizer, input_files, seq_length + 1, repeat)
    else:
        rows = tokenize_qa(tokenizer, input_files, seq_length + 1, repeat)
    files = write_mindrecord(rows, args.output_file, file_partition, args.dataset_type)
    print(f"Transformed {len(rows)} records.")
    print(f"Output: {', '.join(os.path.abspath(name) for name in files)}")
    return 0


if __name__ == '__main__':
    sys.exit(run_cli('llama_preprocess.py', main))
