"""CLUENERDataLoader: CLUENER2020-style JSON lines (`text` + character-span entities) as (text, label_id) rows."""
import json

import numpy as np

from mindformers.dataset.dataloader.utils import sharded_rows, stage_file
from mindformers.dataset.labels import cluener_labels, cluener_types
from mindformers.tools.errors import DatasetError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['CLUENERDataLoader', 'read_cluener', 'cluener_label_ids']

_STAGE_FILES = {'train': 'train.json', 'dev': 'dev.json', 'test': 'test.json'}
_LABEL2ID = {label: index for index, label in enumerate(cluener_labels)}


def cluener_label_ids(record, where='record'):
    """The BIOS label id of every character of `record['text']`: an entity of one character is S-<type>, a longer
    one B-<type> then I-<type>; the rest is O. `record['label']` is `{type: {entity text: [[start, end], ...]}}`
    with `end` inclusive (CLUENER's layout; test files have no `label`). Unknown types, spans outside the text and
    spans whose characters are not the entity text are DatasetErrors naming `where`."""
    text = record.get('text') if isinstance(record, dict) else None
    if not isinstance(text, str):
        raise DatasetError(f"{where} has no 'text' string")
    tags = ['O'] * len(text)
    entities = record.get('label') or {}
    if not isinstance(entities, dict):
        raise DatasetError(f"{where}: 'label' must map entity types to {{entity: [[start, end], ...]}}")
    for kind, spans_of in entities.items():
        if kind not in cluener_types:
            raise DatasetError(f"{where}: unknown entity tag '{kind}'; CLUENER tags are {cluener_types}")
        if not isinstance(spans_of, dict):
            raise DatasetError(f"{where}: label '{kind}' must map entity texts to [[start, end], ...]")
        for entity, spans in spans_of.items():
            for span in spans if isinstance(spans, list) else [spans]:
                if not (isinstance(span, list) and len(span) == 2 and all(isinstance(i, int) for i in span)):
                    raise DatasetError(f"{where}: span {span!r} of '{entity}' must be [start, end]")
                start, end = span
                if not 0 <= start <= end < len(text):
                    raise DatasetError(f"{where}: span [{start}, {end}] of '{entity}' is outside the text "
                                       f"({len(text)} characters)")
                if text[start:end + 1] != entity:
                    raise DatasetError(f"{where}: span [{start}, {end}] is '{text[start:end + 1]}' in the text, "
                                       f"not the entity '{entity}'")
                if start == end:
                    tags[start] = f'S-{kind}'
                else:
                    tags[start] = f'B-{kind}'
                    tags[start + 1:end + 1] = [f'I-{kind}'] * (end - start)
    return [_LABEL2ID[tag] for tag in tags]


def read_cluener(path):
    """[(text, label ids), ...] of a CLUENER JSON-lines file; bad lines are DatasetErrors naming file and line."""
    rows = []
    with open(path, encoding='utf-8') as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            where = f"{path} line {number}"
            try:
                record = json.loads(line)
            except ValueError as err:
                raise DatasetError(f"{where} is not JSON: {err}") from None
            rows.append((record.get('text') if isinstance(record, dict) else None,
                         cluener_label_ids(record, where)))
    if not rows:
        raise DatasetError(f"{path} holds no records")
    return rows


@MindFormerRegister.register(MindFormerModuleType.DATASET_LOADER)
class CLUENERDataLoader:
    """`CLUENERDataLoader(dataset_dir, column_names=['text', 'label_id'], stage='train')` -> a GeneratorDataset of
    the text (a string) and one label id per character (int32, ids of `cluener_labels`).

    dataset_dir is the CLUENER folder (train.json, dev.json, test.json for stage train / dev / test) or one
    JSON-lines file. Every record is checked when the loader is made.
    """
    _default_column_names = ['text', 'label_id']

    def __new__(cls, dataset_dir=None, column_names=None, stage='train', shuffle=None, num_shards=None,
                shard_id=None, **kwargs):
        del kwargs   # other upstream loader keys change nothing here
        if stage not in _STAGE_FILES:
            raise DatasetError(f"CLUENERDataLoader: stage must be one of {list(_STAGE_FILES)}, got {stage!r}")
        column_names = list(column_names or cls._default_column_names)
        if len(column_names) != 2 or not all(isinstance(name, str) for name in column_names):
            raise DatasetError(f"CLUENERDataLoader: column_names must be two names [text, label], got "
                               f"{column_names!r}")
        path = stage_file('CLUENERDataLoader', dataset_dir, _STAGE_FILES[stage], 'the CLUENER folder '
                          '(train.json / dev.json)')
        rows = [(text, np.array(ids, np.int32)) for text, ids in read_cluener(path)]
        shuffle = stage == 'train' if shuffle is None else bool(shuffle)
        logger.info("CLUENER %s: %d records from %s, shuffle %s", stage, len(rows), path, shuffle)
        return sharded_rows(rows, column_names, shuffle, num_shards, shard_id)
