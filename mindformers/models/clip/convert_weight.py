"""CLIP weights between the Hugging Face layout (config.json + safetensors) and ours (CLIPConfig + .ckpt).

The blocks of both encoders map one to one (`self_attn.q_proj` -> `attention.wq`, `layer_norm1` ->
`attention_norm`, `mlp.fc1` -> `feed_forward.w1`, ...); HF's `text_model.*` lives at our top level under
upstream's names (`token_embedding`, `positional_embedding`, `transformer`, `ln_final`) and `vision_model.*` under
`visual.` (`ln_pre`, `ln_post`, `patch_embed.proj`). The two projections are Linear weights (out, in) in HF and
(in, out) matrices here (upstream's `visual.proj` and `text_projection`), so they are transposed.
Our text encoder reads each text at its largest id (CLIP's `<|endoftext|>`); a Hugging Face config whose
`eos_token_id` is another id pools elsewhere and is refused.
"""
import re

import numpy as np

from mindformers.models.hf_conversion import (check_all_converted, layernorm_block_shapes, place_converted,
                                              stacked_layer_name)
from mindformers.models.upstream_names import block_renamer
from mindformers.tools.errors import CheckpointError, ConfigError

CONFIG_CLASS = 'CLIPConfig'
MODEL_CLASS = 'CLIPModel'

_HF_ACT = {'gelu': 'gelu_exact', 'gelu_new': 'gelu', 'quick_gelu': 'quick_gelu', 'relu': 'relu', 'silu': 'silu'}
_OUR_ACT = {ours: hf for hf, ours in _HF_ACT.items()}
_GLOBAL = {'text_model.embeddings.token_embedding.weight': 'token_embedding.embedding_weight',
           'text_model.embeddings.position_embedding.weight': 'positional_embedding',
           'text_model.final_layer_norm.weight': 'ln_final.weight',
           'text_model.final_layer_norm.bias': 'ln_final.bias',
           'vision_model.embeddings.class_embedding': 'visual.class_embedding',
           'vision_model.embeddings.patch_embedding.weight': 'visual.patch_embed.proj.weight',
           'vision_model.embeddings.position_embedding.weight': 'visual.positional_embedding',
           'vision_model.pre_layrnorm.weight': 'visual.ln_pre.weight',
           'vision_model.pre_layrnorm.bias': 'visual.ln_pre.bias',
           'vision_model.post_layernorm.weight': 'visual.ln_post.weight',
           'vision_model.post_layernorm.bias': 'visual.ln_post.bias', 'logit_scale': 'logit_scale'}
_TRANSPOSED = {'visual_projection.weight': 'visual.proj', 'text_projection.weight': 'text_projection'}
_STACKS = {'text_model.encoder.layers': 'transformer.layers',
           'vision_model.encoder.layers': 'visual.transformer.layers'}
_LAYER = {'layer_norm1': 'attention_norm', 'self_attn.q_proj': 'attention.wq', 'self_attn.k_proj': 'attention.wk',
          'self_attn.v_proj': 'attention.wv', 'self_attn.out_proj': 'attention.wo', 'layer_norm2': 'ffn_norm',
          'mlp.fc1': 'feed_forward.w1', 'mlp.fc2': 'feed_forward.w2'}
_IGNORED = re.compile(r'^(text|vision)_model\.embeddings\.position_ids$')
_TEXT_KEYS = ('vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads',
              'max_position_embeddings', 'layer_norm_eps', 'attention_dropout', 'initializer_range',
              'initializer_factor')
_VISION_KEYS = ('hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'image_size',
                'patch_size', 'num_channels', 'layer_norm_eps', 'attention_dropout', 'initializer_range',
                'initializer_factor')


def _encoder_kwargs(section, keys, what):
    act = section.get('hidden_act', 'quick_gelu')
    if act not in _HF_ACT:
        raise ConfigError(f"config.json {what}.hidden_act '{act}' is not supported; supported: {sorted(_HF_ACT)}")
    kwargs = {key: section[key] for key in keys if key in section}
    kwargs.update(hidden_act=_HF_ACT[act], dropout=section.get('dropout', 0.0))
    return kwargs


