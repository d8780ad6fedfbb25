"""LLaMA weights between the Hugging Face layout (config.json + safetensors) and ours (LlamaConfig + .ckpt).

Both layouts keep Linear weights as (out, in) and RoPE in the rotate-half order, so conversion is a
pure renaming plus shape checks against the config; no tensor is permuted.
"""
import json
import os
import re

import numpy as np

from mindformers.tools.errors import CheckpointError, ConfigError

# HF name -> our name; {} is the layer index
_LAYER_NAMES = {
    'self_attn.q_proj.weight': 'attention.wq.weight',
    'self_attn.k_proj.weight': 'attention.wk.weight',
    'self_attn.v_proj.weight': 'attention.wv.weight',
    'self_attn.o_proj.weight': 'attention.wo.weight',
    'self_attn.q_proj.bias': 'attention.wq.bias',
    'self_attn.k_proj.bias': 'attention.wk.bias',
    'self_attn.v_proj.bias': 'attention.wv.bias',
    'mlp.gate_proj.weight': 'feed_forward.w1.weight',
    'mlp.down_proj.weight': 'feed_forward.w2.weight',
    'mlp.up_proj.weight': 'feed_forward.w3.weight',
    'input_layernorm.weight': 'attention_norm.weight',
    'post_attention_layernorm.weight': 'ffn_norm.weight',
}
_GLOBAL_NAMES = {
    'model.embed_tokens.weight': 'model.tok_embeddings.embedding_weight',
    'model.norm.weight': 'model.norm_out.weight',
    'lm_head.weight': 'lm_head.weight',
}
_HF_LAYER = re.compile(r'^model\.layers\.(\d+)\.(.+)$')
_OUR_LAYER = re.compile(r'^model\.layers\.(\d+)\.(.+)$')
# tensors HF checkpoints may carry that have no parameter in our model (RoPE tables are recomputed)
_HF_IGNORED_SUFFIXES = ('rotary_emb.inv_freq',)


def hf_name_to_ours(name):
    """'model.layers.3.mlp.gate_proj.weight' -> 'model.layers.3.feed_forward.w1.weight'; None if not a LLaMA name."""
    if name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[name]
    match = _HF_LAYER.match(name)
    if match and match.group(2) in _LAYER_NAMES:
        return f"model.layers.{match.group(1)}.{_LAYER_NAMES[match.group(2)]}"
    return None


def our_name_to_hf(name):
    """Inverse of `hf_name_to_ours`."""
    for hf_name, ours in _GLOBAL_NAMES.items():
        if ours == name:
            return hf_name
    match = _OUR_LAYER.match(name)
    if match:
        for hf_suffix, our_suffix in _LAYER_NAMES.items():
            if our_suffix == match.group(2):
                return f"model.layers.{match.group(1)}.{hf_suffix}"
    return None


def hf_config_to_llama_kwargs(hf_config):
    """A transformers LlamaConfig/Qwen2Config dict (config.json) -> LlamaConfig keyword arguments."""
    required = ('hidden_size', 'num_hidden_layers', 'num_attention_heads', 'vocab_size')
    missing = [key for key in required if key not in hf_config]
    if missing:
        raise ConfigError(f"config.json lacks {missing}; a LLaMA config.json needs {list(required)}")
    if hf_config.get('rope_scaling'):
        raise ConfigError(f"config.json rope_scaling={hf_config['rope_scaling']!r} is not supported; only plain "
                          f"RoPE (rope_scaling null) converts exactly")
    head_dim = hf_config.get('head_dim')
    if head_dim is not None and head_dim != hf_config['hidden_size'] // hf_config['num_attention_heads']:
        raise ConfigError(f"config.json head_dim={head_dim} differs from hidden_size/num_attention_heads; "
                          f"not supported")
    model_type = hf_config.get('model_type', 'llama')
    qkv_bias = bool(hf_config.get('attention_bias', False)) or model_type == 'qwen2'
    kwargs = dict(
        hidden_size=hf_config['hidden_size'],
        num_layers=hf_config['num_hidden_layers'],
        num_heads=hf_config['num_attention_heads'],
        n_kv_heads=hf_config.get('num_key_value_heads') or hf_config['num_attention_heads'],
        intermediate_size=hf_config.get('intermediate_size'),
        vocab_size=hf_config['vocab_size'],
        rms_norm_eps=hf_config.get('rms_norm_eps', 1e-6),
        theta=float(hf_config.get('rope_theta', 10000.0)),
        qkv_has_bias=qkv_bias,
        tie_word_embeddings=bool(hf_config.get('tie_word_embeddings', False)),
        max_position_embedding=hf_config.get('max_position_embeddings'),
        seq_length=min(int(hf_config.get('max_position_embeddings') or 2048), 2048),
        compute_dtype='float32',
        param_init_type='float32',
        layernorm_compute_type='float32',
        softmax_compute_type='float32',
        rotary_dtype='float32',
    )
    for key in ('bos_token_id', 'eos_token_id', 'pad_token_id'):
        value = hf_config.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None:
            kwargs[key] = value
    if 'pad_token_id' not in kwargs and 'eos_token_id' in kwargs:
        kwargs['pad_token_id'] = kwargs['eos_token_id']
    return kwargs


