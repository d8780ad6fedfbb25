"""What the JSON-lines loaders share: finding the file of a stage and sharding the rows."""
import os

from mindspore.dataset import GeneratorDataset

from mindformers.tools.errors import DatasetError

__all__ = ['stage_file', 'sharded_rows']


def stage_file(owner, dataset_dir, file_name, what):
    """`dataset_dir` itself when it is a file, else `dataset_dir/file_name`; missing is a DatasetError."""
    if not dataset_dir:
        raise DatasetError(f"{owner}: data_loader.dataset_dir is not set; give {what} (--train_dataset_dir / "
                           f"--eval_dataset_dir)")
    path = os.path.expanduser(str(dataset_dir))
    if os.path.isdir(path):
        path = os.path.join(path, file_name)
    if not os.path.isfile(path):
        raise DatasetError(f"{owner}: dataset file not found: {path}")
    return path


def sharded_rows(rows, column_names, shuffle, num_shards=None, shard_id=None):
    """A GeneratorDataset of `rows`; under data parallelism each rank reads its shard."""
    shard = {'num_shards': num_shards, 'shard_id': shard_id} if num_shards and num_shards > 1 else {}
    return GeneratorDataset(rows, list(column_names), shuffle=bool(shuffle), **shard)