def hf_config_to_kwargs(hf_config):
    """A transformers CLIPConfig dict (config.json) -> CLIPConfig keyword arguments."""
    if not isinstance(hf_config.get('text_config'), dict) or not isinstance(hf_config.get('vision_config'), dict):
        raise ConfigError("config.json lacks text_config / vision_config; a CLIP config.json has both")
    text = _encoder_kwargs(hf_config['text_config'], _TEXT_KEYS, 'text_config')
    vocab = text.get('vocab_size', 49408)
    eos = hf_config['text_config'].get('eos_token_id', 2)
    if eos not in (2, vocab - 1):
        raise ConfigError(f"config.json text_config.eos_token_id {eos} is not the vocabulary's last id {vocab - 1}; "
                          f"CLIPModel reads each text at its largest id (CLIP's <|endoftext|>)")
    vision = _encoder_kwargs(hf_config['vision_config'], _VISION_KEYS, 'vision_config')
    return dict(text_config=text, vision_config=vision, projection_dim=hf_config.get('projection_dim', 512),
                logit_scale_init_value=hf_config.get('logit_scale_init_value', 2.6592), dtype='float32',
                param_init_type='float32', compute_dtype='float32')


def to_hf_config(config):
    """Our CLIPConfig -> a transformers config.json dict (a CLIPModel)."""
    text, vision = config.text_config, config.vision_config
    for what, section in (('text_config', text), ('vision_config', vision)):
        if section.hidden_act not in _OUR_ACT:
            raise ConfigError(f"{what}.hidden_act '{section.hidden_act}' has no Hugging Face CLIP equivalent")
    text_hf = {key: getattr(text, key) for key in _TEXT_KEYS}
    text_hf.update(hidden_act=_OUR_ACT[text.hidden_act], dropout=text.dropout, model_type='clip_text_model',
                   bos_token_id=text.vocab_size - 2, eos_token_id=text.vocab_size - 1, pad_token_id=1)
    vision_hf = {key: getattr(vision, key) for key in _VISION_KEYS}
    vision_hf.update(hidden_act=_OUR_ACT[vision.hidden_act], dropout=vision.dropout, model_type='clip_vision_model')
    return {'architectures': ['CLIPModel'], 'model_type': 'clip', 'text_config': text_hf, 'vision_config': vision_hf,
            'projection_dim': config.projection_dim, 'logit_scale_init_value': config.logit_scale_init_value,
            'torch_dtype': 'float32'}


def expected_shapes(config):
    """Our parameter name -> shape of every CLIPModel weight."""
    text, vision, proj = config.text_config, config.vision_config, config.projection_dim
    width, patch = vision.hidden_size, vision.patch_size
    shapes = {'token_embedding.embedding_weight': (text.vocab_size, text.hidden_size),
              'positional_embedding': (text.max_position_embeddings, text.hidden_size),
              'ln_final.weight': (text.hidden_size,), 'ln_final.bias': (text.hidden_size,),
              'text_projection': (text.hidden_size, proj), 'logit_scale': (),
              'visual.class_embedding': (width,),
              'visual.patch_embed.proj.weight': (width, vision.num_channels, patch, patch),
              'visual.positional_embedding': (vision.num_patches + 1, width),
              'visual.ln_pre.weight': (width,), 'visual.ln_pre.bias': (width,),
              'visual.ln_post.weight': (width,), 'visual.ln_post.bias': (width,), 'visual.proj': (width, proj)}
    shapes.update(layernorm_block_shapes(text.num_hidden_layers, text.hidden_size, text.intermediate_size,
                                         'transformer.layers'))
    shapes.update(layernorm_block_shapes(vision.num_hidden_layers, width, vision.intermediate_size,
                                         'visual.transformer.layers'))
    return shapes