def llama_config_to_hf_config(config):
    """Our LlamaConfig -> a transformers config.json dict: LLaMA, or Qwen2 when q/k/v have biases (HF LLaMA's
    attention_bias would add an o_proj bias our model lacks)."""
    bias = bool(config.qkv_has_bias)
    return {
        'architectures': ['Qwen2ForCausalLM' if bias else 'LlamaForCausalLM'],
        'model_type': 'qwen2' if bias else 'llama',
        'hidden_size': config.hidden_size,
        'num_hidden_layers': config.num_layers,
        'num_attention_heads': config.num_heads,
        'num_key_value_heads': config.n_kv_heads or config.num_heads,
        'intermediate_size': config.ffn_hidden_size,
        'vocab_size': config.vocab_size,
        'rms_norm_eps': config.rms_norm_eps,
        'rope_theta': float(config.theta),
        'rope_scaling': None,
        'attention_bias': False,
        'mlp_bias': False,
        'use_sliding_window': False,
        'hidden_act': 'silu',
        'tie_word_embeddings': bool(config.tie_word_embeddings),
        'max_position_embeddings': max(config.max_position_embedding or 0, config.seq_length),
        'bos_token_id': config.bos_token_id,
        'eos_token_id': config.eos_token_id,
        'pad_token_id': config.pad_token_id,
        'torch_dtype': 'float32',
    }


