"""Strategy files on CPU: each parameter's layout, derived from the shard strategies the layers declare.

On Ascend the compiled semi-auto parallel graph writes MindSpore's strategy file (`ParallelStrategyMap` protobuf:
per parameter a device matrix and a tensor map). Semi-auto parallel cannot compile on CPU, so the same layouts are
derived here from what every layer already declares for it: a `Linear`'s weight is split as its matmul strategy's
second input (its bias as the bias-add strategy's), a `VocabEmbedding` table as its gather strategy's first input;
every other parameter is replicated. The device matrix of a stage is [data_parallel, model_parallel], so a
dimension split model_parallel ways maps to device axis 0 (the rightmost) and an unsplit one to -1. MindSpore's
own transform API (`mindspore.transform_checkpoints`) reads these files.
"""
import os

from mindformers.tools.errors import ConfigError

# optimizer state saved beside each weight, split as the weight is: '<prefix>.<parameter name>'
_STATE_PREFIXES = ('adam_m', 'adam_v', 'moment1', 'moment2', 'moments', 'accum', 'exp_avg', 'exp_avg_sq')


def parameter_splits(network):
    """{parameter name: splits per dimension} for every parameter some layer shards (others are replicated)."""
    splits = {}
    for _, cell in network.cells_and_names():
        matmul = getattr(cell, 'strategy_matmul', None)
        if matmul is not None and hasattr(cell, 'weight'):
            splits[cell.weight.name] = tuple(int(x) for x in matmul[1])
            bias = getattr(cell, 'strategy_bias', None)
            if bias is not None and getattr(cell, 'bias', None) is not None:
                splits[cell.bias.name] = tuple(int(x) for x in bias[1])
        gather = getattr(cell, 'strategy_gather', None)
        if gather is not None and hasattr(cell, 'embedding_weight'):
            splits[cell.embedding_weight.name] = tuple(int(x) for x in gather[0])
    return splits


def strategy_layouts(network, data_parallel, model_parallel, states=None):
    """{name: (dev_matrix, tensor_map)} for every parameter of `network` and every optimizer state in `states`
    ({name: shape}) named '<prefix>.<parameter>' with its parameter's shape, for a stage of data_parallel x
    model_parallel devices (other states, e.g. Adafactor's placeholders, are replicated)."""
    splits = parameter_splits(network)
    shapes = {param.name: tuple(param.shape) for param in network.get_parameters()}
    dev_matrix = [int(data_parallel), int(model_parallel)]
    layouts = {}
    for name, shape in shapes.items():
        tensor_map = []
        for dim, split in zip(shape, splits.get(name, (1,) * len(shape))):
            if split == 1:
                tensor_map.append(-1)
            elif split == model_parallel and dim % split == 0:
                tensor_map.append(0)
            else:
                raise ConfigError(f"parameter {name} of shape {shape} is split {splits[name]}: only model_parallel "
                                  f"({model_parallel}) splits of dimensions it divides can be written to a strategy "
                                  f"file")
        layouts[name] = (dev_matrix, tensor_map)
    for name, shape in (states or {}).items():
        prefix, _, base = name.partition('.')
        if name not in layouts and prefix in _STATE_PREFIXES and shapes.get(base) == tuple(shape):
            layouts[name] = layouts[base]
    return layouts


def write_strategy_file(path, layouts, stage=0):
    """MindSpore's strategy-file format (node_strategy.proto ParallelStrategyMap), written atomically."""
    from mindspore.train import node_strategy_pb2  # pylint: disable=import-outside-toplevel
    from mindformers.tools.checkpoint import write_bytes_atomic  # pylint: disable=import-outside-toplevel
    strategy = node_strategy_pb2.ParallelStrategyMap()
    strategy.current_stage = stage
    for name, (dev_matrix, tensor_map) in layouts.items():
        item = strategy.parallel_layout_item.add()
        item.param_name = name
        layout = item.parallel_layouts
        layout.dev_matrix.add().dim.extend(dev_matrix)
        layout.tensor_map.add().dim.extend(tensor_map)
        layout.param_split_shape.add()
        layout.indices_offset.add()
        layout.field = 0
        layout.opt_weight_shard_step = 0
        layout.opt_weight_shard_size = 0
    write_bytes_atomic(path, strategy.SerializeToString(), what='strategy file')
    return path


def save_strategy_files(network, parallel_config, directory, states=None):
    """output/strategy/ckpt_strategy_rank_{i}.ckpt for every rank of data_parallel x model_parallel devices."""
    data_parallel = int(getattr(parallel_config, 'data_parallel', 1) or 1)
    model_parallel = int(getattr(parallel_config, 'model_parallel', 1) or 1)
    if int(getattr(parallel_config, 'pipeline_stage', 1) or 1) > 1:
        raise ConfigError("strategy files for pipeline_stage > 1 are not written on CPU yet; use data_parallel and "
                          "model_parallel")
    layouts = strategy_layouts(network, data_parallel, model_parallel, states)
    paths = [write_strategy_file(os.path.join(directory, f'ckpt_strategy_rank_{rank}.ckpt'), layouts)
             for rank in range(data_parallel * model_parallel)]
    return paths
