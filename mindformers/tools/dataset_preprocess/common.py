"""What the data tools share: reading text, WikiText clean-up and paragraphs, cutting token rows, checking and
naming MindRecord output files."""
import os
import re

import numpy as np
from tqdm import tqdm

from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.tools.logger import logger


def clean_wikitext(text):
    """Undo WikiText's tokenization ("1 @,@ 000", "word , word", "= = Heading = =").

    Only patterns that plain prose does not contain are touched, so ordinary text passes unchanged.
    """
    for spaced, joined in ((' @-@ ', '-'), (' @,@ ', ','), (' @.@ ', '.'), (' : ', ': '), (' ; ', '; '),
                           (' . ', '. '), (' ! ', '! '), (' ? ', '? '), (' , ', ', '),
                           ('= = = =', '===='), ('= = =', '==='), ('= =', '==')):
        text = text.replace(spaced, joined)
    return re.sub(r'[ \t]+\n', '\n', text)


def wiki_paragraphs(text):
    """Blank-line separated paragraphs of cleaned WikiText; headings (lines starting with '=') dropped."""
    for paragraph in re.split(r'\n[ \t]*\n', clean_wikitext(text)):
        paragraph = paragraph.strip('\n')
        if paragraph.strip() and not paragraph.strip().startswith('='):
            yield paragraph


def cut_rows(tokens, row_length, flag='--seq_length', needed='seq_length+1'):
    """Consecutive rows {'input_ids': int32 array} of exactly `row_length` tokens; the partial last one is dropped."""
    num_rows = len(tokens) // row_length
    if num_rows == 0:
        raise DatasetError(f"the text gives {len(tokens)} tokens, fewer than {needed} = {row_length}: no row can be "
                           f"made; use more text or a smaller {flag}")
    return [{'input_ids': np.array(tokens[i * row_length:(i + 1) * row_length], dtype=np.int32)}
            for i in range(num_rows)]


def wiki_rows(tokenizer, texts, row_length, repeat=1):
    """The paragraphs of `texts`, each tokenized on its own, concatenated `repeat` times and cut into rows."""
    paragraphs = [p for text in texts for p in wiki_paragraphs(text)]
    tokens = []
    for paragraph in tqdm(paragraphs, desc='Tokenizing', unit='paragraph'):
        tokens.extend(tokenizer(paragraph)['input_ids'])
    return cut_rows(tokens * repeat, row_length)


def add_gpt2_tokenizer_args(parser):
    """--tokenizer_type / --vocab_file / --merges_file of the GPT-2 data tools."""
    parser.add_argument('--tokenizer_type', type=str, default='gpt2', choices=['gpt2'])
    parser.add_argument('--vocab_file', type=str, default=None, help='GPT-2 vocab.json (else checkpoint_download)')
    parser.add_argument('--merges_file', type=str, default=None, help='GPT-2 merges.txt (else checkpoint_download)')


def data_columns(values, allowed):
    """--data_columns as given (`a b`, `[a,b]`, `a,b`) -> the column names; unknown or none is a ConfigError."""
    columns = [c for value in values for c in value.strip('[]').split(',') if c.strip()]
    columns = [c.strip() for c in columns]
    unknown = [c for c in columns if c not in allowed]
    if unknown or not columns:
        raise ConfigError(f"--data_columns {unknown or columns}: choose from {list(allowed)}")
    return columns


def gpt2_tokenizer(tokenizer_type='gpt2', vocab_file=None, merges_file=None):
    """The GPT-2 tokenizer from --vocab_file/--merges_file, else the files cached for `tokenizer_type`
    (checkpoint_download/gpt2/, downloaded when absent)."""
    from mindformers.models.gpt2.gpt2_tokenizer import GPT2Tokenizer  # pylint: disable=import-outside-toplevel
    if vocab_file or merges_file:
        return GPT2Tokenizer(vocab_file=vocab_file, merges_file=merges_file)
    from mindformers.auto_class import AutoTokenizer  # pylint: disable=import-outside-toplevel
    return AutoTokenizer.from_pretrained(tokenizer_type)


def read_text(path):
    try:
        with open(path, encoding='utf-8') as stream:
            return stream.read()
    except UnicodeDecodeError as err:
        raise DatasetError(f"{path} is not UTF-8 text: {err}") from None
    except OSError as err:
        raise DatasetError(f"cannot read {path}: {err.strerror}") from None


def output_file_names(output_file, file_partition):
    """The files MindSpore's FileWriter writes: the name itself, or name0..name{n-1} when partitioned."""
    if file_partition == 1:
        return [output_file]
    return [f"{output_file}{index}" for index in range(file_partition)]


def check_output_file(output_file, file_partition):
    if not output_file or output_file.endswith(os.sep) or os.path.isdir(output_file):
        raise ConfigError(f"--output_file {output_file!r} must name a file, not a directory")
    for name in output_file_names(output_file, file_partition):
        for path in (name, name + '.db'):
            if os.path.exists(path):
                raise ConfigError(f"output file {path} already exists; remove it (and its .db file) "
                                  f"or choose another --output_file")
    out_dir = os.path.dirname(os.path.abspath(output_file))
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ConfigError(f"cannot write --output_file {output_file}: {out_dir} is a file, not a directory")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot create the directory of --output_file {output_file}: {err.strerror}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write --output_file {output_file}: directory {out_dir} is not writable")


def positive_int(name):
    def parse(value):
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number <= 0:
            raise ConfigError(f"{name} must be a positive integer, got '{value}'")
        return number
    return parse


def parse_bool(name, value):
    """A True/False command-line flag ('true', '1', 'yes' / 'false', '0', 'no'); anything else is a ConfigError."""
    if str(value).lower() in ('true', '1', 'yes'):
        return True
    if str(value).lower() in ('false', '0', 'no'):
        return False
    raise ConfigError(f"{name} must be True or False, got '{value}'")


def write_mindrecord(output_file, rows, schema, description):
    """All rows into one MindRecord file; rows are built (and checked) before anything is written."""
    from mindspore.mindrecord import FileWriter  # pylint: disable=import-outside-toplevel
    writer = FileWriter(file_name=output_file, shard_num=1)
    writer.add_schema(schema, description)
    writer.write_raw_data(rows)
    writer.commit()
    logger.info("Wrote %d total instances (%s) to %s", len(rows), ', '.join(schema), output_file)