def convert_hf_state_dict(hf_state, config, source='state dict'):
    """HF CLIPModel tensors {name: array} -> our {name: np.ndarray}."""
    shapes = expected_shapes(config)
    layers = max(config.text_config.num_hidden_layers, config.vision_config.num_hidden_layers)
    ours = {}
    for hf_name, value in hf_state.items():
        if _IGNORED.match(hf_name):
            continue
        array = np.asarray(value)
        if hf_name in _TRANSPOSED:
            our_name, array = _TRANSPOSED[hf_name], array.T
        else:
            our_name = stacked_layer_name(hf_name, _GLOBAL, _LAYER, _STACKS)
        if our_name is None:
            raise CheckpointError(f"{source}: tensor '{hf_name}' is not a CLIP weight name")
        place_converted(ours, {our_name: array}, shapes, source, hf_name, layers)
    check_all_converted(ours, shapes, source)
    return ours


def convert_to_hf_state_dict(our_state, config):
    """Our {name: array} -> HF CLIPModel {name: np.ndarray}."""
    reverse = {ours: hf for hf, ours in _GLOBAL.items()}
    transposed = {ours: hf for hf, ours in _TRANSPOSED.items()}
    for hf_stack, our_stack in _STACKS.items():
        section = config.text_config if hf_stack.startswith('text') else config.vision_config
        for i in range(section.num_hidden_layers):
            for hf_part, our_part in _LAYER.items():
                for kind in ('weight', 'bias'):
                    reverse[f'{our_stack}.{i}.{our_part}.{kind}'] = f'{hf_stack}.{i}.{hf_part}.{kind}'
    out = {}
    for name, value in our_state.items():
        if name in transposed:
            out[transposed[name]] = np.ascontiguousarray(np.asarray(value).T)
        elif name in reverse:
            out[reverse[name]] = np.ascontiguousarray(value)
    return out


# checkpoints of upstream MindFormers' CLIPModel (models/upstream_names.py): OpenAI's layout, blocks
# `[visual.]transformer.resblocks.<i>.` with q/k/v fused in `attn.in_proj` (split into ours), Linear layers
# stored (out, in) as ours, LayerNorms as gamma/beta
_UPSTREAM_BLOCK = {
    'ln_1.gamma': ('attention_norm.weight', False), 'ln_1.beta': ('attention_norm.bias', False),
    'ln_2.gamma': ('ffn_norm.weight', False), 'ln_2.beta': ('ffn_norm.bias', False),
    'attn.in_proj.weight': [(f'attention.{p}.weight', False) for p in ('wq', 'wk', 'wv')],
    'attn.in_proj.bias': [(f'attention.{p}.bias', False) for p in ('wq', 'wk', 'wv')],
    'attn.out_proj.weight': ('attention.wo.weight', False), 'attn.out_proj.bias': ('attention.wo.bias', False),
    'mlp.c_fc.weight': ('feed_forward.w1.weight', False), 'mlp.c_fc.bias': ('feed_forward.w1.bias', False),
    'mlp.c_proj.weight': ('feed_forward.w2.weight', False), 'mlp.c_proj.bias': ('feed_forward.w2.bias', False),
}
upstream_name_to_ours = block_renamer(
    {'visual.transformer.resblocks.': 'visual.transformer.layers.', 'transformer.resblocks.': 'transformer.layers.'},
    _UPSTREAM_BLOCK, {
        'visual.conv1.weight': 'visual.patch_embed.proj.weight',
        'visual.ln_pre.gamma': 'visual.ln_pre.weight', 'visual.ln_pre.beta': 'visual.ln_pre.bias',
        'visual.ln_post.gamma': 'visual.ln_post.weight', 'visual.ln_post.beta': 'visual.ln_post.bias',
        'token_embedding.embedding_table': 'token_embedding.embedding_weight',
        'ln_final.gamma': 'ln_final.weight', 'ln_final.beta': 'ln_final.bias'})
