"""Weights between the Hugging Face layout and ours, for any family, through the family's converter module.

A family's `mindformers/models/<family>/convert_weight.py` provides:
- `hf_config_to_kwargs(hf_config) -> dict` (config.json -> our config kwargs),
- `to_hf_config(config) -> dict` (ours -> config.json),
- `expected_shapes(config) -> {our name: shape}`,
- `convert_hf_state_dict(hf_state, config, source) -> {our name: array}` (checked against expected_shapes),
- `convert_to_hf_state_dict(our_state, config) -> {hf name: array}`,
- `CONFIG_CLASS` and `MODEL_CLASS`: the registered names of the family's config and model classes.
Found by convention next to the model's own module, so a research model folder works the same way.
"""
import importlib
import os
import re

import numpy as np

from mindformers.tools.errors import CheckpointError, ConfigError
from mindformers.tools.logger import logger
from mindformers.tools.hf_checkpoint import read_hf_directory, write_hf_directory
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

_CKPT_DTYPES = {'fp32': 'float32', 'fp16': 'float16', 'bf16': 'bfloat16'}


def layernorm_block_shapes(num_layers, hidden, ffn, prefix='model.layers', qkv_bias=True):
    """{our name: shape} of `num_layers` blocks `<prefix>.<i>.` made by modules/transformer.py::layernorm_block."""
    shapes = {}
    for i in range(num_layers):
        shapes.update(block_shapes(f'{prefix}.{i}.', hidden, ffn, qkv_bias))
    return shapes


def block_shapes(prefix, hidden, ffn, qkv_bias=True):
    """{our name: shape} of one layernorm_block whose names start with `prefix` (ending in a dot)."""
    shapes = {}
    for norm in ('attention_norm', 'ffn_norm'):
        shapes[prefix + norm + '.weight'] = (hidden,)
        shapes[prefix + norm + '.bias'] = (hidden,)
    for proj in ('wq', 'wk', 'wv', 'wo'):
        shapes[f'{prefix}attention.{proj}.weight'] = (hidden, hidden)
        if proj == 'wo' or qkv_bias:
            shapes[f'{prefix}attention.{proj}.bias'] = (hidden,)
    shapes[prefix + 'feed_forward.w1.weight'] = (ffn, hidden)
    shapes[prefix + 'feed_forward.w1.bias'] = (ffn,)
    shapes[prefix + 'feed_forward.w2.weight'] = (hidden, ffn)
    shapes[prefix + 'feed_forward.w2.bias'] = (hidden,)
    return shapes


def stacked_layer_name(name, global_names, layer_names, stacks):
    """A Hugging Face tensor name -> ours, or None when it is not one of the model's weights.

    `global_names` maps whole names; a per-layer name `<hf stack>.<i>.<hf part>.<weight|bias>` becomes
    `<our stack>.<i>.<our part>.<weight|bias>` through `stacks` {hf stack: our stack} and `layer_names`
    {hf part: our part}."""
    if name in global_names:
        return global_names[name]
    for hf_stack, our_stack in stacks.items():
        match = re.match(rf'{re.escape(hf_stack)}\.(\d+)\.(.+)\.(weight|bias)$', name)
        if match and match.group(2) in layer_names:
            return f'{our_stack}.{match.group(1)}.{layer_names[match.group(2)]}.{match.group(3)}'
    return None


def place_converted(ours, placed, shapes, source, hf_name, num_layers):
    """Put the arrays one HF tensor became into `ours`, each checked against the shape the config needs."""
    for our_name, array in placed.items():
        if our_name not in shapes:
            raise CheckpointError(f"{source}: tensor '{hf_name}' has no place in the model config "
                                  f"(num_layers={num_layers})")
        if tuple(array.shape) != shapes[our_name]:
            raise CheckpointError(f"{source}: tensor '{hf_name}' gives shape {tuple(array.shape)} but the config "
                                  f"needs {shapes[our_name]} for '{our_name}'")
        ours[our_name] = np.ascontiguousarray(array)


def check_all_converted(ours, shapes, source):
    missing = [name for name in shapes if name not in ours]
    if missing:
        raise CheckpointError(f"{source}: {len(missing)} tensors the config needs are missing, e.g. {missing[:3]}")
    return ours


