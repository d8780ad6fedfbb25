"""Swin weights between the Hugging Face layout (config.json + safetensors) and ours (SwinConfig + .ckpt).

A renaming: HF `swin.encoder.layers.I.blocks.J.attention.self.query` is our `swin.stages.I.blocks.J.attention.wq`,
`...attention.self.relative_position_bias_table` our `...attention.relative_position_bias_table`,
`swin.encoder.layers.I.downsample.{norm,reduction}` our `swin.stages.I.downsample.{norm,reduction}`,
`swin.embeddings.norm` our `swin.patch_norm`, `swin.layernorm` our `swin.norm`, `classifier` our `head`. The
relative position index buffers are recomputed, not read.
"""
import re

import numpy as np

from mindformers.models.hf_conversion import block_shapes, check_all_converted, place_converted
from mindformers.models.upstream_names import DROP, block_renamer
from mindformers.tools.errors import CheckpointError, ConfigError

CONFIG_CLASS = 'SwinConfig'
MODEL_CLASS = 'SwinForImageClassification'
HEAD_PREFIXES = ('head.',)

_HF_TO_OUR_ACT = {'gelu': 'gelu_exact', 'gelu_new': 'gelu', 'gelu_pytorch_tanh': 'gelu', 'relu': 'relu',
                  'silu': 'silu', 'swish': 'silu'}
_OUR_TO_HF_ACT = {'gelu_exact': 'gelu', 'gelu_erf': 'gelu', 'gelu': 'gelu_new', 'gelu_tanh': 'gelu_new',
                  'gelu_new': 'gelu_new', 'relu': 'relu', 'silu': 'silu', 'swish': 'silu'}
_GLOBAL = {'embeddings.patch_embeddings.projection.weight': 'swin.patch_embed.proj.weight',
           'embeddings.patch_embeddings.projection.bias': 'swin.patch_embed.proj.bias',
           'embeddings.norm.weight': 'swin.patch_norm.weight', 'embeddings.norm.bias': 'swin.patch_norm.bias',
           'embeddings.position_embeddings': 'swin.pos_embed',
           'layernorm.weight': 'swin.norm.weight', 'layernorm.bias': 'swin.norm.bias'}
_HEADS = {'classifier.weight': 'head.weight', 'classifier.bias': 'head.bias'}
_BLOCK = {'layernorm_before': 'attention_norm', 'attention.self.query': 'attention.wq',
          'attention.self.key': 'attention.wk', 'attention.self.value': 'attention.wv',
          'attention.output.dense': 'attention.wo', 'layernorm_after': 'ffn_norm',
          'intermediate.dense': 'feed_forward.w1', 'output.dense': 'feed_forward.w2'}
_HF_BLOCK = re.compile(r'^encoder\.layers\.(\d+)\.blocks\.(\d+)\.(.+)\.(weight|bias)$')
_HF_TABLE = re.compile(r'^encoder\.layers\.(\d+)\.blocks\.(\d+)\.attention\.self\.relative_position_bias_table$')
_HF_MERGE = re.compile(r'^encoder\.layers\.(\d+)\.downsample\.(norm|reduction)\.(weight|bias)$')
_IGNORED = re.compile(r'^(encoder\.layers\.\d+\.blocks\.\d+\.attention\.self\.relative_position_index|'
                      r'embeddings\.mask_token)$')


def hf_config_to_kwargs(hf_config):
    """A transformers SwinConfig dict (config.json) -> SwinConfig keyword arguments."""
    required = ('embed_dim', 'depths', 'num_heads', 'window_size', 'image_size', 'patch_size')
    missing = [key for key in required if key not in hf_config]
    if missing:
        raise ConfigError(f"config.json lacks {missing}; a Swin config.json needs {list(required)}")
    act = hf_config.get('hidden_act', 'gelu')
    if act not in _HF_TO_OUR_ACT:
        raise ConfigError(f"config.json hidden_act '{act}' is not supported; supported: {sorted(_HF_TO_OUR_ACT)}")
    labels = {int(key): str(name) for key, name in (hf_config.get('id2label') or {}).items()}
    return dict(id2label=labels or None, image_size=hf_config['image_size'], patch_size=hf_config['patch_size'],
                num_channels=hf_config.get('num_channels', 3), embed_dim=hf_config['embed_dim'],
                depths=list(hf_config['depths']), num_heads=list(hf_config['num_heads']),
                window_size=hf_config['window_size'], mlp_ratio=hf_config.get('mlp_ratio', 4.0),
                qkv_bias=hf_config.get('qkv_bias', True), hidden_act=_HF_TO_OUR_ACT[act],
                layer_norm_eps=hf_config.get('layer_norm_eps', 1e-5),
                hidden_dropout_prob=hf_config.get('hidden_dropout_prob', 0.0),
                attention_probs_dropout_prob=hf_config.get('attention_probs_dropout_prob', 0.0),
                use_absolute_embeddings=hf_config.get('use_absolute_embeddings', False),
                initializer_range=hf_config.get('initializer_range', 0.02), num_labels=len(labels) or 2,
                drop_path_rate=0.0, loss_type='CrossEntropyLoss', param_init_type='float32', compute_dtype='float32')


