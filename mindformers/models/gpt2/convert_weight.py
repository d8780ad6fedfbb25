"""GPT-2 weights between the Hugging Face layout (config.json + safetensors) and ours (GPT2Config + .ckpt).

HF GPT-2 keeps its projections as Conv1D, weight (in, out), with q/k/v fused in `c_attn`; ours are Linear
(out, in) with separate wq/wk/wv. So every projection is transposed and c_attn is split in three (and
concatenated back on the way out). The LM head is tied to `wte` in both.
"""
import re

import numpy as np

from mindformers.models.hf_conversion import check_all_converted, layernorm_block_shapes, place_converted
from mindformers.models.upstream_names import layernorm_block_renamer
from mindformers.tools.errors import CheckpointError, ConfigError

CONFIG_CLASS = 'GPT2Config'
MODEL_CLASS = 'GPT2LMHeadModel'

# HF activation_function <-> our hidden_act (HF 'gelu' is the exact erf form; ours is the tanh one)
_HF_TO_OUR_ACT = {'gelu_new': 'gelu', 'gelu_pytorch_tanh': 'gelu', 'gelu_fast': 'gelu', 'gelu': 'gelu_exact',
                  'quick_gelu': 'fast_gelu', 'relu': 'relu', 'silu': 'silu', 'swish': 'silu'}
_OUR_TO_HF_ACT = {'gelu': 'gelu_new', 'gelu_tanh': 'gelu_new', 'gelu_new': 'gelu_new', 'gelu_exact': 'gelu',
                  'gelu_erf': 'gelu', 'fast_gelu': 'quick_gelu', 'quick_gelu': 'quick_gelu', 'relu': 'relu',
                  'silu': 'silu', 'swish': 'silu'}
_GLOBAL = {'wte.weight': 'model.tok_embeddings.embedding_weight',
           'wpe.weight': 'model.position_embeddings.embedding_weight',
           'ln_f.weight': 'model.norm_out.weight', 'ln_f.bias': 'model.norm_out.bias'}
# per layer: HF suffix -> (our suffix, transposed)
_LAYER = {'ln_1.weight': ('attention_norm.weight', False), 'ln_1.bias': ('attention_norm.bias', False),
          'ln_2.weight': ('ffn_norm.weight', False), 'ln_2.bias': ('ffn_norm.bias', False),
          'attn.c_proj.weight': ('attention.wo.weight', True), 'attn.c_proj.bias': ('attention.wo.bias', False),
          'mlp.c_fc.weight': ('feed_forward.w1.weight', True), 'mlp.c_fc.bias': ('feed_forward.w1.bias', False),
          'mlp.c_proj.weight': ('feed_forward.w2.weight', True), 'mlp.c_proj.bias': ('feed_forward.w2.bias', False)}
_QKV = ('attention.wq', 'attention.wk', 'attention.wv')
# checkpoints of upstream MindFormers' GPT2LMHeadModel (models/upstream_names.py)
upstream_name_to_ours = layernorm_block_renamer('backbone.blocks.', {
    'backbone.embedding.word_embedding.embedding_table': 'model.tok_embeddings.embedding_weight',
    'backbone.embedding.position_embedding.embedding_table': 'model.position_embeddings.embedding_weight',
    'backbone.layernorm.gamma': 'model.norm_out.weight', 'backbone.layernorm.beta': 'model.norm_out.bias'})
_HF_LAYER = re.compile(r'^h\.(\d+)\.(.+)$')
# HF buffers with no parameter here (the causal mask is rebuilt) and the tied head
_IGNORED = re.compile(r'^(h\.\d+\.attn\.(bias|masked_bias)|lm_head\.weight)$')


def hf_config_to_kwargs(hf_config):
    """A transformers GPT2Config dict (config.json) -> GPT2Config keyword arguments."""
    required = ('n_embd', 'n_layer', 'n_head', 'vocab_size', 'n_positions')
    missing = [key for key in required if key not in hf_config]
    if missing:
        raise ConfigError(f"config.json lacks {missing}; a GPT-2 config.json needs {list(required)}")
    for flag in ('scale_attn_by_inverse_layer_idx', 'reorder_and_upcast_attn'):
        if hf_config.get(flag):
            raise ConfigError(f"config.json {flag}=True is not supported (GPT-2 attention is scaled by "
                              f"1/sqrt(head_dim) only)")
    if hf_config.get('scale_attn_weights', True) is False:
        raise ConfigError("config.json scale_attn_weights=False is not supported")
    hidden = hf_config['n_embd']
    inner = hf_config.get('n_inner') or 4 * hidden
    if inner % hidden:
        raise ConfigError(f"config.json n_inner={inner} is not a multiple of n_embd={hidden}; GPT2Config sizes the "
                          f"MLP as hidden_size * expand_ratio")
    act = hf_config.get('activation_function', 'gelu_new')
    if act not in _HF_TO_OUR_ACT:
        raise ConfigError(f"config.json activation_function '{act}' is not supported; supported: "
                          f"{sorted(_HF_TO_OUR_ACT)}")
    eos = hf_config.get('eos_token_id', 50256)
    return dict(hidden_size=hidden, num_layers=hf_config['n_layer'], num_heads=hf_config['n_head'],
                vocab_size=hf_config['vocab_size'], expand_ratio=inner // hidden,
                seq_length=hf_config['n_positions'], max_position_embeddings=hf_config['n_positions'],
                layer_norm_epsilon=hf_config.get('layer_norm_epsilon', 1e-5), hidden_act=_HF_TO_OUR_ACT[act],
                embedding_dropout_prob=hf_config.get('embd_pdrop', 0.1),
                hidden_dropout_rate=hf_config.get('resid_pdrop', 0.1),
                attention_dropout_rate=hf_config.get('attn_pdrop', 0.1),
                bos_token_id=hf_config.get('bos_token_id', 50256), eos_token_id=eos,
                pad_token_id=hf_config.get('pad_token_id') if hf_config.get('pad_token_id') is not None else eos,
                initializer_range=hf_config.get('initializer_range', 0.02),
                compute_dtype='float32', param_init_type='float32', layernorm_compute_type='float32',
                softmax_compute_type='float32')