def converter_of(model_class):
    """The convert_weight module in the package of `model_class` (e.g. models/gpt2/convert_weight.py)."""
    package = model_class.__module__.rsplit('.', 1)[0]
    try:
        return importlib.import_module(package + '.convert_weight')
    except ModuleNotFoundError:
        raise ConfigError(f"{model_class.__name__} has no Hugging Face weight converter ({package}.convert_weight "
                          f"does not exist)") from None


def family_converter(family):
    """`mindformers.models.<family>.convert_weight` for a family name such as 'llama' or 'gpt2'."""
    return importlib.import_module(f'mindformers.models.{family}.convert_weight')


def _registered(module_type, name):
    return MindFormerRegister.get_cls(module_type, name)


def load_hf_state_dict(model_class, hf_config, hf_state, source='state dict', **config_overrides):
    """Build `model_class` from a config.json dict and HF-named numpy tensors; kwargs override config fields."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    converter = converter_of(model_class)
    kwargs = converter.hf_config_to_kwargs(hf_config)
    kwargs.update(config_overrides)
    kwargs['checkpoint_name_or_path'] = ''
    config = model_class.config_class(**kwargs)
    ours = converter.convert_hf_state_dict(hf_state, config, source=source)
    model = model_class(config)
    params = {p.name: p for p in model.get_parameters()}
    ours = _match_heads(converter, ours, params, model_class.__name__, source)
    for name, array in ours.items():
        param = params[name]
        param.set_data(ms.Tensor(array.astype(np.float32), ms.float32).astype(param.dtype))
    return model


def _match_heads(converter, ours, params, model_name, source):
    """Drop the converted task heads `model_name` has no place for and warn about the heads it has that the
    checkpoint lacks (they keep their fresh initialisation), for families whose converter lists HEAD_PREFIXES;
    anything else unused is an error."""
    heads = tuple(getattr(converter, 'HEAD_PREFIXES', ()))
    unused = sorted(name for name in ours if name not in params)
    not_heads = [name for name in unused if not name.startswith(heads)] if heads else unused
    if not_heads:
        raise CheckpointError(f"{source}: {len(not_heads)} tensors have no place in {model_name}, e.g. "
                              f"{not_heads[:3]}")
    if unused:
        logger.warning("%s: weights not used by %s: %s", source, model_name, ', '.join(unused))
    fresh = sorted(name for name, param in params.items()
                   if name not in ours and param.requires_grad and heads and name.startswith(heads))
    if fresh:
        logger.warning("%s: %s weights are not in the checkpoint and start freshly initialised (train them "
                       "before use): %s", source, model_name, ', '.join(fresh))
    return {name: array for name, array in ours.items() if name in params}


def load_hf_directory(model_class, directory, **config_overrides):
    """Build `model_class` from a HF directory (config.json + safetensors)."""
    hf_config, hf_state = read_hf_directory(directory)
    return load_hf_state_dict(model_class, hf_config, hf_state, source=directory, **config_overrides)


def convert_hf_to_ckpt(converter, input_path, output_path, dtype='fp32'):
    """HF directory -> `output_path` (.ckpt, weights in `dtype`) plus `<output stem>.yaml` (model section)."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from tqdm import tqdm  # pylint: disable=import-outside-toplevel
    from mindformers.tools.checkpoint import save_checkpoint_atomic, write_text_atomic  # pylint: disable=C0415
    from mindformers.tools.register.config import ordered_yaml_dump  # pylint: disable=import-outside-toplevel
    if dtype not in _CKPT_DTYPES:
        raise ConfigError(f"--dtype {dtype!r} is not one of {sorted(_CKPT_DTYPES)}")
    if not os.path.isdir(input_path):
        raise CheckpointError(f"--input_path {input_path} is not a directory; give a Hugging Face model directory "
                              f"(config.json + *.safetensors)")
    hf_config, hf_state = read_hf_directory(input_path)
    kwargs = converter.hf_config_to_kwargs(hf_config)
    kwargs.update(param_init_type=_CKPT_DTYPES[dtype],
                  compute_dtype='float16' if dtype == 'fp16' else 'bfloat16' if dtype == 'bf16' else 'float32')
    config = _registered(MindFormerModuleType.CONFIG, converter.CONFIG_CLASS)(**kwargs)
    ours = converter.convert_hf_state_dict(hf_state, config, source=input_path)
    ms_dtype = {'fp32': ms.float32, 'fp16': ms.float16, 'bf16': ms.bfloat16}[dtype]
    records = [{'name': name, 'data': ms.Tensor(array.astype(np.float32)).astype(ms_dtype)}
               for name, array in tqdm(ours.items(), desc='convert', unit='tensor')]
    save_checkpoint_atomic(records, output_path)
    yaml_path = os.path.splitext(output_path)[0] + '.yaml'
    model_config = config.to_dict()
    model_config.pop('checkpoint_name_or_path', None)
    text = ordered_yaml_dump({'model': {'model_config': model_config, 'arch': {'type': converter.MODEL_CLASS}}})
    write_text_atomic(yaml_path, text, what='model config')
    return output_path, yaml_path


