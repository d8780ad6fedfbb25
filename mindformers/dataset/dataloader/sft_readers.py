"""Tables for the SFT and training loaders: json / jsonl / csv / tsv files (parquet with pyarrow), the built-in
readers of known datasets (squad, cmrc2018, ag-news, wikitext), and the SFT map functions that turn a row into
model inputs."""
import csv
import json
import os
import re

from mindformers.tools.errors import DatasetError

FORMATS = ('json', 'jsonl', 'csv', 'tsv', 'parquet')


def file_format_of(path, file_format=None):
    """The format of `path` (given, or its extension; a folder's first entry), json told from jsonl by content."""
    if not file_format:
        if os.path.isfile(path):
            file_format = os.path.splitext(path)[1]
        elif os.path.isdir(path):
            entries = sorted(os.listdir(path))
            file_format = os.path.splitext(entries[0])[1] if entries else ''
            if file_format.strip('.').lower() != 'parquet':
                raise DatasetError(f"dataset_dir {path} is a folder: only a folder of parquet files is read")
        else:
            raise DatasetError(f"dataset file {path} does not exist")
    file_format = file_format.strip('.').lower()
    if file_format in ('json', 'jsonl') and os.path.isfile(path):
        with open(path, encoding='utf-8') as stream:
            try:
                json.load(stream)
                file_format = 'json'
            except json.JSONDecodeError:
                file_format = 'jsonl'
    if file_format not in FORMATS:
        raise DatasetError(f"dataset file {path}: the format can only be json, jsonl, csv, tsv or parquet, got "
                           f"'{file_format}'")
    return file_format


def read_rows(path, file_format):
    """A list of dict rows."""
    if file_format == 'json':
        with open(path, encoding='utf-8') as stream:
            data = json.load(stream)
        if isinstance(data, dict):
            keys = list(data)
            return [dict(zip(keys, values)) for values in zip(*(data[k] for k in keys))]
        return list(data)
    if file_format == 'jsonl':
        with open(path, encoding='utf-8') as stream:
            return [json.loads(line) for line in stream if line.strip()]
    if file_format in ('csv', 'tsv'):
        with open(path, encoding='utf-8', newline='') as stream:
            return list(csv.DictReader(stream, delimiter='\t' if file_format == 'tsv' else ','))
    try:
        import pyarrow.parquet as pq  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise DatasetError(f"reading parquet ({path}) needs pyarrow: pip install pyarrow") from None
    return pq.ParquetDataset(path, memory_map=True).read().to_pylist()


def _squad_like(path, template, keys):
    with open(path, encoding='utf-8') as stream:
        data = json.load(stream)['data']
    rows = []
    for article in data:
        for paragraph in article['paragraphs']:
            qa = paragraph['qas'][0]
            rows.append({keys[0]: template.format(passage=paragraph['context'], query=qa['question']),
                         keys[1]: qa['answers'][0]['text']})
    return rows


def read_squad(path):
    return _squad_like(path, "Read the passage and answer the question below.\n\n### Instruction:\n{passage}\n\n"
                             "### Input:\n{query}\n\n### Response:", ('sources', 'targets'))


def read_cmrc2018(path):
    return _squad_like(path, "阅读文章：{passage}\n问：{query}\n答：", ('prompts', 'answers'))


def read_ag_news(path):
    rows = []
    with open(path, encoding='utf-8') as stream:
        for line in stream:
            fields = line.strip().strip('"').split('","')
            if len(fields) == 3:
                rows.append({'sentence': f"{fields[1]}. {fields[2]}", 'label': int(fields[0]) - 1})
    return rows


def wikitext_clean(text):
    """Undo wikitext's tokenisation (@-@, spaced punctuation and brackets)."""
    for source, target in ((" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", "."), (" : ", ": "), (" ; ", "; "),
                           (" . ", ". "), (" ! ", "! "), (" ? ", "? "), (" , ", ", "), ("( ", "("), (" )", ")"),
                           ("[ ", "["), (" ]", "]"), ("{ ", "{"), (" }", "}"), (" 's", "'s")):
        text = text.replace(source, target)
    return re.sub(r'" ([^"]*) "', r'"\1"', text)