def expected_shapes(config):
    """Our parameter name -> shape for `config` (what a converted checkpoint must hold)."""
    hidden, heads = config.hidden_size, config.num_heads
    kv_dim = (config.n_kv_heads or heads) * (hidden // heads)
    ffn = config.ffn_hidden_size
    shapes = {'model.tok_embeddings.embedding_weight': (config.vocab_size, hidden),
              'model.norm_out.weight': (hidden,)}
    if not config.tie_word_embeddings:
        shapes['lm_head.weight'] = (config.vocab_size, hidden)
    for i in range(config.num_layers):
        prefix = f"model.layers.{i}."
        shapes.update({
            prefix + 'attention.wq.weight': (hidden, hidden),
            prefix + 'attention.wk.weight': (kv_dim, hidden),
            prefix + 'attention.wv.weight': (kv_dim, hidden),
            prefix + 'attention.wo.weight': (hidden, hidden),
            prefix + 'feed_forward.w1.weight': (ffn, hidden),
            prefix + 'feed_forward.w2.weight': (hidden, ffn),
            prefix + 'feed_forward.w3.weight': (ffn, hidden),
            prefix + 'attention_norm.weight': (hidden,),
            prefix + 'ffn_norm.weight': (hidden,),
        })
        if config.qkv_has_bias:
            shapes.update({prefix + 'attention.wq.bias': (hidden,),
                           prefix + 'attention.wk.bias': (kv_dim,),
                           prefix + 'attention.wv.bias': (kv_dim,)})
    return shapes


def convert_hf_state_dict(hf_state, config, source='state dict'):
    """HF tensors {name: array} -> our {name: np.ndarray}, each checked against the shape `config` needs."""
    shapes = expected_shapes(config)
    ours = {}
    for hf_name, value in hf_state.items():
        if hf_name.endswith(_HF_IGNORED_SUFFIXES):
            continue
        if hf_name.endswith('self_attn.o_proj.bias'):
            # LLaMA attention_bias=True also biases o_proj; our attention has none, so only zeros convert
            if np.any(np.asarray(value) != 0):
                raise CheckpointError(f"{source}: tensor '{hf_name}' is a non-zero output-projection bias, which "
                                      f"our LLaMA does not have (qkv_has_bias covers q/k/v only, as in Qwen2)")
            continue
        name = hf_name_to_ours(hf_name)
        if name is None:
            raise CheckpointError(f"{source}: tensor '{hf_name}' is not a LLaMA weight name")
        if name == 'lm_head.weight' and config.tie_word_embeddings:
            continue  # tied: the head reuses the embedding table
        if name not in shapes:
            raise CheckpointError(f"{source}: tensor '{hf_name}' has no place in the model config "
                                  f"(num_layers={config.num_layers}, qkv_has_bias={config.qkv_has_bias})")
        array = np.asarray(value)
        if tuple(array.shape) != shapes[name]:
            raise CheckpointError(f"{source}: tensor '{hf_name}' has shape {tuple(array.shape)} but the config "
                                  f"needs {shapes[name]} for '{name}'")
        ours[name] = array
    missing = [hf for hf in (our_name_to_hf(n) for n in shapes if n not in ours)]
    if missing:
        raise CheckpointError(f"{source}: {len(missing)} tensors the config needs are missing, e.g. {missing[:3]}")
    return ours


def convert_to_hf_state_dict(our_state, config):
    """Our {name: array} -> HF {name: np.ndarray}; a tied model writes no lm_head.weight (as HF does)."""
    hf_state = {}
    for name, value in our_state.items():
        hf_name = our_name_to_hf(name)
        if hf_name is None:
            continue  # optimizer state, KV caches and other non-weight entries
        if hf_name == 'lm_head.weight' and config.tie_word_embeddings:
            continue
        hf_state[hf_name] = np.ascontiguousarray(np.asarray(value))
    return hf_state


# ----------------------------------------------------------------------------------------------- files

def _safetensors_files(directory):
    index_path = os.path.join(directory, 'model.safetensors.index.json')
    if os.path.isfile(index_path):
        with open(index_path, encoding='utf-8') as stream:
            try:
                weight_map = json.load(stream)['weight_map']
            except (json.JSONDecodeError, KeyError) as err:
                raise CheckpointError(f"{index_path} is not a safetensors index (needs a 'weight_map'): "
                                      f"{err}") from None
        files = sorted(set(weight_map.values()))
        for name in files:
            if not os.path.isfile(os.path.join(directory, name)):
                raise CheckpointError(f"{index_path} lists shard {name} but {os.path.join(directory, name)} "
                                      f"does not exist")
        return [os.path.join(directory, name) for name in files]
    files = sorted(f for f in os.listdir(directory) if f.endswith('.safetensors'))
    if not files:
        raise CheckpointError(f"{directory} holds no *.safetensors file (and no model.safetensors.index.json)")
    return [os.path.join(directory, name) for name in files]


def _check_safetensors_size(path):
    """A truncated file is caught here, before any tensor is read, with a message that says so."""
    size = os.path.getsize(path)
    with open(path, 'rb') as stream:
        head = stream.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path} is truncated or not a safetensors file ({size} bytes)")
        header_len = int.from_bytes(head, 'little')
        if header_len <= 0 or 8 + header_len > size:
            raise CheckpointError(f"{path} is truncated or not a safetensors file: header of {header_len} bytes "
                                  f"but the file has {size} bytes")
        try:
            header = json.loads(stream.read(header_len))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise CheckpointError(f"{path} is corrupted: its safetensors header is not JSON") from None
    end = max([entry['data_offsets'][1] for key, entry in header.items() if key != '__metadata__'] or [0])
    if 8 + header_len + end > size:
        raise CheckpointError(f"{path} is truncated: its header needs {8 + header_len + end} bytes but the file "
                              f"has {size}")
    return header


