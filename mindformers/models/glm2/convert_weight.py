"""ChatGLM2 weights between the Hugging Face layouts and ours (ChatGLM2Config + .ckpt).

Two HF layouts hold the same model:
- THUDM's chatglm2-6b (`model_type: chatglm`, remote code): `transformer.encoder.layers.N.self_attention.
  query_key_value` with rows [Q heads | K groups | V groups], `mlp.dense_h_to_4h` with rows [gate | up],
  `transformer.output_layer`. Upstream MindFormers checkpoints use these names too, with the embedding renamed
  `transformer.embedding.embedding_table`.
- transformers' built-in GLM (`model_type: glm`, GlmForCausalLM): separate q/k/v projections, `gate_up_proj` with
  rows [gate | up], and the same interleaved partial RoPE.
Ours are separate wq/wk/wv and w1 (gate) / w3 (up); every Linear is (out, in) in all three, so tensors are only
split, renamed and concatenated. We write the transformers GLM layout.
"""
import re

import mindspore as ms
import numpy as np

from mindformers.models.hf_conversion import check_all_converted, place_converted
from mindformers.tools.errors import CheckpointError, ConfigError
from mindformers.tools.logger import logger

CONFIG_CLASS = 'ChatGLM2Config'
MODEL_CLASS = 'ChatGLM2ForConditionalGeneration'

# per layer: transformers GLM suffix -> our suffix
_GLM_LAYER = {'input_layernorm.weight': 'attention_norm.weight', 'post_attention_layernorm.weight': 'ffn_norm.weight',
              'self_attn.q_proj.weight': 'attention.wq.weight', 'self_attn.q_proj.bias': 'attention.wq.bias',
              'self_attn.k_proj.weight': 'attention.wk.weight', 'self_attn.k_proj.bias': 'attention.wk.bias',
              'self_attn.v_proj.weight': 'attention.wv.weight', 'self_attn.v_proj.bias': 'attention.wv.bias',
              'self_attn.o_proj.weight': 'attention.wo.weight', 'self_attn.o_proj.bias': 'attention.wo.bias',
              'mlp.down_proj.weight': 'feed_forward.w2.weight'}
_GLM_GLOBAL = {'model.embed_tokens.weight': 'model.tok_embeddings.embedding_weight',
               'model.norm.weight': 'model.norm_out.weight', 'lm_head.weight': 'lm_head.weight'}
_GLM_LAYER_RE = re.compile(r'^model\.layers\.(\d+)\.(.+)$')
# THUDM chatglm2 (and upstream MindFormers) names
_CHATGLM_LAYER = {'input_layernorm.weight': 'attention_norm.weight',
                  'post_attention_layernorm.weight': 'ffn_norm.weight',
                  'self_attention.dense.weight': 'attention.wo.weight',
                  'self_attention.dense.bias': 'attention.wo.bias',
                  'mlp.dense_4h_to_h.weight': 'feed_forward.w2.weight',
                  'mlp.dense_4h_to_h.bias': 'feed_forward.w2.bias'}
_CHATGLM_GLOBAL = {'transformer.embedding.word_embeddings.weight': 'model.tok_embeddings.embedding_weight',
                   'transformer.embedding.embedding_table': 'model.tok_embeddings.embedding_weight',
                   'transformer.encoder.final_layernorm.weight': 'model.norm_out.weight',
                   'transformer.output_layer.weight': 'lm_head.weight'}
_CHATGLM_LAYER_RE = re.compile(r'^transformer\.encoder\.layers\.(\d+)\.(.+)$')
_IGNORED = re.compile(r'^transformer\.rotary_pos_emb\.inv_freq$')


