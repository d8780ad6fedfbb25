"""`auto_trans_ckpt: True`: before loading, lay `load_checkpoint` out for this run's devices and strategy.

The source is one complete checkpoint file (or a folder holding one, or a single rank_0 folder), or a sharded
checkpoint: rank_<i> folders with `src_strategy_path_or_dir` (a strategy file, or the folder of per-rank files a
run wrote to output/strategy/). The destination is this run: one complete checkpoint for a single process, else
its own layout (a scratch strategy file on rank 0: this run writes output/strategy/ only after loading, since the
source strategy may be that very folder). Rank 0 transforms, with MindSpore's
transform API (see mindformers/tools/ckpt_transform/), into output/transformed_checkpoint/rank_<i>/; the other
ranks wait for it in a collective that also carries its error, then every rank loads its own folder.
"""
import os
import re
import shutil
import tempfile

from mindformers.tools.checkpoint import list_checkpoints
from mindformers.tools.ckpt_transform.strategy import strategy_layouts, write_strategy_file
from mindformers.tools.ckpt_transform.transform import device_count, resolve_strategy, transform_files
from mindformers.tools.errors import CheckpointError, ConfigError, MindFormerError
from mindformers.tools.logger import logger
from mindformers.tools.utils import (all_gather_objects, communication_group_size, get_output_root_path,
                                     get_real_rank)
from mindformers.trainer.utils import get_common_resume_checkpoint, has_rank_folders, resolve_checkpoint_files

TRANSFORMED = 'transformed_checkpoint'


def write_run_strategy(network, group_size, states=None):
    """output/strategy/ckpt_strategy_rank_<this rank>.ckpt: the layout of this run's parameters (and optimizer
    states), as a compiled parallel run writes it; returns its path. Runs here are data parallel (model_parallel
    and pipeline_stage > 1 are refused before), so every one of the `group_size` ranks holds every parameter.
    Rank 0 removes the files of ranks this run does not have (left by a larger run in the same output_dir)."""
    folder = os.path.join(get_output_root_path(), 'strategy')
    rank = get_real_rank()
    if rank == 0 and os.path.isdir(folder):
        for name in os.listdir(folder):
            match = re.fullmatch(r'ckpt_strategy_rank_(\d+)\.ckpt', name)
            if match and int(match.group(1)) >= group_size:
                os.remove(os.path.join(folder, name))
    layouts = strategy_layouts(network, group_size, 1, states)
    return write_strategy_file(os.path.join(folder, f'ckpt_strategy_rank_{rank}.ckpt'), layouts)


def _source_files(load_checkpoint, ranks, resume_name):
    """{source rank: the file it contributes}, the same training step in every rank."""
    if not isinstance(resume_name, str) and ranks > 1:   # the newest step every rank saved (meta.json rule)
        resume_name = get_common_resume_checkpoint(load_checkpoint, ranks) or resume_name
    files = {}
    for rank in range(ranks):
        files[rank] = resolve_checkpoint_files(load_checkpoint, rank, resume_name)[0]
    return files


def _complete(file, where, src_strategy):
    """A complete checkpoint file is loaded without a source strategy; one given names a layout it does not have."""
    if src_strategy:
        raise ConfigError(f"auto_trans_ckpt: load_checkpoint {file} {where}, a complete checkpoint, but "
                          f"src_strategy_path_or_dir names a sharded layout; give the folder of rank_* folders "
                          f"or drop src_strategy_path_or_dir")
    return file


def _source(load_checkpoint, src_strategy, resume_name, scratch):
    """(files by source rank, the source's strategy file or None for a complete checkpoint)."""
    path = os.path.expanduser(str(load_checkpoint))
    if os.path.isfile(path):
        return {0: _complete(path, 'is one file', src_strategy)}, None
    if not os.path.isdir(path):
        raise CheckpointError(f"load_checkpoint path does not exist: {path}")
    if not has_rank_folders(path):
        found = list_checkpoints(path)
        if len(found) != 1:
            raise ConfigError(f"auto_trans_ckpt: load_checkpoint {path} holds {len(found)} checkpoint files; give "
                              f"one complete checkpoint or a folder of rank_* folders")
        return {0: _complete(found[0], f'(in {path}) is the one file of its folder', src_strategy)}, None
    strategy = resolve_strategy(src_strategy, scratch)
    if strategy is None:
        ranks = sorted(d for d in os.listdir(path) if d.startswith('rank_') and os.path.isdir(os.path.join(path, d)))
        if ranks != ['rank_0']:
            raise ConfigError(f"auto_trans_ckpt: load_checkpoint {path} holds {len(ranks)} rank folders, a sharded "
                              f"checkpoint; give its strategy with src_strategy_path_or_dir (the strategy folder "
                              f"of the run that saved it, e.g. output/strategy)")
        return _source_files(path, 1, resume_name), None
    return _source_files(path, device_count(strategy), resume_name), strategy


