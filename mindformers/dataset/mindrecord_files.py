"""Find and check MindRecord files: directory scanning, schema columns, record length."""
import os
import re

from mindspore.mindrecord import FileReader

from mindformers.tools.errors import DatasetError

_MINDRECORD_NAME = re.compile(r'mindrecord0*$')


def is_mindrecord_path(path):
    """Whether `path` is a MindRecord file (by name) or a folder holding one."""
    if not path or not isinstance(path, str):
        return False
    if os.path.isdir(path):
        return any(_MINDRECORD_NAME.search(name) for _, _, names in os.walk(path) for name in names)
    return bool(_MINDRECORD_NAME.search(os.path.basename(path)))


def find_mindrecord_files(dataset_dir=None, dataset_files=None):
    """A file, or every `*.mindrecord`/`*mindrecord0..` file under a directory (sorted)."""
    if dataset_files:
        files = list(dataset_files)
    elif not dataset_dir:
        raise DatasetError("dataset: neither data_loader.dataset_dir nor data_loader.dataset_files is set; pass "
                           "--train_dataset_dir / --eval_dataset_dir or set it in the YAML")
    elif os.path.isdir(dataset_dir):
        files = []
        for root, _, names in os.walk(dataset_dir):
            files.extend(os.path.join(root, n) for n in names if _MINDRECORD_NAME.search(n))
        files.sort()
        if not files:
            raise DatasetError(f"dataset directory {dataset_dir} holds no MindRecord file (*.mindrecord)")
    elif os.path.isfile(dataset_dir):
        files = [dataset_dir]
    else:
        raise DatasetError(f"dataset path does not exist: {dataset_dir}")
    for path in files:
        if not os.path.isfile(path):
            raise DatasetError(f"dataset file does not exist: {path}")
        if not os.path.isfile(path + '.db'):
            raise DatasetError(f"{path} is not a MindRecord file (its index file {os.path.basename(path)}.db is "
                               f"missing); convert the data with a dataset_preprocess script first")
    return files


def read_schema(path):
    """(column names, first record) of a MindRecord file; unreadable files are a DatasetError."""
    try:
        reader = FileReader(path)
    except (RuntimeError, ValueError, OSError) as err:
        raise DatasetError(f"{path} is not a readable MindRecord file: "
                           f"{str(err).strip().splitlines()[0] if str(err).strip() else err}") from None
    try:
        columns = list(reader.schema().keys()) if hasattr(reader, 'schema') else None
        first = next(reader.get_next(), None)
    finally:
        reader.close()
    if first is not None and columns is None:
        columns = list(first.keys())
    return columns or [], first


def check_columns(path, input_columns):
    columns, first = read_schema(path)
    missing = [c for c in input_columns if c not in columns]
    if missing:
        raise DatasetError(f"{path} has columns {columns} but input_columns asks for {list(input_columns)}; "
                           f"missing {missing}")
    return first


def column_range(files, column, limit=None):
    """(min, max) of an integer column over MindRecord files (over their first `limit` rows when given), read in
    large batches (labels are small)."""
    import mindspore.dataset as ds  # pylint: disable=import-outside-toplevel
    low = high = None
    source = ds.MindDataset(list(files), columns_list=[column], shuffle=False)
    if limit is not None:
        source = source.take(limit)
    source = source.batch(4096)
    for (values,) in source.create_tuple_iterator(output_numpy=True, num_epochs=1):
        low = int(values.min()) if low is None else min(low, int(values.min()))
        high = int(values.max()) if high is None else max(high, int(values.max()))
    return low, high
