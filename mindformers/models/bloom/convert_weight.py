"""BLOOM weights between the Hugging Face layout (config.json + safetensors) and ours (BloomConfig + .ckpt).

HF BLOOM fuses q/k/v in `query_key_value`, interleaved per head: its (3 * hidden, hidden) rows are
(head, [q|k|v], head_dim, hidden). Ours are separate wq/wk/wv whose rows run head by head, so the fused
tensor is viewed as (heads, 3, head_dim, ...) and split on the second axis (and re-interleaved on the way
out). Every Linear is (out, in) in both layouts; the LM head is tied to the word embeddings in both.
"""
import re

import numpy as np

from mindformers.models.hf_conversion import check_all_converted, layernorm_block_shapes, place_converted
from mindformers.models.upstream_names import layernorm_block_renamer
from mindformers.tools.errors import CheckpointError, ConfigError

CONFIG_CLASS = 'BloomConfig'
MODEL_CLASS = 'BloomLMHeadModel'

_GLOBAL = {'word_embeddings.weight': 'model.tok_embeddings.embedding_weight',
           'word_embeddings_layernorm.weight': 'model.embedding_norm.weight',
           'word_embeddings_layernorm.bias': 'model.embedding_norm.bias',
           'ln_f.weight': 'model.norm_out.weight', 'ln_f.bias': 'model.norm_out.bias'}
_LAYER = {'input_layernorm.weight': 'attention_norm.weight', 'input_layernorm.bias': 'attention_norm.bias',
          'post_attention_layernorm.weight': 'ffn_norm.weight', 'post_attention_layernorm.bias': 'ffn_norm.bias',
          'self_attention.dense.weight': 'attention.wo.weight', 'self_attention.dense.bias': 'attention.wo.bias',
          'mlp.dense_h_to_4h.weight': 'feed_forward.w1.weight', 'mlp.dense_h_to_4h.bias': 'feed_forward.w1.bias',
          'mlp.dense_4h_to_h.weight': 'feed_forward.w2.weight', 'mlp.dense_4h_to_h.bias': 'feed_forward.w2.bias'}
_QKV = ('attention.wq', 'attention.wk', 'attention.wv')
# checkpoints of upstream MindFormers' BloomLMHeadModel (built with auto_prefix=False: no `transformer.` prefix)
upstream_name_to_ours = layernorm_block_renamer('blocks.', {
    'embedding.word_embedding.embedding_table': 'model.tok_embeddings.embedding_weight',
    'embedding.norm.gamma': 'model.embedding_norm.weight', 'embedding.norm.beta': 'model.embedding_norm.bias',
    'ln_f.gamma': 'model.norm_out.weight', 'ln_f.beta': 'model.norm_out.bias'})
_HF_LAYER = re.compile(r'^h\.(\d+)\.(.+)$')
_IGNORED = re.compile(r'^lm_head\.weight$')


def _get(hf_config, *names, default=None):
    for name in names:
        if name in hf_config:
            return hf_config[name]
    return default


def hf_config_to_kwargs(hf_config):
    """A transformers BloomConfig dict (config.json) -> BloomConfig keyword arguments."""
    hidden = _get(hf_config, 'hidden_size', 'n_embed')
    layers = _get(hf_config, 'n_layer', 'num_hidden_layers')
    heads = _get(hf_config, 'n_head', 'num_attention_heads')
    if hidden is None or layers is None or heads is None or 'vocab_size' not in hf_config:
        raise ConfigError("config.json lacks hidden_size, n_layer, n_head or vocab_size; not a BLOOM config.json")
    if hf_config.get('apply_residual_connection_post_layernorm'):
        raise ConfigError("config.json apply_residual_connection_post_layernorm=True is not supported (BLOOM's "
                          "residual is taken before the layer norm)")
    return dict(hidden_size=hidden, num_layers=layers, num_heads=heads, vocab_size=hf_config['vocab_size'],
                seq_length=int(hf_config.get('seq_length', 2048)), expand_ratio=4,
                layer_norm_epsilon=hf_config.get('layer_norm_epsilon', 1e-5), hidden_act='gelu',
                hidden_dropout_rate=hf_config.get('hidden_dropout', 0.0),
                attention_dropout_rate=hf_config.get('attention_dropout', 0.0),
                bos_token_id=hf_config.get('bos_token_id', 1), eos_token_id=hf_config.get('eos_token_id', 2),
                pad_token_id=hf_config.get('pad_token_id', 3), unk_token_id=hf_config.get('unk_token_id', 0),
                initializer_range=hf_config.get('initializer_range', 0.02), batch_size=1,
                compute_dtype='float32', param_init_type='float32', embedding_init_type='float32',
                layernorm_compute_type='float32', softmax_compute_type='float32')


