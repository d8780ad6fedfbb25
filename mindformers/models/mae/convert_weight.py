"""MAE weights between the Hugging Face layout (ViTMAEForPreTraining) and ours (ViTMAEConfig + .ckpt).

A renaming with ViT's block names on both sides: HF `vit.encoder.layer.N.attention.attention.query` is our
`vit.layers.N.attention.wq`, `decoder.decoder_layers.N....` our `decoder.decoder_layers.N....`; the fixed
sine-cosine tables (`position_embeddings`, `decoder_pos_embed`) are copied as they are.
"""

import numpy as np

from mindformers.models.hf_conversion import (check_all_converted, layernorm_block_shapes, place_converted,
                                              stacked_layer_name)
from mindformers.models.upstream_names import layernorm_block_renamer
from mindformers.tools.errors import CheckpointError, ConfigError

CONFIG_CLASS = 'ViTMAEConfig'
MODEL_CLASS = 'ViTMAEForPreTraining'
HEAD_PREFIXES = ('decoder.',)      # a ViTMAEModel (encoder-only) checkpoint has no decoder

_HF_TO_OUR_ACT = {'gelu': 'gelu_exact', 'gelu_new': 'gelu', 'gelu_pytorch_tanh': 'gelu', 'relu': 'relu'}
_OUR_TO_HF_ACT = {'gelu_exact': 'gelu', 'gelu_erf': 'gelu', 'gelu': 'gelu_new', 'gelu_tanh': 'gelu_new',
                  'relu': 'relu'}
_GLOBAL = {'vit.embeddings.cls_token': 'vit.cls_tokens', 'vit.embeddings.position_embeddings': 'vit.pos_embed',
           'vit.embeddings.patch_embeddings.projection.weight': 'vit.patch_embed.proj.weight',
           'vit.embeddings.patch_embeddings.projection.bias': 'vit.patch_embed.proj.bias',
           'vit.layernorm.weight': 'vit.norm.weight', 'vit.layernorm.bias': 'vit.norm.bias',
           'decoder.mask_token': 'decoder.mask_token', 'decoder.decoder_pos_embed': 'decoder.decoder_pos_embed'}
for _part in ('decoder_embed', 'decoder_norm', 'decoder_pred'):
    for _kind in ('weight', 'bias'):
        _GLOBAL[f'decoder.{_part}.{_kind}'] = f'decoder.{_part}.{_kind}'
_LAYER = {'layernorm_before': 'attention_norm', 'attention.attention.query': 'attention.wq',
          'attention.attention.key': 'attention.wk', 'attention.attention.value': 'attention.wv',
          'attention.output.dense': 'attention.wo', 'layernorm_after': 'ffn_norm',
          'intermediate.dense': 'feed_forward.w1', 'output.dense': 'feed_forward.w2'}
_STACKS = {'vit.encoder.layer': 'vit.layers', 'decoder.decoder_layers': 'decoder.decoder_layers'}


def hf_config_to_kwargs(hf_config):
    """A transformers ViTMAEConfig dict (config.json) -> ViTMAEConfig keyword arguments."""
    required = ('hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'image_size',
                'patch_size', 'decoder_hidden_size', 'decoder_num_hidden_layers')
    missing = [key for key in required if key not in hf_config]
    if missing:
        raise ConfigError(f"config.json lacks {missing}; a ViT-MAE config.json needs {list(required)}")
    act = hf_config.get('hidden_act', 'gelu')
    if act not in _HF_TO_OUR_ACT:
        raise ConfigError(f"config.json hidden_act '{act}' is not supported; supported: {sorted(_HF_TO_OUR_ACT)}")
    keys = ('image_size', 'patch_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads',
            'intermediate_size', 'decoder_hidden_size', 'decoder_num_hidden_layers')
    kwargs = {key: hf_config[key] for key in keys}
    kwargs.update(num_channels=hf_config.get('num_channels', 3), hidden_act=_HF_TO_OUR_ACT[act],
                  qkv_bias=hf_config.get('qkv_bias', True), layer_norm_eps=hf_config.get('layer_norm_eps', 1e-12),
                  initializer_range=hf_config.get('initializer_range', 0.02),
                  hidden_dropout_prob=hf_config.get('hidden_dropout_prob', 0.0),
                  attention_probs_dropout_prob=hf_config.get('attention_probs_dropout_prob', 0.0),
                  mask_ratio=hf_config.get('mask_ratio', 0.75),
                  decoder_num_attention_heads=hf_config.get('decoder_num_attention_heads', 16),
                  decoder_intermediate_size=hf_config.get('decoder_intermediate_size', 2048),
                  norm_pixel_loss=hf_config.get('norm_pix_loss', False), param_init_type='float32',
                  compute_dtype='float32')
    return kwargs


