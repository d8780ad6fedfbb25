"""Hugging Face model directories on disk: config.json plus safetensors (single file or sharded with an index).

Read without pickle (safetensors and JSON only); bf16 tensors are widened to float32, since numpy has no bf16.
A truncated or corrupted file is a CheckpointError naming it, found before any tensor is read.
"""
import json
import os

import numpy as np

from mindformers.tools.errors import CheckpointError, ConfigError

PICKLE_WEIGHT_FILES = ('pytorch_model.bin', 'pytorch_model.bin.index.json', 'model.pt', 'model.pth')


def pickle_refusal(directory):
    """' (<file> is a pickle, ...)' when the directory holds PyTorch pickle weights instead of safetensors."""
    found = [name for name in PICKLE_WEIGHT_FILES if os.path.isfile(os.path.join(directory, name))]
    if not found:
        return ''
    return (f"; {found[0]} is a pickle, which is not loaded (unpickling can run code): save the model with "
            f"safetensors (transformers: save_pretrained(dir, safe_serialization=True))")


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
        raise CheckpointError(f"{directory} holds no *.safetensors file (and no model.safetensors.index.json)"
                              f"{pickle_refusal(directory)}")
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
