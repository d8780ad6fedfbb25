"""ViT weights between the Hugging Face layout (config.json + safetensors) and ours (ViTConfig + .ckpt).

Both sides store Linear weights as (out, in) and the patch projection as a (hidden, channels, p, p) Conv2d
kernel, so the mapping is a renaming: HF `vit.encoder.layer.N.attention.attention.query` is our
`vit.layers.N.attention.wq`, `vit.layernorm` our `vit.norm`, `classifier` our `head`. Hugging Face ViT classifies
the [CLS] token after the final LayerNorm, so converted configs have `use_mean_pooling: False`. The encoder must
be complete; the classifier is taken when the checkpoint has one. Loaded with `use_mean_pooling: True` (fine-tuning
upstream's way), the final LayerNorm is dropped and `fc_norm` starts fresh. HF's pooler (`vit.pooler`, unused by image
classification) and mask token are skipped.
"""
import re

import numpy as np

from mindformers.models.hf_conversion import (check_all_converted, layernorm_block_shapes, place_converted,
                                              stacked_layer_name)
from mindformers.models.upstream_names import layernorm_block_renamer
from mindformers.tools.errors import CheckpointError, ConfigError

CONFIG_CLASS = 'ViTConfig'
MODEL_CLASS = 'ViTForImageClassification'
# parts a Hugging Face checkpoint may lack: the classifier, and the mean-pooling norm (HF ViT pools the [CLS] token)
HEAD_PREFIXES = ('head.', 'vit.fc_norm.')

_HF_TO_OUR_ACT = {'gelu': 'gelu_exact', 'gelu_new': 'gelu', 'gelu_pytorch_tanh': 'gelu', 'relu': 'relu',
                  'silu': 'silu', 'swish': 'silu', 'quick_gelu': 'quick_gelu'}
_OUR_TO_HF_ACT = {'gelu_exact': 'gelu', 'gelu_erf': 'gelu', 'gelu': 'gelu_new', 'gelu_tanh': 'gelu_new',
                  'gelu_new': 'gelu_new', 'relu': 'relu', 'silu': 'silu', 'swish': 'silu', 'quick_gelu': 'quick_gelu'}
_GLOBAL = {'embeddings.cls_token': 'vit.cls_tokens', 'embeddings.position_embeddings': 'vit.pos_embed',
           'embeddings.patch_embeddings.projection.weight': 'vit.patch_embed.proj.weight',
           'embeddings.patch_embeddings.projection.bias': 'vit.patch_embed.proj.bias',
           'layernorm.weight': 'vit.norm.weight', 'layernorm.bias': 'vit.norm.bias'}
_HEADS = {'classifier.weight': 'head.weight', 'classifier.bias': 'head.bias'}
_LAYER = {'layernorm_before': 'attention_norm', 'attention.attention.query': 'attention.wq',
          'attention.attention.key': 'attention.wk', 'attention.attention.value': 'attention.wv',
          'attention.output.dense': 'attention.wo', 'layernorm_after': 'ffn_norm',
          'intermediate.dense': 'feed_forward.w1', 'output.dense': 'feed_forward.w2'}
_STACKS = {'encoder.layer': 'vit.layers'}
_IGNORED = re.compile(r'^(pooler\.dense\.(weight|bias)|embeddings\.mask_token)$')


def hf_config_to_kwargs(hf_config):
    """A transformers ViTConfig dict (config.json) -> ViTConfig keyword arguments."""
    required = ('hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'image_size',
                'patch_size')
    missing = [key for key in required if key not in hf_config]
    if missing:
        raise ConfigError(f"config.json lacks {missing}; a ViT config.json needs {list(required)}")
    act = hf_config.get('hidden_act', 'gelu')
    if act not in _HF_TO_OUR_ACT:
        raise ConfigError(f"config.json hidden_act '{act}' is not supported; supported: {sorted(_HF_TO_OUR_ACT)}")
    labels = {int(key): str(name) for key, name in (hf_config.get('id2label') or {}).items()}
    return dict(id2label=labels or None, image_size=hf_config['image_size'], patch_size=hf_config['patch_size'],
                num_channels=hf_config.get('num_channels', 3), hidden_size=hf_config['hidden_size'],
                num_hidden_layers=hf_config['num_hidden_layers'],
                num_attention_heads=hf_config['num_attention_heads'],
                intermediate_size=hf_config['intermediate_size'], hidden_act=_HF_TO_OUR_ACT[act],
                layer_norm_eps=hf_config.get('layer_norm_eps', 1e-12), qkv_bias=hf_config.get('qkv_bias', True),
                hidden_dropout_prob=hf_config.get('hidden_dropout_prob', 0.0),
                attention_probs_dropout_prob=hf_config.get('attention_probs_dropout_prob', 0.0),
                initializer_range=hf_config.get('initializer_range', 0.02),
                encoder_stride=hf_config.get('encoder_stride', 16), num_labels=len(labels) or 2,
                use_mean_pooling=False, drop_path_rate=0.0, loss_type='CrossEntropyLoss',
                param_init_type='float32', compute_dtype='float32')