def _bf16_to_fp32(raw):
    return (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def read_safetensors(path):
    """{name: np.ndarray} of one safetensors file (bf16 widened to fp32: numpy has no bf16)."""
    from safetensors import safe_open  # pylint: disable=import-outside-toplevel
    header = _check_safetensors_size(path)
    out = {}
    bf16_names = [k for k, v in header.items() if k != '__metadata__' and v.get('dtype') == 'BF16']
    with safe_open(path, framework='np') as handle:
        for name in handle.keys():
            if name not in bf16_names:
                out[name] = handle.get_tensor(name)
    if bf16_names:
        data_start = 8 + int.from_bytes(open(path, 'rb').read(8), 'little')  # pylint: disable=consider-using-with
        with open(path, 'rb') as stream:
            for name in bf16_names:
                begin, end = header[name]['data_offsets']
                stream.seek(data_start + begin)
                out[name] = _bf16_to_fp32(stream.read(end - begin)).reshape(header[name]['shape'])
    return out


def read_hf_directory(directory):
    """(config.json dict, {hf name: np.ndarray}) of a Hugging Face model directory (sharded or not)."""
    config_path = os.path.join(directory, 'config.json')
    if not os.path.isfile(config_path):
        raise CheckpointError(f"{directory} has no config.json; a Hugging Face model directory needs config.json "
                              f"and *.safetensors")
    with open(config_path, encoding='utf-8') as stream:
        try:
            hf_config = json.load(stream)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{config_path} is not valid JSON: {err}") from None
    state = {}
    for path in _safetensors_files(directory):
        state.update(read_safetensors(path))
    return hf_config, state


def write_hf_directory(directory, hf_config, hf_state, max_shard_bytes=None):
    """Write config.json + model.safetensors (or shards + model.safetensors.index.json when over max_shard_bytes)."""
    from safetensors.numpy import save_file  # pylint: disable=import-outside-toplevel
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, 'config.json'), 'w', encoding='utf-8') as stream:
        json.dump(hf_config, stream, indent=2, sort_keys=True)
    names = list(hf_state)
    total = sum(hf_state[n].nbytes for n in names)
    if not max_shard_bytes or total <= max_shard_bytes:
        save_file(hf_state, os.path.join(directory, 'model.safetensors'), metadata={'format': 'pt'})
        return directory
    shards, current, size = [], [], 0
    for name in names:
        if current and size + hf_state[name].nbytes > max_shard_bytes:
            shards.append(current)
            current, size = [], 0
        current.append(name)
        size += hf_state[name].nbytes
    shards.append(current)
    weight_map = {}
    for i, shard in enumerate(shards):
        file_name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file({n: hf_state[n] for n in shard}, os.path.join(directory, file_name), metadata={'format': 'pt'})
        weight_map.update({n: file_name for n in shard})
    with open(os.path.join(directory, 'model.safetensors.index.json'), 'w', encoding='utf-8') as stream:
        json.dump({'metadata': {'total_size': int(total)}, 'weight_map': weight_map}, stream, indent=2)
    return directory


def is_hf_directory(path):
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, 'config.json')) and (
        os.path.isfile(os.path.join(path, 'model.safetensors.index.json')) or
        any(f.endswith('.safetensors') for f in os.listdir(path)))


def load_hf_directory(model_class, directory, **config_overrides):
    """Build `model_class` (LlamaForCausalLM) from a HF directory; kwargs override config fields (e.g. seq_length)."""
    hf_config, hf_state = read_hf_directory(directory)
    return load_hf_state_dict(model_class, hf_config, hf_state, source=directory, **config_overrides)


