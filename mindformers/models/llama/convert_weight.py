"""LLaMA weights between the Hugging Face layout (config.json + safetensors) and ours (LlamaConfig + .ckpt).

Both layouts keep Linear weights as (out, in) and RoPE in the rotate-half order, so conversion is a
pure renaming plus shape checks against the config; no tensor is permuted.
"""
import re

import numpy as np

from mindformers.tools.errors import CheckpointError, ConfigError
# generic HF directory I/O, re-exported for callers of this module
from mindformers.tools.hf_checkpoint import (is_hf_directory, read_hf_directory, read_safetensors,  # noqa: F401
                                             write_hf_directory)

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


# the family converter contract of models/hf_conversion.py
CONFIG_CLASS = 'LlamaConfig'
MODEL_CLASS = 'LlamaForCausalLM'
hf_config_to_kwargs = hf_config_to_llama_kwargs
to_hf_config = llama_config_to_hf_config