def to_hf_config(config):
    """Our BloomConfig -> a transformers config.json dict."""
    if config.hidden_act != 'gelu' or config.expand_ratio != 4:
        raise ConfigError(f"hidden_act {config.hidden_act!r} / expand_ratio {config.expand_ratio} have no Hugging "
                          f"Face BLOOM equivalent (it is tanh-GELU with a 4x MLP)")
    return {'architectures': ['BloomForCausalLM'], 'model_type': 'bloom', 'hidden_size': config.hidden_size,
            'n_layer': config.num_layers, 'n_head': config.num_heads, 'vocab_size': config.vocab_size,
            'layer_norm_epsilon': config.layer_norm_epsilon, 'hidden_dropout': config.hidden_dropout_rate,
            'attention_dropout': config.attention_dropout_rate, 'bos_token_id': config.bos_token_id,
            'eos_token_id': config.eos_token_id, 'pad_token_id': config.pad_token_id,
            'unk_token_id': config.unk_token_id, 'initializer_range': config.initializer_range,
            'apply_residual_connection_post_layernorm': False, 'pretraining_tp': 1, 'slow_but_exact': False,
            'tie_word_embeddings': True, 'seq_length': config.seq_length, 'torch_dtype': 'float32'}


def expected_shapes(config):
    """Our parameter name -> shape for `config`."""
    hidden, ffn = config.hidden_size, config.ffn_hidden_size
    shapes = {'model.tok_embeddings.embedding_weight': (config.vocab_size, hidden)}
    for name in ('model.embedding_norm', 'model.norm_out'):
        shapes[name + '.weight'] = (hidden,)
        shapes[name + '.bias'] = (hidden,)
    shapes.update(layernorm_block_shapes(config.num_layers, hidden, ffn))
    return shapes


def _split_qkv(array, heads, source, hf_name):
    """(3H, ...) interleaved per head -> q, k, v each (H, ...)."""
    if array.shape[0] % (3 * heads):
        raise CheckpointError(f"{source}: tensor '{hf_name}' has shape {array.shape}; its first axis must hold "
                              f"q, k and v for {heads} heads")
    head_dim = array.shape[0] // (3 * heads)
    grouped = array.reshape((heads, 3, head_dim) + array.shape[1:])
    return [np.ascontiguousarray(grouped[:, i].reshape((heads * head_dim,) + array.shape[1:])) for i in range(3)]


def convert_hf_state_dict(hf_state, config, source='state dict'):
    """HF tensors {name: array} (with or without the `transformer.` prefix) -> our {name: np.ndarray}."""
    shapes = expected_shapes(config)
    ours = {}
    for hf_name, value in hf_state.items():
        name = hf_name[len('transformer.'):] if hf_name.startswith('transformer.') else hf_name
        if _IGNORED.match(name):
            continue
        array = np.asarray(value)
        match = _HF_LAYER.match(name)
        if name in _GLOBAL:
            placed = {_GLOBAL[name]: array}
        elif match and match.group(2) in ('self_attention.query_key_value.weight',
                                          'self_attention.query_key_value.bias'):
            kind = match.group(2).rsplit('.', 1)[1]
            parts = _split_qkv(array, config.num_heads, source, hf_name)
            placed = {f'model.layers.{match.group(1)}.{proj}.{kind}': part for proj, part in zip(_QKV, parts)}
        elif match and match.group(2) in _LAYER:
            placed = {f'model.layers.{match.group(1)}.{_LAYER[match.group(2)]}': array}
        else:
            raise CheckpointError(f"{source}: tensor '{hf_name}' is not a BLOOM weight name")
        place_converted(ours, placed, shapes, source, hf_name, config.num_layers)
    return check_all_converted(ours, shapes, source)


def convert_to_hf_state_dict(our_state, config):
    """Our {name: array} -> HF {name: np.ndarray} with the `transformer.` prefix (no lm_head: it is tied)."""
    hf_state = {'transformer.' + hf: np.asarray(our_state[ours]) for hf, ours in _GLOBAL.items()}
    heads = config.num_heads
    for i in range(config.num_layers):
        prefix = f'model.layers.{i}.'
        for hf_suffix, our_suffix in _LAYER.items():
            hf_state[f'transformer.h.{i}.{hf_suffix}'] = np.asarray(our_state[prefix + our_suffix])
        for kind in ('weight', 'bias'):
            parts = [np.asarray(our_state[f'{prefix}{p}.{kind}']) for p in _QKV]
            head_dim = parts[0].shape[0] // heads
            stacked = np.stack([p.reshape((heads, head_dim) + p.shape[1:]) for p in parts], axis=1)
            hf_state[f'transformer.h.{i}.self_attention.query_key_value.{kind}'] = \
                stacked.reshape((3 * heads * head_dim,) + parts[0].shape[1:])
    return {k: np.ascontiguousarray(v) for k, v in hf_state.items()}
