"""Split, merge and re-split checkpoints between parallel layouts with MindSpore's transform API, rank by rank.

A layout is a strategy file (MindSpore's format: written by a compiled Ascend run, or on CPU from the layers'
declarations, see strategy.py), a folder of per-stage strategy files (merged first), or None: a complete
checkpoint. Sources live in `<src_dir>/rank_<i>/*.ckpt`; rank i of the destination is written to
`<dst_dir>/rank_<i>/<prefix><i>.ckpt`.
"""
import glob
import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from tqdm import tqdm

from mindformers.tools.errors import CheckpointError, ConfigError


def _none(value):
    return None if value in (None, '', 'None', 'none') else value


def resolve_strategy(path, scratch):
    """A strategy file, None (complete checkpoint) for ''/'None', or a folder merged into one file in `scratch`."""
    path = _none(path)
    if path is None:
        return None
    if os.path.isdir(path):
        files = sorted(glob.glob(os.path.join(path, '*.ckpt')))
        if not files:
            raise ConfigError(f"strategy folder {path} holds no strategy files (*.ckpt)")
        contents = set()
        for name in files:
            with open(name, 'rb') as stream:
                contents.add(stream.read())
        if len(contents) == 1:             # one stage: every rank's file is the same layout
            return files[0]
        import mindspore as ms  # pylint: disable=import-outside-toplevel
        merged = os.path.join(scratch, f'merged_{len(os.listdir(scratch))}.ckpt')
        try:
            ms.merge_pipeline_strategys(path, merged)
        except (ValueError, RuntimeError) as err:
            raise ConfigError(f"cannot merge the strategy files of {path}: {str(err).splitlines()[0]}") from None
        return merged
    if not os.path.isfile(path):
        raise ConfigError(f"strategy file {path} does not exist")
    return path


def _parse_strategy(strategy_file):
    from mindspore.train import node_strategy_pb2  # pylint: disable=import-outside-toplevel
    strategy = node_strategy_pb2.ParallelStrategyMap()
    try:
        with open(strategy_file, 'rb') as stream:
            strategy.ParseFromString(stream.read())
    except Exception as err:  # pylint: disable=broad-except  (protobuf raises its own DecodeError)
        raise ConfigError(f"{strategy_file} is not a MindSpore strategy file ({type(err).__name__})") from None
    if not strategy.parallel_layout_item:
        raise ConfigError(f"{strategy_file} is not a MindSpore strategy file: it holds no parameter layout")
    return strategy


def read_layouts(strategy_file):
    """{parameter name: (dev_matrix, tensor_map)} of a strategy file: one stage's, or all stages' once merged
    (names '<stage>-<parameter>'). A single stage's file of a pipeline layout (stage > 0) is refused: the
    layout needs every stage's file, merged."""
    strategy = _parse_strategy(strategy_file)
    stages = {item.parallel_strategys.stage for item in strategy.parallel_strategy_item}
    merged = any(item.param_name.partition('-')[0].isdigit() for item in strategy.parallel_layout_item)
    if not merged and any(stages):
        raise ConfigError(f"{strategy_file} is the strategy file of pipeline stage {max(stages)} alone; give the "
                          f"folder of every rank's strategy file, whose stages are merged")
    layouts = {}
    for item in strategy.parallel_layout_item:
        stage, _, name = item.param_name.rpartition('-')
        layout = item.parallel_layouts
        layouts[name if stage.isdigit() else item.param_name] = (list(layout.dev_matrix[0].dim),
                                                                  list(layout.tensor_map[0].dim))
    return layouts


def device_count(strategy_file):
    """Devices a strategy file lays the checkpoint out over (None: 1, a complete checkpoint): the devices of a
    stage times the stages."""
    if strategy_file is None:
        return 1
    strategy = _parse_strategy(strategy_file)
    stages = {int(item.param_name.partition('-')[0]) for item in strategy.parallel_layout_item
              if item.param_name.partition('-')[0].isdigit()}
    first = strategy.parallel_layout_item[0].parallel_layouts
    return int(np.prod(list(first.dev_matrix[0].dim))) * max(len(stages), 1)


def _splits(dev_matrix, tensor_map):
    return [1 if axis < 0 else dev_matrix[len(dev_matrix) - 1 - axis] for axis in tensor_map]


def check_layouts_fit(shapes, layouts, sharded, strategy_file):
    """Every parameter a strategy names must fit the checkpoint: same rank, splits dividing the full shape."""
    for name, shape in shapes.items():
        if name not in layouts:
            continue
        splits = _splits(*layouts[name])
        full = [dim * split for dim, split in zip(shape, splits)] if sharded else list(shape)
        if len(splits) != len(shape) or any(dim % split for dim, split in zip(full, splits)):
            raise CheckpointError(f"strategy {strategy_file} does not match the checkpoint: parameter {name} has shape "
                                  f"{tuple(shape)} but the strategy splits it {tuple(splits)}")