def _transform_on_rank_0(config, resume_name, network, group_size, states, destination):
    """Rank 0's work; returns whether it transformed (False: a complete source on one process)."""
    with tempfile.TemporaryDirectory(prefix='mf_auto_trans_') as scratch:
        # the source strategy may be this output_dir's strategy folder, which this run rewrites only after loading
        files, src_strategy = _source(config.load_checkpoint, config.src_strategy_path_or_dir, resume_name, scratch)
        dst_strategy = None
        if group_size > 1:
            dst_strategy = write_strategy_file(os.path.join(scratch, 'destination.ckpt'),
                                               strategy_layouts(network, group_size, 1, states))
        if src_strategy is None and dst_strategy is None:
            return False
        if os.path.realpath(files[0]).startswith(os.path.realpath(destination) + os.sep):
            raise ConfigError(f"auto_trans_ckpt: load_checkpoint {config.load_checkpoint} is inside {destination}, "
                              f"which the transform rewrites; copy it elsewhere first")
        logger.info("auto_trans_ckpt: transforming %s (%s) into %s (%s)", config.load_checkpoint,
                    'strategy ' + str(config.src_strategy_path_or_dir) if src_strategy else 'complete',
                    destination, f'strategy {dst_strategy}' if dst_strategy else 'complete')
        partial = destination + '.part'
        shutil.rmtree(partial, ignore_errors=True)
        transform_files(files, partial, src_strategy, dst_strategy, prefix='checkpoint_',
                        process_num=int(config.transform_process_num or 1))
        shutil.rmtree(destination, ignore_errors=True)
        os.replace(partial, destination)       # a killed transform leaves only .part, never a partial destination
    return True


def auto_transform_checkpoint(config, network, states=None, resume_name=None):
    """(path, resume_name) this rank loads under `auto_trans_ckpt`: output/transformed_checkpoint after a transform
    (its rank folder holds one file), or `load_checkpoint` itself when it is already complete and this run is one
    process. `states`: {name: shape} of the optimizer's state, laid out as its weights; `resume_name`: the
    resume_training value (True, or a checkpoint name) choosing each source rank's file."""
    if not isinstance(config.transform_process_num, (int, type(None))) or isinstance(
            config.transform_process_num, bool) or (config.transform_process_num or 1) < 1:
        raise ConfigError(f"transform_process_num must be a positive integer, got {config.transform_process_num!r}")
    group_size = communication_group_size()
    rank = get_real_rank() if group_size > 1 else 0     # msrun without communication: every process is alone
    destination = os.path.join(get_output_root_path(), TRANSFORMED)
    error, transformed = None, False
    if rank == 0:
        try:
            transformed = _transform_on_rank_0(config, resume_name, network, group_size, states, destination)
        except MindFormerError as err:
            error = err
        except Exception as err:  # pylint: disable=broad-except  (MindSpore's transform raises many kinds)
            error = CheckpointError(f"auto_trans_ckpt: transforming {config.load_checkpoint} failed: "
                                    f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err) else ''}")
    if group_size > 1:
        outcome = all_gather_objects((str(error) if error else None, transformed))[0]
        if rank != 0 and outcome[0]:
            raise CheckpointError(f"rank 0 could not transform the checkpoint: {outcome[0]}")
        transformed = outcome[1]
    if error is not None:
        raise error
    if not transformed:
        logger.info("auto_trans_ckpt: %s is complete and this run is one process; loading it as it is",
                    config.load_checkpoint)
        return config.load_checkpoint, resume_name
    folder = os.path.join(destination, f'rank_{rank}')
    logger.info("auto_trans_ckpt: rank %d loads %s", rank, folder)
    return folder, None