def to_hf_config(config):
    """Our ViTConfig -> a transformers config.json dict (a ViTForImageClassification)."""
    if config.hidden_act not in _OUR_TO_HF_ACT:
        raise ConfigError(f"hidden_act '{config.hidden_act}' has no Hugging Face ViT equivalent")
    if config.use_mean_pooling:
        raise ConfigError("use_mean_pooling: True has no Hugging Face ViT equivalent (it classifies the [CLS] token "
                          "after the final LayerNorm)")
    named = getattr(config, 'id2label', None) or {}
    labels = {str(i): str(named.get(i, named.get(str(i), f'LABEL_{i}'))) for i in range(config.num_labels)}
    return {'architectures': ['ViTForImageClassification'], 'model_type': 'vit', 'image_size': config.image_size,
            'patch_size': config.patch_size, 'num_channels': config.num_channels,
            'hidden_size': config.hidden_size, 'num_hidden_layers': config.num_hidden_layers,
            'num_attention_heads': config.num_attention_heads, 'intermediate_size': config.intermediate_size,
            'hidden_act': _OUR_TO_HF_ACT[config.hidden_act], 'layer_norm_eps': config.layer_norm_eps,
            'qkv_bias': config.qkv_bias, 'hidden_dropout_prob': config.hidden_dropout_prob,
            'attention_probs_dropout_prob': config.attention_probs_dropout_prob,
            'initializer_range': config.initializer_range, 'encoder_stride': config.encoder_stride,
            'id2label': labels, 'label2id': {v: int(k) for k, v in labels.items()}, 'torch_dtype': 'float32'}


def expected_shapes(config):
    """Our parameter name -> shape of the encoder every ViT checkpoint must hold (no classifier)."""
    hidden, inner, patch = config.hidden_size, config.intermediate_size, config.patch_size
    shapes = {'vit.cls_tokens': (1, 1, hidden), 'vit.pos_embed': (1, config.seq_length, hidden),
              'vit.patch_embed.proj.weight': (hidden, config.num_channels, patch, patch),
              'vit.patch_embed.proj.bias': (hidden,)}
    if not config.use_mean_pooling:
        shapes['vit.norm.weight'] = (hidden,)
        shapes['vit.norm.bias'] = (hidden,)
    shapes.update(layernorm_block_shapes(config.num_hidden_layers, hidden, inner, 'vit.layers', config.qkv_bias))
    return shapes


def head_shapes(config):
    """Our parameter name -> shape of the classifier and the mean-pooling norm (optional in a checkpoint)."""
    shapes = {'head.weight': (config.num_labels, config.hidden_size), 'head.bias': (config.num_labels,)}
    if config.use_mean_pooling:
        shapes.update({'vit.fc_norm.weight': (config.hidden_size,), 'vit.fc_norm.bias': (config.hidden_size,)})
    return shapes


def convert_hf_state_dict(hf_state, config, source='state dict'):
    """HF tensors {name: array} (ViTModel or ViTForImageClassification) -> our {name: np.ndarray}."""
    shapes = dict(expected_shapes(config), **head_shapes(config))
    ours = {}
    for hf_name, value in hf_state.items():
        name = hf_name[len('vit.'):] if hf_name.startswith('vit.') else hf_name
        if _IGNORED.match(name) or (config.use_mean_pooling and name.startswith('layernorm.')):
            continue          # under mean pooling the final norm is `fc_norm`, which HF checkpoints lack
        our_name = _HEADS.get(name) or stacked_layer_name(name, _GLOBAL, _LAYER, _STACKS)
        if our_name is None:
            raise CheckpointError(f"{source}: tensor '{hf_name}' is not a ViT weight name")
        place_converted(ours, {our_name: np.asarray(value)}, shapes, source, hf_name, config.num_hidden_layers)
    check_all_converted(ours, expected_shapes(config), source)
    return ours


def convert_to_hf_state_dict(our_state, config):
    """Our {name: array} -> HF ViTForImageClassification {name: np.ndarray} (encoder under `vit.`)."""
    reverse = {ours: 'vit.' + hf for hf, ours in _GLOBAL.items()}
    reverse.update({ours: hf for hf, ours in _HEADS.items()})
    for i in range(config.num_hidden_layers):
        for hf_part, our_part in _LAYER.items():
            for kind in ('weight', 'bias'):
                reverse[f'vit.layers.{i}.{our_part}.{kind}'] = f'vit.encoder.layer.{i}.{hf_part}.{kind}'
    return {reverse[name]: np.ascontiguousarray(value) for name, value in our_state.items() if name in reverse}


# checkpoints of upstream MindFormers' ViTForImageClassification (models/upstream_names.py): its blocks are
# `vit.blocks.<i>.` of the shared layernorm1 / dense1-3 / projection / output layout; the rest keeps our names
upstream_name_to_ours = layernorm_block_renamer('vit.blocks.', {
    'vit.fc_norm.gamma': 'vit.fc_norm.weight', 'vit.fc_norm.beta': 'vit.fc_norm.bias'}, our_prefix='vit.layers.')