def read_wikitext(path):
    """One row per article (heading lines `= Title =` start a new one), its lines cleaned and joined."""
    articles, current = [], []
    with open(path, encoding='utf-8') as stream:
        for line in stream:
            stripped = line.strip()
            if re.fullmatch(r'= [^=].*[^=] =', stripped) and current:
                articles.append(' '.join(current))
                current = []
            if stripped:
                current.append(wikitext_clean(stripped))
    if current:
        articles.append(' '.join(current))
    return [{'sentence': article} for article in articles]


READERS = {'squad': read_squad, 'cmrc2018': read_cmrc2018, 'ag-news': read_ag_news, 'wikitext': read_wikitext}

ALPACA_PROMPTS = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n",
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:\n")


def _prepare(tokenizer, max_length, prompt, answer=None):
    ids = tokenizer.encode(prompt, add_special_tokens=False)
    pair = tokenizer.encode(answer, add_special_tokens=False) if answer else None
    return dict(tokenizer.prepare_for_model(ids, pair_ids=pair, add_special_tokens=True, max_length=max_length,
                                            padding='max_length', truncation=True, truncate_direction='LEFT',
                                            return_attention_mask=True))


def _default(row, tokenizer, max_length, **kwargs):
    values = [str(v) for v in row.values()]
    return _prepare(tokenizer, max_length, values[0], values[1] if len(values) > 1 else None)


def _alpaca(row, tokenizer, max_length, **kwargs):
    template = ALPACA_PROMPTS[0] if row.get('input') else ALPACA_PROMPTS[1]
    return _prepare(tokenizer, max_length, template.format(instruction=row['instruction'], input=row.get('input')),
                    row['output'])


def _with_label(prompt_key, label_of):
    def mapper(row, tokenizer, max_length, **kwargs):
        values = list(row.values())
        out = _prepare(tokenizer, max_length, values[3] if prompt_key is None else row[prompt_key])
        out['labels'] = label_of(row, values)
        return out
    return mapper


def _multi_round_chat(row, tokenizer, max_length, data_field='conversations', from_keyword='from',
                      value_keyword='value', user_role_name='human', assistant_role_name='gpt', user_prompt='',
                      assistant_prompt='', ignore_token_id=-100, **kwargs):
    input_ids, labels = [], []
    for message in row[data_field]:
        role, value = message[from_keyword], message[value_keyword]
        if role == user_role_name:
            ids = tokenizer.encode(user_prompt + value, add_special_tokens=False)
            labels += [ignore_token_id] * len(ids)
        elif role == assistant_role_name:
            ids = tokenizer.encode(assistant_prompt + value, add_special_tokens=False)
            labels += ids
        else:
            raise DatasetError(f"multi-round-chat: incorrect role name '{role}' (user_role_name "
                               f"'{user_role_name}', assistant_role_name '{assistant_role_name}')")
        input_ids += ids
    input_ids.append(tokenizer.eos_token_id)
    labels.append(tokenizer.eos_token_id)
    if len(input_ids) >= max_length:
        return {'input_ids': input_ids[:max_length], 'attention_mask': [1] * max_length,
                'labels': labels[:max_length]}
    fill = max_length - len(input_ids)
    return {'input_ids': input_ids + [tokenizer.pad_token_id] * fill,
            'attention_mask': [1] * len(input_ids) + [0] * fill, 'labels': labels + [ignore_token_id] * fill}


MAP_FUNCTIONS = {
    'default': _default,
    'alpaca': _alpaca,
    'advertisegen': lambda row, tokenizer, max_length, **kw: _prepare(tokenizer, max_length, row['content'],
                                                                      row['summary']),
    'cola': _with_label(None, lambda row, values: int(values[1])),
    'imdb': _with_label('review', lambda row, values: 1 if row['sentiment'] == 'positive' else 0),
    'sst-2': _with_label('sentence', lambda row, values: int(row['label'])),
    'ag-news': _with_label('sentence', lambda row, values: int(row['label'])),
    'tnews': _with_label('sentence', lambda row, values: int(row['label']) - 100),
    'multi-round-chat': _multi_round_chat,
}
