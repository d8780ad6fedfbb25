"""GGUF (llama.cpp) LLaMA files -> a Hugging Face directory: dequantized fp32 weights, config.json, tokenizer files.

Needs the `gguf` package (`pip install gguf`). llama.cpp's converter permutes the rows of attn_q/attn_k
from the rotate-half RoPE layout to the interleaved one; `unpermute_rope_rows` undoes that.
"""
import json
import os

import numpy as np
from tqdm import tqdm

from mindformers.tools.errors import CheckpointError, NotAvailableError

_GGUF_TO_HF = {
    'token_embd.weight': 'model.embed_tokens.weight',
    'output_norm.weight': 'model.norm.weight',
    'output.weight': 'lm_head.weight',
}
_GGUF_LAYER_TO_HF = {
    'attn_q': 'self_attn.q_proj', 'attn_k': 'self_attn.k_proj', 'attn_v': 'self_attn.v_proj',
    'attn_output': 'self_attn.o_proj', 'ffn_gate': 'mlp.gate_proj', 'ffn_up': 'mlp.up_proj',
    'ffn_down': 'mlp.down_proj', 'attn_norm': 'input_layernorm', 'ffn_norm': 'post_attention_layernorm',
}
# token_type values of the GGUF vocabulary (llama.cpp): 3 = control (special), 4 = user defined
_CONTROL, _USER_DEFINED = 3, 4