def source_files(src_dir, ranks):
    """{rank: its checkpoint file}: each rank_<i>/ holds exactly one .ckpt, so all ranks are of the same step."""
    if not os.path.isdir(src_dir):
        raise ConfigError(f"src_ckpt_dir {src_dir} does not exist")
    files = {}
    for rank in range(ranks):
        found = sorted(glob.glob(os.path.join(src_dir, f'rank_{rank}', '*.ckpt')))
        if not found:
            present = sorted(d for d in os.listdir(src_dir) if d.startswith('rank_'))
            raise ConfigError(f"src_ckpt_dir {src_dir} has no checkpoint in rank_{rank}/ (the layout needs rank_0 .. "
                              f"rank_{ranks - 1}; found: {', '.join(present) or 'no rank_* folders'})")
        if len(found) > 1:
            raise ConfigError(f"src_ckpt_dir {src_dir}: rank_{rank}/ holds {len(found)} checkpoints; keep one per rank "
                              f"folder, the same step in every rank")
        files[rank] = found[0]
    return files


def _transform_ranks(ranks, files, dst_dir, prefix, src_strategy, dst_strategy, progress=False):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    for rank in tqdm(ranks, desc='transforming', unit='rank', disable=not progress):
        needed = ms.rank_list_for_transform(rank, src_strategy, dst_strategy)
        folder = os.path.join(dst_dir, f'rank_{rank}')
        os.makedirs(folder, exist_ok=True)
        final = os.path.join(folder, f'{prefix}{rank}.ckpt')
        partial = os.path.join(folder, f'.{prefix}{rank}.part.ckpt')     # MindSpore wants a .ckpt name
        ms.transform_checkpoint_by_rank(rank, {i: files[i] for i in needed}, partial, src_strategy, dst_strategy)
        os.replace(partial, final)          # a killed transform never leaves a loadable partial file
    return len(ranks)


def transform_checkpoints(src_dir, dst_dir, src_strategy=None, dst_strategy=None, prefix='checkpoint_',
                          process_num=1, world_size=None):
    """Transform every destination rank; returns the list of files written."""
    if _none(src_strategy) is None and _none(dst_strategy) is None:
        raise ConfigError("src_ckpt_strategy and dst_ckpt_strategy are both empty: the source is already complete; "
                          "give the strategy of the sharded side")
    if os.path.isdir(dst_dir) and os.listdir(dst_dir):
        raise ConfigError(f"dst_ckpt_dir {dst_dir} is not empty; give a new or empty folder")
    if not isinstance(process_num, int) or process_num < 1:
        raise ConfigError(f"transform_process_num must be a positive integer, got {process_num!r}")
    with tempfile.TemporaryDirectory(prefix='mf_strategy_') as scratch:
        src_strategy = resolve_strategy(src_strategy, scratch)
        dst_strategy = resolve_strategy(dst_strategy, scratch)
        if src_strategy:
            read_layouts(src_strategy)
        if dst_strategy:
            read_layouts(dst_strategy)
        destinations = device_count(dst_strategy)
        if world_size not in (None, destinations):
            raise ConfigError(f"world_size {world_size} does not match dst_ckpt_strategy, which lays the checkpoint "
                              f"out over {destinations} devices")
        files = source_files(src_dir, device_count(src_strategy))
        return transform_files(files, dst_dir, src_strategy, dst_strategy, prefix, process_num)


def transform_files(files, dst_dir, src_strategy, dst_strategy, prefix='checkpoint_', process_num=1):
    """{source rank: .ckpt file} laid out by the strategy file `src_strategy` (None: one complete file) ->
    `<dst_dir>/rank_<i>/<prefix><i>.ckpt` for every rank of `dst_strategy` (None: one complete file)."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    src_layouts = read_layouts(src_strategy) if src_strategy else {}
    dst_layouts = read_layouts(dst_strategy) if dst_strategy else {}
    for path in files.values():
        if not str(path).endswith('.ckpt'):
            raise ConfigError(f"MindSpore's transform reads .ckpt checkpoints; {path} is not one")
    shapes = {name: tuple(value.shape) for name, value in ms.load_checkpoint(files[0]).items()}
    if src_strategy:
        check_layouts_fit(shapes, src_layouts, True, src_strategy)
        full = {name: tuple(dim * split for dim, split in zip(shape, _splits(*src_layouts[name])))
                if name in src_layouts else shape for name, shape in shapes.items()}
    else:
        full = shapes
    if dst_strategy:
        check_layouts_fit(full, dst_layouts, False, dst_strategy)
    ranks = list(range(device_count(dst_strategy)))
    groups = [ranks[i::process_num] for i in range(min(process_num, len(ranks)))]
    if len(groups) == 1:
        _transform_ranks(ranks, files, dst_dir, prefix, src_strategy, dst_strategy, progress=True)
    else:
        # spawned, not forked: this process has MindSpore's threads running already
        with ProcessPoolExecutor(len(groups), mp_context=multiprocessing.get_context('spawn')) as pool:
            done = [pool.submit(_transform_ranks, group, files, dst_dir, prefix, src_strategy, dst_strategy)
                    for group in groups]
            with tqdm(total=len(ranks), desc='transforming', unit='rank') as bar:
                for future in done:
                    bar.update(future.result())
    return [os.path.join(dst_dir, f'rank_{rank}', f'{prefix}{rank}.ckpt') for rank in ranks]
