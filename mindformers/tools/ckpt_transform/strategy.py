"""Strategy files on CPU: each parameter's layout, derived from the shard strategies the layers declare.

On Ascend the compiled semi-auto parallel graph writes MindSpore's strategy file (`ParallelStrategyMap` protobuf:
per parameter a device matrix and a tensor map). Semi-auto parallel cannot compile on CPU, so the same layouts are
derived here from what every layer already declares for it: a `Linear`'s weight is split as its matmul strategy's
second input (its bias as the bias-add strategy's), a `VocabEmbedding` table as its gather strategy's first input;
every other parameter is replicated. The device matrix of a stage is [data_parallel, model_parallel], so a
dimension split model_parallel ways maps to device axis 0 (the rightmost) and an unsplit one to -1. MindSpore's
own transform API (`mindspore.transform_checkpoints`) reads these files.

With pipeline_stage > 1, rank r belongs to stage r // (data_parallel x model_parallel) and its file lists only the
parameters of that stage (`current_stage` and every strategy item carry the stage, as a compiled pipeline run's
file does, so `mindspore.merge_pipeline_strategys` merges them). The transformer layers are spread evenly over the
stages in order; parameters built before the first layer (embeddings) belong to stage 0, those after the last
(final norm, head) to the last stage.
"""
import os
import re

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


def parameter_stages(network, pipeline_stage):
    """{parameter name: sorted stages holding it} with the layers (a `.<index>.` in the cell path) spread evenly
    over `pipeline_stage` stages; a parameter used by cells of several stages (a head tied to the embedding
    table) is in each of them."""
    cells = [(name, cell) for name, cell in network.cells_and_names()]
    indices = [int(m.group(1)) for name, _ in cells for m in [re.search(r'\.(\d+)(\.|$)', name)] if m]
    num_layers = max(indices) + 1 if indices else 0
    if num_layers < pipeline_stage:
        raise ConfigError(f"pipeline_stage {pipeline_stage} needs at least as many transformer layers; the network "
                          f"has {num_layers}")
    stages, after_layers = {}, False
    for name, cell in cells:
        match = re.search(r'\.(\d+)(\.|$)', name)
        if match:
            stage, after_layers = int(match.group(1)) * pipeline_stage // num_layers, True
        else:
            stage = pipeline_stage - 1 if after_layers else 0
        for param in cell.get_parameters(expand=False):
            stages.setdefault(param.name, set()).add(stage)
    return {name: sorted(found) for name, found in stages.items()}


def write_strategy_file(path, layouts, stage=0):
    """MindSpore's strategy-file format (node_strategy.proto ParallelStrategyMap), written atomically: a layout
    item per parameter and a strategy item (its splits, tagged with the pipeline stage) per parameter."""
    from mindspore.train import node_strategy_pb2  # pylint: disable=import-outside-toplevel
    from mindformers.tools.checkpoint import write_bytes_atomic  # pylint: disable=import-outside-toplevel
    strategy = node_strategy_pb2.ParallelStrategyMap()
    strategy.current_stage = stage
    for name, (dev_matrix, tensor_map) in layouts.items():
        item = strategy.parallel_strategy_item.add()
        item.node_name = name
        item.parallel_strategys.stage = stage
        item.parallel_strategys.parallel_strategy.add().dim.extend(
            [1 if axis < 0 else dev_matrix[len(dev_matrix) - 1 - axis] for axis in tensor_map])
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
    """output/strategy/ckpt_strategy_rank_{i}.ckpt for every rank of pipeline_stage x data_parallel x
    model_parallel devices."""
    data_parallel = int(getattr(parallel_config, 'data_parallel', 1) or 1)
    model_parallel = int(getattr(parallel_config, 'model_parallel', 1) or 1)
    pipeline_stage = int(getattr(parallel_config, 'pipeline_stage', 1) or 1)
    layouts = strategy_layouts(network, data_parallel, model_parallel, states)
    stages = parameter_stages(network, pipeline_stage) if pipeline_stage > 1 else None
    stage_devices = data_parallel * model_parallel
    paths = []
    for rank in range(pipeline_stage * stage_devices):
        stage = rank // stage_devices
        if stages is None:
            mine = layouts
        else:   # an optimizer state '<prefix>.<weight>' goes with its weight
            mine = {name: layout for name, layout in layouts.items()
                    if stage in stages.get(name, stages.get(name.partition('.')[2], ()))}
        paths.append(write_strategy_file(os.path.join(directory, f'ckpt_strategy_rank_{rank}.ckpt'), mine, stage))
    return paths
