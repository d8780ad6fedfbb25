"""ADGenDataLoader: the ADGEN advertising-text set (JSON lines of content + summary) as (prompt, answer) rows."""
import json

from mindformers.dataset.dataloader.utils import sharded_rows, stage_file
from mindformers.tools.errors import DatasetError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['ADGenDataLoader', 'read_adgen']

# file of each phase when dataset_dir is a folder (the AdvertiseGen download)
_PHASE_FILES = {'train': 'train.json', 'eval': 'dev.json'}


def read_adgen(path, origin_columns=('content', 'summary')):
    """[(prompt, answer), ...] from a JSON-lines file; a bad line is a DatasetError naming the file and line."""
    if not isinstance(origin_columns, (list, tuple)) or len(origin_columns) != 2 or \
            not all(isinstance(c, str) for c in origin_columns):
        raise DatasetError(f"ADGenDataLoader: origin_columns must be two key names [prompt, answer], "
                           f"got {origin_columns!r}")
    prompt_key, answer_key = origin_columns
    rows = []
    with open(path, encoding='utf-8') as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as err:
                raise DatasetError(f"{path} line {number} is not JSON: {err}") from None
            if not isinstance(record, dict) or prompt_key not in record or answer_key not in record:
                raise DatasetError(f"{path} line {number} has no '{prompt_key}' and '{answer_key}' keys "
                                   f"(origin_columns); it has {sorted(record) if isinstance(record, dict) else record}")
            rows.append((str(record[prompt_key]), str(record[answer_key])))
    if not rows:
        raise DatasetError(f"{path} holds no records")
    return rows


@MindFormerRegister.register(MindFormerModuleType.DATASET_LOADER)
class ADGenDataLoader:
    """`ADGenDataLoader(dataset_dir, phase)` -> a GeneratorDataset with string columns `prompt`, `answer`.

    dataset_dir: a JSON-lines file (`{"content": ..., "summary": ...}` per line), or the AdvertiseGen folder
    (train.json for phase 'train', dev.json for 'eval'). origin_columns names the two keys.
    """

    def __new__(cls, dataset_dir, phase='train', shuffle=True, origin_columns=('content', 'summary'), version=None,
                num_shards=None, shard_id=None, **kwargs):
        del version, kwargs   # read by KeyWordGenDataset; other upstream keys change nothing here
        if phase not in _PHASE_FILES:
            raise DatasetError(f"ADGenDataLoader: phase must be 'train' or 'eval', got {phase!r}")
        path = stage_file('ADGenDataLoader', dataset_dir, _PHASE_FILES[phase], 'the ADGEN train.json / dev.json')
        rows = read_adgen(path, origin_columns)
        logger.info("ADGEN %s: %d records from %s, shuffle %s", phase, len(rows), path, shuffle)
        return sharded_rows(rows, ['prompt', 'answer'], shuffle, num_shards, shard_id)