def hf_config_to_kwargs(hf_config):
    """config.json of either layout (transformers `glm` or THUDM `chatglm`) -> ChatGLM2Config keyword arguments."""
    if hf_config.get('model_type') == 'chatglm' or 'padded_vocab_size' in hf_config:
        keys = ('num_layers', 'padded_vocab_size', 'hidden_size', 'ffn_hidden_size', 'kv_channels',
                'num_attention_heads', 'seq_length', 'layernorm_epsilon', 'rmsnorm', 'post_layer_norm',
                'add_bias_linear', 'add_qkv_bias', 'multi_query_attention', 'multi_query_group_num',
                'apply_query_key_layer_scaling', 'attention_softmax_in_fp32', 'rope_ratio', 'eos_token_id',
                'pad_token_id')
        kwargs = {key: hf_config[key] for key in keys if hf_config.get(key) is not None}
        if not kwargs.get('multi_query_attention', True):
            raise ConfigError("config.json multi_query_attention false: THUDM's fused query_key_value is then "
                              "interleaved per head, which this converter does not split; not supported")
    else:
        required = ('hidden_size', 'num_hidden_layers', 'num_attention_heads', 'vocab_size', 'intermediate_size')
        missing = [key for key in required if key not in hf_config]
        if missing:
            raise ConfigError(f"config.json lacks {missing}; a GLM config.json needs {list(required)}")
        if float(hf_config.get('partial_rotary_factor', 0.5)) != 0.5:
            raise ConfigError(f"config.json partial_rotary_factor={hf_config['partial_rotary_factor']} is not "
                              f"supported; ChatGLM2 rotates half of each head (0.5)")
        heads = hf_config['num_attention_heads']
        groups = hf_config.get('num_key_value_heads') or heads
        kwargs = dict(num_layers=hf_config['num_hidden_layers'], padded_vocab_size=hf_config['vocab_size'],
                      hidden_size=hf_config['hidden_size'], ffn_hidden_size=hf_config['intermediate_size'],
                      kv_channels=hf_config.get('head_dim') or hf_config['hidden_size'] // heads,
                      num_attention_heads=heads, multi_query_attention=groups != heads,
                      multi_query_group_num=groups,
                      layernorm_epsilon=hf_config.get('rms_norm_eps', 1e-5),
                      add_qkv_bias=bool(hf_config.get('attention_bias', True)),
                      rope_ratio=float(hf_config.get('rope_theta', 10000.0)) / 10000.0,
                      seq_length=min(int(hf_config.get('max_position_embeddings') or 2048), 2048))
        for key in ('eos_token_id', 'pad_token_id', 'bos_token_id'):
            value = hf_config.get(key)
            if isinstance(value, list):
                value = value[0] if value else None
            if value is not None:
                kwargs[key] = value
    kwargs.update(compute_dtype='float32', param_init_type='float32', layernorm_compute_type='float32')
    return kwargs


def to_hf_config(config):
    """Our ChatGLM2Config -> a transformers GLM config.json dict (GlmForCausalLM)."""
    return {
        'architectures': ['GlmForCausalLM'], 'model_type': 'glm',
        'hidden_size': config.hidden_size, 'num_hidden_layers': config.num_layers,
        'num_attention_heads': config.num_heads, 'num_key_value_heads': config.n_kv_heads or config.num_heads,
        'head_dim': config.kv_channels, 'intermediate_size': config.ffn_hidden_size,
        'vocab_size': config.vocab_size, 'rms_norm_eps': config.layernorm_epsilon,
        'rope_theta': 10000.0 * config.rope_ratio, 'partial_rotary_factor': 0.5,
        'attention_bias': bool(config.add_qkv_bias or config.add_bias_linear), 'hidden_act': 'silu',
        'tie_word_embeddings': False, 'max_position_embeddings': config.seq_length,
        'eos_token_id': config.eos_token_id, 'pad_token_id': config.pad_token_id, 'torch_dtype': 'float32',
    }


def expected_shapes(config):
    """Our parameter name -> shape for `config`."""
    hidden, ffn, kv_dim = config.hidden_size, config.ffn_hidden_size, (config.n_kv_heads or config.num_heads) * \
        config.kv_channels
    qkv_bias = bool(config.add_qkv_bias or config.add_bias_linear)
    shapes = {'model.tok_embeddings.embedding_weight': (config.vocab_size, hidden),
              'lm_head.weight': (config.vocab_size, hidden)}
    if config.post_layer_norm:
        shapes['model.norm_out.weight'] = (hidden,)
    for i in range(config.num_layers):
        prefix = f'model.layers.{i}.'
        layer = {'attention_norm.weight': (hidden,), 'ffn_norm.weight': (hidden,),
                 'attention.wq.weight': (hidden, hidden), 'attention.wk.weight': (kv_dim, hidden),
                 'attention.wv.weight': (kv_dim, hidden), 'attention.wo.weight': (hidden, hidden),
                 'feed_forward.w1.weight': (ffn, hidden), 'feed_forward.w3.weight': (ffn, hidden),
                 'feed_forward.w2.weight': (hidden, ffn)}
        if qkv_bias:
            layer.update({'attention.wq.bias': (hidden,), 'attention.wk.bias': (kv_dim,),
                          'attention.wv.bias': (kv_dim,)})
        if config.add_bias_linear:
            layer.update({'attention.wo.bias': (hidden,), 'feed_forward.w1.bias': (ffn,),
                          'feed_forward.w3.bias': (ffn,), 'feed_forward.w2.bias': (hidden,)})
        if not config.rmsnorm:
            layer.update({'attention_norm.bias': (hidden,), 'ffn_norm.bias': (hidden,)})
        shapes.update({prefix + k: v for k, v in layer.items()})
    if config.post_layer_norm and not config.rmsnorm:
        shapes['model.norm_out.bias'] = (hidden,)
    return shapes