def to_hf_config(config):
    """Our SwinConfig -> a transformers config.json dict (a SwinForImageClassification)."""
    if config.hidden_act not in _OUR_TO_HF_ACT:
        raise ConfigError(f"hidden_act '{config.hidden_act}' has no Hugging Face Swin equivalent")
    named = getattr(config, 'id2label', None) or {}
    labels = {str(i): str(named.get(i, named.get(str(i), f'LABEL_{i}'))) for i in range(config.num_labels)}
    return {'architectures': ['SwinForImageClassification'], 'model_type': 'swin', 'image_size': config.image_size,
            'patch_size': config.patch_size, 'num_channels': config.num_channels, 'embed_dim': config.embed_dim,
            'depths': list(config.depths), 'num_heads': list(config.num_heads), 'window_size': config.window_size,
            'mlp_ratio': config.mlp_ratio, 'qkv_bias': config.qkv_bias, 'hidden_act': _OUR_TO_HF_ACT[config.hidden_act],
            'layer_norm_eps': config.layer_norm_eps, 'hidden_dropout_prob': config.hidden_dropout_prob,
            'attention_probs_dropout_prob': config.attention_probs_dropout_prob,
            'use_absolute_embeddings': config.use_absolute_embeddings, 'initializer_range': config.initializer_range,
            'id2label': labels, 'label2id': {v: int(k) for k, v in labels.items()}, 'torch_dtype': 'float32'}