def to_hf_config(config):
    """Our ViTMAEConfig -> a transformers config.json dict (a ViTMAEForPreTraining)."""
    if config.hidden_act not in _OUR_TO_HF_ACT:
        raise ConfigError(f"hidden_act '{config.hidden_act}' has no Hugging Face ViT-MAE equivalent")
    keys = ('image_size', 'patch_size', 'num_channels', 'hidden_size', 'num_hidden_layers', 'num_attention_heads',
            'intermediate_size', 'qkv_bias', 'layer_norm_eps', 'initializer_range', 'hidden_dropout_prob',
            'attention_probs_dropout_prob', 'mask_ratio', 'decoder_hidden_size', 'decoder_num_hidden_layers',
            'decoder_num_attention_heads', 'decoder_intermediate_size')
    hf = {key: getattr(config, key) for key in keys}
    hf.update(architectures=['ViTMAEForPreTraining'], model_type='vit_mae',
              hidden_act=_OUR_TO_HF_ACT[config.hidden_act], norm_pix_loss=bool(config.norm_pixel_loss), torch_dtype='float32')
    return hf


def expected_shapes(config):
    """Our parameter name -> shape of the encoder every MAE checkpoint must hold."""
    hidden, patch, tokens = config.hidden_size, config.patch_size, config.num_patches + 1
    shapes = {'vit.cls_tokens': (1, 1, hidden), 'vit.pos_embed': (1, tokens, hidden),
              'vit.patch_embed.proj.weight': (hidden, config.num_channels, patch, patch),
              'vit.patch_embed.proj.bias': (hidden,), 'vit.norm.weight': (hidden,), 'vit.norm.bias': (hidden,)}
    shapes.update(layernorm_block_shapes(config.num_hidden_layers, hidden, config.intermediate_size, 'vit.layers',
                                         config.qkv_bias))
    return shapes


def head_shapes(config):
    """Our parameter name -> shape of the decoder (optional: an encoder-only checkpoint lacks it)."""
    width, pixels = config.decoder_hidden_size, config.patch_size ** 2 * config.num_channels
    shapes = {'decoder.decoder_embed.weight': (width, config.hidden_size), 'decoder.decoder_embed.bias': (width,),
              'decoder.mask_token': (1, 1, width), 'decoder.decoder_pos_embed': (1, config.num_patches + 1, width),
              'decoder.decoder_norm.weight': (width,), 'decoder.decoder_norm.bias': (width,),
              'decoder.decoder_pred.weight': (pixels, width), 'decoder.decoder_pred.bias': (pixels,)}
    shapes.update(layernorm_block_shapes(config.decoder_num_hidden_layers, width, config.decoder_intermediate_size,
                                         'decoder.decoder_layers', config.qkv_bias))
    return shapes


def convert_hf_state_dict(hf_state, config, source='state dict'):
    """HF tensors {name: array} (ViTMAEForPreTraining or ViTMAEModel) -> our {name: np.ndarray}."""
    shapes = dict(expected_shapes(config), **head_shapes(config))
    ours = {}
    for hf_name, value in hf_state.items():
        name = hf_name if hf_name.startswith(('vit.', 'decoder.')) else 'vit.' + hf_name
        our_name = stacked_layer_name(name, _GLOBAL, _LAYER, _STACKS)
        if our_name is None:
            raise CheckpointError(f"{source}: tensor '{hf_name}' is not a ViT-MAE weight name")
        place_converted(ours, {our_name: np.asarray(value)}, shapes, source, hf_name, config.num_hidden_layers)
    check_all_converted(ours, expected_shapes(config), source)
    return ours


def convert_to_hf_state_dict(our_state, config):
    """Our {name: array} -> HF ViTMAEForPreTraining {name: np.ndarray}."""
    reverse = {ours: hf for hf, ours in _GLOBAL.items()}
    for hf_stack, our_stack in _STACKS.items():
        count = config.num_hidden_layers if hf_stack.startswith('vit') else config.decoder_num_hidden_layers
        for i in range(count):
            for hf_part, our_part in _LAYER.items():
                for kind in ('weight', 'bias'):
                    reverse[f'{our_stack}.{i}.{our_part}.{kind}'] = f'{hf_stack}.{i}.{hf_part}.{kind}'
    return {reverse[name]: np.ascontiguousarray(value) for name, value in our_state.items() if name in reverse}


# checkpoints of upstream MindFormers' ViTMAEForPreTraining (models/upstream_names.py): encoder blocks
# `vit.blocks.<i>.`, decoder blocks `decoder_blocks.<i>.`, the decoder's other tensors at the top level
upstream_name_to_ours = layernorm_block_renamer({'vit.blocks.': 'vit.layers.',
                                                 'decoder_blocks.': 'decoder.decoder_layers.'}, {
    'vit.norm.gamma': 'vit.norm.weight', 'vit.norm.beta': 'vit.norm.bias',
    'mask_tokens': 'decoder.mask_token', 'decoder_pos_embed': 'decoder.decoder_pos_embed',
    'decoder_embed.weight': 'decoder.decoder_embed.weight', 'decoder_embed.bias': 'decoder.decoder_embed.bias',
    'decoder_norm.gamma': 'decoder.decoder_norm.weight', 'decoder_norm.beta': 'decoder.decoder_norm.bias',
    'decoder_pred.weight': 'decoder.decoder_pred.weight', 'decoder_pred.bias': 'decoder.decoder_pred.bias'})
