"""MultiSourceDataLoader: several data loaders read as one, each contributing a chosen number of rows."""
import inspect
import random

from mindspore.dataset import GeneratorDataset

from mindformers.tools.errors import DatasetError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['MultiSourceDataLoader', 'MultiSourceIterDataSet']

_SHUFFLE = {'infile': (False, True), 'files': (True, False), 'global': (True, True)}


def _sizes(count, dataset_ratios, samples_count, nums_per_dataset):
    """(rows to take per loader or [] for all of them, whether rows are sampled)."""
    if dataset_ratios is not None:
        if not isinstance(dataset_ratios, (list, tuple)) or len(dataset_ratios) != count:
            raise DatasetError(f"MultiSourceDataLoader: dataset_ratios must be a list with one ratio per "
                               f"sub_data_loader ({count}), got {dataset_ratios!r}")
        if any(ratio < 0 for ratio in dataset_ratios):
            raise DatasetError(f"MultiSourceDataLoader: dataset_ratios must not be negative, got {dataset_ratios}")
        if abs(sum(dataset_ratios) - 1) > 1e-5:
            raise DatasetError(f"MultiSourceDataLoader: dataset_ratios must sum to 1, got {sum(dataset_ratios)}")
        if not isinstance(samples_count, int) or samples_count <= 0:
            raise DatasetError(f"MultiSourceDataLoader: dataset_ratios needs samples_count > 0, got "
                               f"{samples_count!r}")
        return [int(ratio * samples_count) for ratio in dataset_ratios], True
    if nums_per_dataset is not None:
        if not isinstance(nums_per_dataset, (list, tuple)) or len(nums_per_dataset) != count:
            raise DatasetError(f"MultiSourceDataLoader: nums_per_dataset must be a list with one count per "
                               f"sub_data_loader ({count}), got {nums_per_dataset!r}")
        if any(num < 0 for num in nums_per_dataset):
            raise DatasetError(f"MultiSourceDataLoader: nums_per_dataset must not be negative, got "
                               f"{nums_per_dataset}")
        return list(nums_per_dataset), True
    return [], False


def _shuffle_flags(shuffle):
    if isinstance(shuffle, bool):
        return shuffle, shuffle
    key = str(getattr(shuffle, 'value', shuffle)).lower()
    if key not in _SHUFFLE:
        raise DatasetError(f"MultiSourceDataLoader: shuffle must be True, False, 'global', 'files' or 'infile', got "
                           f"{shuffle!r}")
    return _SHUFFLE[key]


def _accepted(cls, args):
    target = cls.__new__ if '__new__' in vars(cls) else cls.__init__
    params = inspect.signature(target).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return dict(args)
    return {key: value for key, value in args.items() if key in params}


@MindFormerRegister.register(MindFormerModuleType.DATASET_LOADER)
class MultiSourceDataLoader:
    """`sub_data_loader`: a list of loader sections ({type: ..., dataset_dir: ...}); `sub_data_loader_args` go to
    every one of them (and `column_names` to the result). Rows per loader: `dataset_ratios` x `samples_count`, or
    `nums_per_dataset`, or all rows (capped at what each loader has). `shuffle`: True / 'global' (rows of all
    loaders interleaved at random, each loader shuffled), 'files' (interleaved, each loader in order), 'infile'
    (loaders one after another, each shuffled), False (one after another, in order)."""

    def __new__(cls, sub_data_loader, sub_data_loader_args=None, dataset_ratios=None, samples_count=None,
                nums_per_dataset=None, shuffle=True, shuffle_buffer_size=320, **kwargs):
        if not isinstance(sub_data_loader, (list, tuple)) or not sub_data_loader:
            raise DatasetError("MultiSourceDataLoader: sub_data_loader must be a non-empty list of loader sections")
        nums, sampled = _sizes(len(sub_data_loader), dataset_ratios, samples_count, nums_per_dataset)
        shuffle_dataset, shuffle_file = _shuffle_flags(shuffle)
        shared = dict(sub_data_loader_args or {})
        shared['shuffle'] = shuffle_file
        loaders = []
        for index, section in enumerate(sub_data_loader):
            args = dict(section)
            name = args.pop('type', None)
            if name is None:
                raise DatasetError(f"MultiSourceDataLoader: sub_data_loader[{index}] has no type")
            args.update(shared)
            args.update(kwargs)
            loader_cls = MindFormerRegister.get_cls(MindFormerModuleType.DATASET_LOADER, name)
            loaders.append(loader_cls(**_accepted(loader_cls, args)))
        for index, loader in enumerate(loaders):
            actual = loader.get_dataset_size()
            if not sampled:
                nums.append(actual)
            elif nums[index] > actual:
                logger.warning("MultiSourceDataLoader: sub_data_loader[%d] has %d rows, fewer than the %d asked; "
                               "taking %d", index, actual, nums[index], actual)
                nums[index] = actual
        logger.info("MultiSourceDataLoader: rows per loader %s, %d in all", nums, sum(nums))
        generator_params = inspect.signature(GeneratorDataset.__init__).parameters
        args = {key: value for key, value in shared.items() if key in generator_params and key != 'source'}
        source = MultiSourceIterDataSet(loaders, nums, shuffle_buffer_size, shuffle_dataset)
        return GeneratorDataset(source, **args)


class MultiSourceIterDataSet:
    """Rows of several datasets: `sample_nums[i]` from dataset i (its first rows, in its own order). In order, the
    datasets follow one another; shuffled, rows come in buffers of `shuffle_buffer_size` drawn from every dataset in
    proportion to its count (Python's `random`)."""

    def __init__(self, dataset_list, sample_nums, shuffle_buffer_size=320, shuffle_dataset=True):
        pairs = list(zip(dataset_list, sample_nums))
        if shuffle_dataset:
            random.shuffle(pairs)
        self.datasets = [pair[0] for pair in pairs]
        self.nums = [pair[1] for pair in pairs]
        self.shuffle = shuffle_dataset
        self.size = sum(self.nums)
        self.buffer_size = shuffle_buffer_size
        self.base = [int(shuffle_buffer_size * num / self.size) for num in self.nums] if self.size else []
        self.base_size = sum(self.base)
        self.buffer = []

    def __len__(self):
        return self.size

    def __iter__(self):
        iterators = [dataset.create_tuple_iterator(num_epochs=1, output_numpy=True) for dataset in self.datasets]
        remaining = list(self.nums)
        order = []
        for created in range(self.size):
            if self.shuffle:
                if created % self.buffer_size == 0:
                    order = self._refill(remaining)
                index = order[created % self.buffer_size]
            else:
                index = next(i for i, left in enumerate(remaining) if left > 0)
                remaining[index] -= 1
            yield tuple(next(iterators[index]))

    def _refill(self, remaining):
        """The next buffer of dataset indices: each dataset's share of the buffer (never more than it has left),
        topped up from datasets drawn at random, shuffled."""
        total = min(self.buffer_size, sum(remaining))
        counts = [min(base, left) for base, left in zip(self.base, remaining)]
        for i, count in enumerate(counts):
            remaining[i] -= count
        for _ in range(total - sum(counts)):
            start = random.randint(0, len(remaining) - 1)
            pick = next(j % len(remaining) for j in range(start, start + len(remaining))
                        if remaining[j % len(remaining)] > 0)
            counts[pick] += 1
            remaining[pick] -= 1
        buffer = [i for i, count in enumerate(counts) for _ in range(count)]
        random.shuffle(buffer)
        return buffer