def unpermute_rope_rows(weight, n_heads):
    """Inverse of llama.cpp's permute: per head, rows (pairs interleaved) -> (first halves, second halves)."""
    out_dim = weight.shape[0]
    head_dim = out_dim // n_heads
    return (weight.reshape(n_heads, head_dim // 2, 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def _field(reader, key, default=None):
    field = reader.fields.get(key)
    if field is None:
        return default
    return field.contents()


def _reader(path):
    try:
        import gguf  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise NotAvailableError("reading .gguf files needs the gguf package: pip install gguf") from None
    if not os.path.isfile(path):
        raise CheckpointError(f"GGUF file does not exist: {path}")
    try:
        return gguf, gguf.GGUFReader(path)
    except (ValueError, OSError, KeyError, IndexError) as err:
        raise CheckpointError(f"cannot read {path} (truncated or not a GGUF file): {err}") from None


def gguf_hf_config(reader):
    """config.json dict (transformers LLaMA) from the GGUF metadata."""
    arch = _field(reader, 'general.architecture')
    if arch != 'llama':
        raise CheckpointError(f"GGUF architecture '{arch}' is not supported; only 'llama' converts")
    names = {t.name for t in reader.tensors}
    heads = int(_field(reader, 'llama.attention.head_count'))
    return {
        'architectures': ['LlamaForCausalLM'], 'model_type': 'llama',
        'hidden_size': int(_field(reader, 'llama.embedding_length')),
        'num_hidden_layers': int(_field(reader, 'llama.block_count')),
        'num_attention_heads': heads,
        'num_key_value_heads': int(_field(reader, 'llama.attention.head_count_kv', heads)),
        'intermediate_size': int(_field(reader, 'llama.feed_forward_length')),
        'vocab_size': len(_field(reader, 'tokenizer.ggml.tokens')),
        'rms_norm_eps': float(_field(reader, 'llama.attention.layer_norm_rms_epsilon', 1e-5)),
        'rope_theta': float(_field(reader, 'llama.rope.freq_base', 10000.0)),
        'rope_scaling': None,
        'max_position_embeddings': int(_field(reader, 'llama.context_length', 2048)),
        'tie_word_embeddings': 'output.weight' not in names,
        'attention_bias': False, 'mlp_bias': False, 'hidden_act': 'silu',
        'bos_token_id': int(_field(reader, 'tokenizer.ggml.bos_token_id', 1)),
        'eos_token_id': int(_field(reader, 'tokenizer.ggml.eos_token_id', 2)),
        'pad_token_id': int(_field(reader, 'tokenizer.ggml.padding_token_id',
                                   _field(reader, 'tokenizer.ggml.eos_token_id', 2))),
        'torch_dtype': 'float32',
    }


def gguf_hf_state_dict(gguf, reader, hf_config):
    """{HF name: fp32 array}: every tensor dequantized, attn_q/attn_k rows un-permuted."""
    state = {}
    for tensor in tqdm(reader.tensors, desc='dequantize', unit='tensor'):
        name = tensor.name
        if name in _GGUF_TO_HF:
            hf_name = _GGUF_TO_HF[name]
        else:
            parts = name.split('.')
            if len(parts) != 4 or parts[0] != 'blk' or parts[2] not in _GGUF_LAYER_TO_HF:
                if name.endswith('rope_freqs.weight'):
                    raise CheckpointError(f"GGUF tensor '{name}': scaled RoPE frequencies are not supported")
                raise CheckpointError(f"GGUF tensor '{name}' is not a LLaMA weight")
            hf_name = f"model.layers.{parts[1]}.{_GGUF_LAYER_TO_HF[parts[2]]}.{parts[3]}"
        array = np.asarray(gguf.quants.dequantize(tensor.data, tensor.tensor_type), dtype=np.float32)
        # ggml lists dims fastest-first: its shape reversed is the (out, in) torch shape
        array = array.reshape([int(d) for d in reversed(tensor.shape)])
        if name.endswith('attn_q.weight'):
            array = unpermute_rope_rows(array, hf_config['num_attention_heads'])
        elif name.endswith('attn_k.weight'):
            array = unpermute_rope_rows(array, hf_config['num_key_value_heads'])
        state[hf_name] = np.ascontiguousarray(array)
    return state


def gguf_tokenizer_files(reader, directory):
    """Write vocab.json, merges.txt and tokenizer_config.json of the GGUF's byte-level BPE tokenizer."""
    model = _field(reader, 'tokenizer.ggml.model')
    if model != 'gpt2':
        raise NotAvailableError(f"GGUF tokenizer model '{model}' is not supported; only byte-level BPE ('gpt2')")
    tokens = _field(reader, 'tokenizer.ggml.tokens')
    token_types = _field(reader, 'tokenizer.ggml.token_type') or [1] * len(tokens)
    merges = _field(reader, 'tokenizer.ggml.merges')
    with open(os.path.join(directory, 'vocab.json'), 'w', encoding='utf-8') as stream:
        json.dump({token: index for index, token in enumerate(tokens)}, stream, ensure_ascii=False)
    with open(os.path.join(directory, 'merges.txt'), 'w', encoding='utf-8') as stream:
        stream.write('#version: 0.2\n')
        stream.write('\n'.join(merges) + '\n')

    def token(key):
        index = _field(reader, key)
        return tokens[int(index)] if index is not None else None

    specials = [t for t, kind in zip(tokens, token_types) if kind in (_CONTROL, _USER_DEFINED)]
    config = {
        'tokenizer_class': 'BPETokenizer',
        'bos_token': token('tokenizer.ggml.bos_token_id'),
        'eos_token': token('tokenizer.ggml.eos_token_id'),
        'unk_token': token('tokenizer.ggml.unknown_token_id'),
        'pad_token': token('tokenizer.ggml.padding_token_id'),
        'additional_special_tokens': [t for t in specials if t not in (
            token('tokenizer.ggml.bos_token_id'), token('tokenizer.ggml.eos_token_id'),
            token('tokenizer.ggml.unknown_token_id'), token('tokenizer.ggml.padding_token_id'))],
        'add_prefix_space': bool(_field(reader, 'tokenizer.ggml.add_space_prefix', False)),
        'add_bos_token': bool(_field(reader, 'tokenizer.ggml.add_bos_token', False)),
        # llama.cpp's 'smollm'/'starcoder' pre-tokenizers split every digit before the GPT-2 regex
        'split_digits': _field(reader, 'tokenizer.ggml.pre') in ('smollm', 'starcoder', 'refact', 'codeshell'),
        'clean_up_tokenization_spaces': False,
    }
    chat_template = _field(reader, 'tokenizer.chat_template')
    if chat_template:
        config['chat_template'] = chat_template
    with open(os.path.join(directory, 'tokenizer_config.json'), 'w', encoding='utf-8') as stream:
        json.dump(config, stream, indent=2, ensure_ascii=False)


def gguf_to_hf_directory(gguf_path, directory):
    """Convert a LLaMA GGUF file into a Hugging Face directory (fp32 model.safetensors + tokenizer)."""
    from mindformers.tools.hf_checkpoint import write_hf_directory  # pylint: disable=import-outside-toplevel
    gguf, reader = _reader(gguf_path)
    hf_config = gguf_hf_config(reader)
    state = gguf_hf_state_dict(gguf, reader, hf_config)
    write_hf_directory(directory, hf_config, state)
    gguf_tokenizer_files(reader, directory)
    return directory