def _config_for_ckpt(converter, input_path, config_path):
    config_class = _registered(MindFormerModuleType.CONFIG, converter.CONFIG_CLASS)
    if config_path is None:
        candidate = os.path.splitext(input_path)[0] + '.yaml'
        folder = os.path.dirname(os.path.abspath(input_path))
        yamls = sorted(f for f in os.listdir(folder) if f.endswith(('.yaml', '.yml')))
        if os.path.isfile(candidate):
            config_path = candidate
        elif len(yamls) == 1:
            config_path = os.path.join(folder, yamls[0])
        else:
            raise ConfigError(f"--reversed needs the model config: put <name>.yaml next to {input_path} or pass "
                              f"--config <yaml with model.model_config>")
    kwargs = config_class.from_pretrained(config_path).to_dict()
    kwargs.pop('type', None)
    kwargs['checkpoint_name_or_path'] = ''
    return config_class(**kwargs)


def convert_ckpt_to_hf(converter, input_path, output_path, config_path=None, dtype='fp32', max_shard_bytes=None):
    """Our .ckpt (+ its YAML) -> HF directory `output_path` (config.json + safetensors)."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers.tools.checkpoint import read_checkpoint  # pylint: disable=import-outside-toplevel
    if dtype not in _CKPT_DTYPES:
        raise ConfigError(f"--dtype {dtype!r} is not one of {sorted(_CKPT_DTYPES)}")
    config = _config_for_ckpt(converter, input_path, config_path)
    params = read_checkpoint(input_path)
    ours = {}
    for name, param in params.items():
        value = param if param.dtype != ms.bfloat16 else param.astype(ms.float32)
        ours[name] = value.asnumpy().astype(np.float32)
    shapes = converter.expected_shapes(config)
    for name, shape in shapes.items():
        if name not in ours:
            raise CheckpointError(f"{input_path}: parameter '{name}' that the config needs is missing")
        if shape == () and ours[name].shape == (1,):   # a .ckpt stores a scalar (CLIP's logit_scale) as (1,)
            ours[name] = ours[name].reshape(())
        if tuple(ours[name].shape) != shape:
            raise CheckpointError(f"{input_path}: parameter '{name}' has shape {tuple(ours[name].shape)} but the "
                                  f"config needs {shape}")
    kept = {n: ours[n] for n in shapes}
    heads = getattr(converter, 'head_shapes', None)   # task heads go along when the checkpoint has them
    if heads is not None:
        kept.update({n: ours[n] for n, shape in heads(config).items()
                     if n in ours and tuple(ours[n].shape) == shape})
    hf_state = converter.convert_to_hf_state_dict(kept, config)
    np_dtype = {'fp32': np.float32, 'fp16': np.float16, 'bf16': np.float32}[dtype]
    hf_state = {n: v.astype(np_dtype) for n, v in hf_state.items()}
    hf_config = converter.to_hf_config(config)
    hf_config['torch_dtype'] = {'fp32': 'float32', 'fp16': 'float16', 'bf16': 'float32'}[dtype]
    return write_hf_directory(output_path, hf_config, hf_state, max_shard_bytes=max_shard_bytes)