def load_hf_state_dict(model_class, hf_config, hf_state, source='state dict', **config_overrides):
    """Build `model_class` from a config.json dict and HF-named numpy tensors."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    kwargs = hf_config_to_llama_kwargs(hf_config)
    kwargs.update(config_overrides)
    kwargs['checkpoint_name_or_path'] = ''
    config = model_class.config_class(**kwargs)
    ours = convert_hf_state_dict(hf_state, config, source=source)
    model = model_class(config)
    params = {p.name: p for p in model.get_parameters()}
    for name, array in ours.items():
        param = params[name]
        param.set_data(ms.Tensor(array.astype(ms.dtype_to_nptype(param.dtype)), param.dtype))
    return model


# ----------------------------------------------------------------------------------- whole conversions

_CKPT_DTYPES = {'fp32': 'float32', 'fp16': 'float16', 'bf16': 'bfloat16'}


def convert_hf_to_ckpt(input_path, output_path, dtype='fp32'):
    """HF directory -> `output_path` (.ckpt, weights in `dtype`) plus `<output stem>.yaml` (model section)."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from tqdm import tqdm  # pylint: disable=import-outside-toplevel
    from mindformers.models.llama.llama_config import LlamaConfig  # pylint: disable=import-outside-toplevel
    from mindformers.tools.checkpoint import save_checkpoint_atomic  # pylint: disable=import-outside-toplevel
    from mindformers.tools.register.config import ordered_yaml_dump  # pylint: disable=import-outside-toplevel
    if dtype not in _CKPT_DTYPES:
        raise ConfigError(f"--dtype {dtype!r} is not one of {sorted(_CKPT_DTYPES)}")
    if not os.path.isdir(input_path):
        raise CheckpointError(f"--input_path {input_path} is not a directory; give a Hugging Face model directory "
                              f"(config.json + *.safetensors)")
    hf_config, hf_state = read_hf_directory(input_path)
    kwargs = hf_config_to_llama_kwargs(hf_config)
    kwargs.update(param_init_type=_CKPT_DTYPES[dtype], embedding_init_type=_CKPT_DTYPES[dtype],
                  compute_dtype='float16' if dtype == 'fp16' else 'bfloat16' if dtype == 'bf16' else 'float32')
    config = LlamaConfig(**kwargs)
    ours = convert_hf_state_dict(hf_state, config, source=input_path)
    ms_dtype = {'fp32': ms.float32, 'fp16': ms.float16, 'bf16': ms.bfloat16}[dtype]
    records = [{'name': name, 'data': ms.Tensor(array.astype(np.float32)).astype(ms_dtype)}
               for name, array in tqdm(ours.items(), desc='convert', unit='tensor')]
    save_checkpoint_atomic(records, output_path)
    yaml_path = os.path.splitext(output_path)[0] + '.yaml'
    model_config = config.to_dict()
    model_config.pop('checkpoint_name_or_path', None)
    with open(yaml_path, 'w', encoding='utf-8') as stream:
        ordered_yaml_dump({'model': {'model_config': model_config, 'arch': {'type': 'LlamaForCausalLM'}}}, stream)
    return output_path, yaml_path


def _config_for_ckpt(input_path, config_path):
    from mindformers.models.llama.llama_config import LlamaConfig  # pylint: disable=import-outside-toplevel
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
    kwargs = LlamaConfig.from_pretrained(config_path).to_dict()
    kwargs.pop('type', None)
    kwargs['checkpoint_name_or_path'] = ''
    return LlamaConfig(**kwargs)


def convert_ckpt_to_hf(input_path, output_path, config_path=None, dtype='fp32', max_shard_bytes=None):
    """Our .ckpt (+ its YAML) -> HF directory `output_path` (config.json + safetensors)."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers.tools.checkpoint import read_checkpoint  # pylint: disable=import-outside-toplevel
    if dtype not in _CKPT_DTYPES:
        raise ConfigError(f"--dtype {dtype!r} is not one of {sorted(_CKPT_DTYPES)}")
    config = _config_for_ckpt(input_path, config_path)
    params = read_checkpoint(input_path)
    ours = {}
    for name, param in params.items():
        value = param if param.dtype != ms.bfloat16 else param.astype(ms.float32)
        ours[name] = value.asnumpy().astype(np.float32)
    shapes = expected_shapes(config)
    for name, shape in shapes.items():
        if name not in ours:
            raise CheckpointError(f"{input_path}: parameter '{name}' that the config needs is missing")
        if tuple(ours[name].shape) != shape:
            raise CheckpointError(f"{input_path}: parameter '{name}' has shape {tuple(ours[name].shape)} but the "
                                  f"config needs {shape}")
    hf_state = convert_to_hf_state_dict({n: ours[n] for n in shapes}, config)
    np_dtype = {'fp32': np.float32, 'fp16': np.float16, 'bf16': np.float32}[dtype]
    hf_state = {n: v.astype(np_dtype) for n, v in hf_state.items()}
    hf_config = llama_config_to_hf_config(config)
    hf_config['torch_dtype'] = {'fp32': 'float32', 'fp16': 'float16', 'bf16': 'float32'}[dtype]
    return write_hf_directory(output_path, hf_config, hf_state, max_shard_bytes=max_shard_bytes)