def to_hf_config(config):
    """Our GPT2Config -> a transformers config.json dict."""
    if config.hidden_act not in _OUR_TO_HF_ACT:
        raise ConfigError(f"hidden_act '{config.hidden_act}' has no Hugging Face GPT-2 equivalent")
    return {'architectures': ['GPT2LMHeadModel'], 'model_type': 'gpt2', 'n_embd': config.hidden_size,
            'n_layer': config.num_layers, 'n_head': config.num_heads, 'vocab_size': config.vocab_size,
            'n_positions': config.max_position_embeddings, 'n_ctx': config.max_position_embeddings,
            'n_inner': config.ffn_hidden_size, 'activation_function': _OUR_TO_HF_ACT[config.hidden_act],
            'layer_norm_epsilon': config.layer_norm_epsilon, 'embd_pdrop': config.embedding_dropout_prob,
            'resid_pdrop': config.hidden_dropout_rate, 'attn_pdrop': config.attention_dropout_rate,
            'bos_token_id': config.bos_token_id, 'eos_token_id': config.eos_token_id,
            'initializer_range': config.initializer_range, 'tie_word_embeddings': True,
            'scale_attn_weights': True, 'torch_dtype': 'float32'}


def expected_shapes(config):
    """Our parameter name -> shape for `config`."""
    hidden, ffn = config.hidden_size, config.ffn_hidden_size
    shapes = {'model.tok_embeddings.embedding_weight': (config.vocab_size, hidden),
              'model.position_embeddings.embedding_weight': (config.max_position_embeddings, hidden),
              'model.norm_out.weight': (hidden,), 'model.norm_out.bias': (hidden,)}
    shapes.update(layernorm_block_shapes(config.num_layers, hidden, ffn))
    return shapes


def _strip(name):
    return name[len('transformer.'):] if name.startswith('transformer.') else name


def convert_hf_state_dict(hf_state, config, source='state dict'):
    """HF tensors {name: array} (with or without the `transformer.` prefix) -> our {name: np.ndarray}."""
    shapes = expected_shapes(config)
    ours = {}
    for hf_name, value in hf_state.items():
        name = _strip(hf_name)
        if _IGNORED.match(name):
            continue
        array = np.asarray(value)
        match = _HF_LAYER.match(name)
        if name in _GLOBAL:
            placed = {_GLOBAL[name]: array}
        elif match and match.group(2) in ('attn.c_attn.weight', 'attn.c_attn.bias'):
            prefix = f'model.layers.{match.group(1)}.'
            kind = match.group(2).rsplit('.', 1)[1]
            if array.shape[-1] % 3:
                raise CheckpointError(f"{source}: tensor '{hf_name}' has shape {array.shape}; its last axis must "
                                      f"hold q, k and v")
            parts = np.split(array, 3, axis=-1)
            placed = {prefix + proj + '.' + kind: (part.T if kind == 'weight' else part)
                      for proj, part in zip(_QKV, parts)}
        elif match and match.group(2) in _LAYER:
            our_suffix, transposed = _LAYER[match.group(2)]
            placed = {f'model.layers.{match.group(1)}.{our_suffix}': array.T if transposed else array}
        else:
            raise CheckpointError(f"{source}: tensor '{hf_name}' is not a GPT-2 weight name")
        place_converted(ours, placed, shapes, source, hf_name, config.num_layers)
    return check_all_converted(ours, shapes, source)


def convert_to_hf_state_dict(our_state, config):
    """Our {name: array} -> HF {name: np.ndarray} with the `transformer.` prefix (no lm_head: it is tied)."""
    hf_state = {}
    for hf_name, our_name in _GLOBAL.items():
        hf_state['transformer.' + hf_name] = np.asarray(our_state[our_name])
    for i in range(config.num_layers):
        prefix = f'model.layers.{i}.'
        for hf_suffix, (our_suffix, transposed) in _LAYER.items():
            array = np.asarray(our_state[prefix + our_suffix])
            hf_state[f'transformer.h.{i}.{hf_suffix}'] = array.T if transposed else array
        hf_state[f'transformer.h.{i}.attn.c_attn.weight'] = np.concatenate(
            [np.asarray(our_state[prefix + p + '.weight']).T for p in _QKV], axis=-1)
        hf_state[f'transformer.h.{i}.attn.c_attn.bias'] = np.concatenate(
            [np.asarray(our_state[prefix + p + '.bias']) for p in _QKV], axis=-1)
    return {k: np.ascontiguousarray(v) for k, v in hf_state.items()}