def expected_shapes(config):
    """Our parameter name -> shape of the encoder every Swin checkpoint must hold (no classifier)."""
    embed, patch = config.embed_dim, config.patch_size
    shapes = {'swin.patch_embed.proj.weight': (embed, config.num_channels, patch, patch),
              'swin.patch_embed.proj.bias': (embed,),
              'swin.norm.weight': (config.num_features,), 'swin.norm.bias': (config.num_features,)}
    if config.patch_norm:
        shapes.update({'swin.patch_norm.weight': (embed,), 'swin.patch_norm.bias': (embed,)})
    if config.use_absolute_embeddings:
        shapes['swin.pos_embed'] = (1, (config.image_size // patch) ** 2, embed)
    for stage, (depth, heads, side) in enumerate(zip(config.depths, config.num_heads, config.stage_resolutions())):
        dim = embed * 2 ** stage
        inner = int(dim * config.mlp_ratio)
        window = min(config.window_size, side)
        for block in range(depth):
            prefix = f'swin.stages.{stage}.blocks.{block}.'
            shapes[prefix + 'attention.relative_position_bias_table'] = ((2 * window - 1) ** 2, heads)
            shapes.update(block_shapes(prefix, dim, inner, config.qkv_bias))
        if stage < len(config.depths) - 1:
            prefix = f'swin.stages.{stage}.downsample.'
            shapes[prefix + 'norm.weight'] = (4 * dim,)
            shapes[prefix + 'norm.bias'] = (4 * dim,)
            shapes[prefix + 'reduction.weight'] = (2 * dim, 4 * dim)
    return shapes


def head_shapes(config):
    """Our parameter name -> shape of the classifier (optional in a checkpoint)."""
    return {'head.weight': (config.num_labels, config.num_features), 'head.bias': (config.num_labels,)}


def _our_name(name):
    """A Hugging Face name (without the `swin.` prefix) -> ours, or None when it is not a Swin weight."""
    if name in _GLOBAL:
        return _GLOBAL[name]
    match = _HF_TABLE.match(name)
    if match:
        return f'swin.stages.{match.group(1)}.blocks.{match.group(2)}.attention.relative_position_bias_table'
    match = _HF_BLOCK.match(name)
    if match and match.group(3) in _BLOCK:
        return f'swin.stages.{match.group(1)}.blocks.{match.group(2)}.{_BLOCK[match.group(3)]}.{match.group(4)}'
    match = _HF_MERGE.match(name)
    if match:
        return f'swin.stages.{match.group(1)}.downsample.{match.group(2)}.{match.group(3)}'
    return None


def convert_hf_state_dict(hf_state, config, source='state dict'):
    """HF tensors {name: array} (SwinModel or SwinForImageClassification) -> our {name: np.ndarray}."""
    shapes = dict(expected_shapes(config), **head_shapes(config))
    ours = {}
    for hf_name, value in hf_state.items():
        name = hf_name[len('swin.'):] if hf_name.startswith('swin.') else hf_name
        if _IGNORED.match(name) or name.startswith('pooler.'):
            continue
        our_name = _HEADS.get(name) or _our_name(name)
        if our_name is None:
            raise CheckpointError(f"{source}: tensor '{hf_name}' is not a Swin weight name")
        place_converted(ours, {our_name: np.asarray(value)}, shapes, source, hf_name, sum(config.depths))
    check_all_converted(ours, expected_shapes(config), source)
    return ours


def convert_to_hf_state_dict(our_state, config):
    """Our {name: array} -> HF SwinForImageClassification {name: np.ndarray} (encoder under `swin.`)."""
    reverse = {ours: 'swin.' + hf for hf, ours in _GLOBAL.items()}
    reverse.update({ours: hf for hf, ours in _HEADS.items()})
    for stage, depth in enumerate(config.depths):
        for block in range(depth):
            ours, hf = f'swin.stages.{stage}.blocks.{block}.', f'swin.encoder.layers.{stage}.blocks.{block}.'
            reverse[ours + 'attention.relative_position_bias_table'] = \
                hf + 'attention.self.relative_position_bias_table'
            for hf_part, our_part in _BLOCK.items():
                for kind in ('weight', 'bias'):
                    reverse[f'{ours}{our_part}.{kind}'] = f'{hf}{hf_part}.{kind}'
        for part in ('norm.weight', 'norm.bias', 'reduction.weight'):
            reverse[f'swin.stages.{stage}.downsample.{part}'] = f'swin.encoder.layers.{stage}.downsample.{part}'
    hf_state = {reverse[name]: np.ascontiguousarray(value) for name, value in our_state.items() if name in reverse}
    for stage, (depth, side) in enumerate(zip(config.depths, config.stage_resolutions())):   # HF's index buffers
        index = relative_position_index_of(min(config.window_size, side))
        for block in range(depth):
            hf_state[f'swin.encoder.layers.{stage}.blocks.{block}.attention.self.relative_position_index'] = index
    return hf_state


def relative_position_index_of(window):
    from mindformers.models.swin.swin import relative_position_index  # pylint: disable=import-outside-toplevel
    return relative_position_index(window).astype(np.int64)


# checkpoints of upstream MindFormers' SwinForImageClassification (models/upstream_names.py): blocks
# `encoder.layers.<s>.blocks.<i>.` with separate q / k / v and proj stored (out, in), the MLP's mapping /
# projection stored (in, out); the relative position index and the shifted-window masks are buffers here
_UPSTREAM_BLOCK = {
    'norm1.gamma': ('attention_norm.weight', False), 'norm1.beta': ('attention_norm.bias', False),
    'norm2.gamma': ('ffn_norm.weight', False), 'norm2.beta': ('ffn_norm.bias', False),
    'attn.relative_position_bias.relative_position_bias_table': ('attention.relative_position_bias_table', False),
    'attn.q.weight': ('attention.wq.weight', False), 'attn.q.bias': ('attention.wq.bias', False),
    'attn.k.weight': ('attention.wk.weight', False), 'attn.k.bias': ('attention.wk.bias', False),
    'attn.v.weight': ('attention.wv.weight', False), 'attn.v.bias': ('attention.wv.bias', False),
    'attn.proj.weight': ('attention.wo.weight', False), 'attn.proj.bias': ('attention.wo.bias', False),
    'mlp.mapping.weight': ('feed_forward.w1.weight', True), 'mlp.mapping.bias': ('feed_forward.w1.bias', False),
    'mlp.projection.weight': ('feed_forward.w2.weight', True), 'mlp.projection.bias': ('feed_forward.w2.bias', False),
}
_UPSTREAM_GLOBAL = {
    'encoder.patch_embed.projection.weight': 'swin.patch_embed.proj.weight',
    'encoder.patch_embed.projection.bias': 'swin.patch_embed.proj.bias',
    'encoder.patch_embed.norm.gamma': 'swin.patch_norm.weight', 'encoder.patch_embed.norm.beta': 'swin.patch_norm.bias',
    'encoder.absolute_pos_embed': 'swin.pos_embed',
    'encoder.norm.gamma': 'swin.norm.weight', 'encoder.norm.beta': 'swin.norm.bias'}
_UPSTREAM_MERGE = re.compile(r'^encoder\.layers\.(\d+)\.downsample\.(norm\.gamma|norm\.beta|reduction\.weight)$')
_UPSTREAM_PARTS = {'norm.gamma': 'norm.weight', 'norm.beta': 'norm.bias', 'reduction.weight': 'reduction.weight'}
_upstream_block = block_renamer({}, {}, _UPSTREAM_GLOBAL)


def upstream_name_to_ours(name):
    """An upstream MindFormers Swin tensor name -> (our name, transposed), DROP for its buffers, None otherwise."""
    match = re.match(r'^encoder\.layers\.(\d+)\.blocks\.(\d+)\.(.+)$', name)
    if match:
        stage, block, suffix = match.groups()
        if suffix in ('attn_mask', 'attn.relative_position_bias.relative_position_index'):
            return DROP
        if suffix not in _UPSTREAM_BLOCK:
            return None
        ours, transposed = _UPSTREAM_BLOCK[suffix]
        return f'swin.stages.{stage}.blocks.{block}.{ours}', transposed
    match = _UPSTREAM_MERGE.match(name)
    if match:
        return f'swin.stages.{match.group(1)}.downsample.{_UPSTREAM_PARTS[match.group(2)]}', False
    return _upstream_block(name)