def _split_rows(array, sizes, source, name):
    if array.shape[0] != sum(sizes):
        raise CheckpointError(f"{source}: tensor '{name}' has {array.shape[0]} rows; the config needs {sum(sizes)} "
                              f"({' + '.join(map(str, sizes))})")
    return np.split(array, np.cumsum(sizes)[:-1], axis=0)


def _fused(suffix, array, config, source, name):
    """A fused tensor of either layout -> {our suffix: part}, or None when `suffix` is not a fused one."""
    kind = suffix.rsplit('.', 1)[1]
    kv_dim = (config.n_kv_heads or config.num_heads) * config.kv_channels
    if suffix in ('self_attention.query_key_value.weight', 'self_attention.query_key_value.bias'):
        parts = _split_rows(array, (config.hidden_size, kv_dim, kv_dim), source, name)
        return {f'attention.{proj}.{kind}': part for proj, part in zip(('wq', 'wk', 'wv'), parts)}
    if suffix in ('mlp.dense_h_to_4h.weight', 'mlp.dense_h_to_4h.bias', 'mlp.gate_up_proj.weight',
                  'mlp.gate_up_proj.bias'):
        gate, up = _split_rows(array, (config.ffn_hidden_size, config.ffn_hidden_size), source, name)
        return {f'feed_forward.w1.{kind}': gate, f'feed_forward.w3.{kind}': up}
    return None


def convert_hf_state_dict(hf_state, config, source='state dict'):
    """HF tensors {name: array} of either layout -> our {name: np.ndarray}."""
    shapes = expected_shapes(config)
    ours = {}
    for hf_name, value in hf_state.items():
        if _IGNORED.match(hf_name):
            continue
        array = np.asarray(value)
        match = _GLM_LAYER_RE.match(hf_name) or _CHATGLM_LAYER_RE.match(hf_name)
        layer_table = _GLM_LAYER if hf_name.startswith('model.') else _CHATGLM_LAYER
        parts = _fused(match.group(2), array, config, source, hf_name) if match else None
        if hf_name in _GLM_GLOBAL or hf_name in _CHATGLM_GLOBAL:
            placed = {_GLM_GLOBAL.get(hf_name) or _CHATGLM_GLOBAL[hf_name]: array}
        elif match and match.group(2) in layer_table:
            placed = {f'model.layers.{match.group(1)}.{layer_table[match.group(2)]}': array}
        elif parts is not None:
            placed = {f'model.layers.{match.group(1)}.{suffix}': part for suffix, part in parts.items()}
        else:
            raise CheckpointError(f"{source}: tensor '{hf_name}' is not a ChatGLM2 / GLM weight name")
        place_converted(ours, placed, shapes, source, hf_name, config.num_layers)
    return check_all_converted(ours, shapes, source)


def convert_to_hf_state_dict(our_state, config):
    """Our {name: array} -> transformers GLM {name: np.ndarray} (q/k/v separate, gate_up_proj fused)."""
    inverse_global = {ours: hf for hf, ours in _GLM_GLOBAL.items()}
    inverse_layer = {ours: hf for hf, ours in _GLM_LAYER.items()}
    hf_state = {}
    for name, value in our_state.items():
        if name in inverse_global:
            hf_state[inverse_global[name]] = np.asarray(value)
            continue
        match = re.match(r'^model\.layers\.(\d+)\.(.+)$', name)
        if not match:
            continue  # optimizer state and other non-weight entries
        layer, suffix = match.groups()
        if suffix in inverse_layer:
            hf_state[f'model.layers.{layer}.{inverse_layer[suffix]}'] = np.asarray(value)
        elif suffix.startswith('feed_forward.w1.'):
            kind = suffix.rsplit('.', 1)[1]
            up = our_state[f'model.layers.{layer}.feed_forward.w3.{kind}']
            hf_state[f'model.layers.{layer}.mlp.gate_up_proj.{kind}'] = np.concatenate(
                [np.asarray(value), np.asarray(up)], axis=0)
    return hf_state


def convert_upstream_checkpoint(params, config, our_names, source='checkpoint'):
    """{name: Parameter} of an upstream MindFormers ChatGLM2 checkpoint (THUDM names, `embedding_table`) -> ours;
    a checkpoint already in our names is returned as it is."""
    foreign = {n: v for n, v in params.items() if n not in our_names and
               (n.startswith('transformer.') or n in _CHATGLM_GLOBAL)}
    if not foreign:
        return params
    converted = convert_hf_state_dict({n: v.asnumpy() for n, v in foreign.items()}, config, source)
    out = {n: v for n, v in params.items() if n not in foreign}
    for name, array in converted.items():
        out[name] = ms.Parameter(ms.Tensor(array), name=name)
    logger.info("%s: %d upstream MindFormers ChatGLM2 tensors converted to %d of ours (query_key_value and "
                "dense_h_to_4h split)", source, len(foreign), len(converted))
    return out
