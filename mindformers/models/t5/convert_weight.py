"""T5 weights between the Hugging Face layout (config.json + safetensors), upstream MindFormers checkpoints and ours.

Hugging Face and we both store Linear weights as (out, in), so the mapping is a renaming:
`encoder.block.N.layer.0.SelfAttention.q` is our `encoder.layers.N.attention.wq`, the decoder's `layer.1` is the
cross-attention (`EncDecAttention`), and the relative position tables that Hugging Face keeps in block 0 are our
per-stack `relative_attention_bias`. Upstream MindFormers (`t5_model.tfm_encoder.blocks.N...`) stores the output
projections and the MLP as (in, out); those are transposed on load.
"""
import re

import numpy as np

from mindformers.models.hf_conversion import check_all_converted, place_converted
from mindformers.models.upstream_names import DROP, LAYERNORM_BLOCK
from mindformers.tools.errors import CheckpointError, ConfigError

CONFIG_CLASS = 'T5Config'
MODEL_CLASS = 'T5ForConditionalGeneration'

_GLOBAL = {'shared.weight': 'shared.embedding_weight',
           'encoder.final_layer_norm.weight': 'encoder.final_norm.weight',
           'decoder.final_layer_norm.weight': 'decoder.final_norm.weight',
           'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight':
               'encoder.relative_attention_bias.weight',
           'decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight':
               'decoder.relative_attention_bias.weight',
           'lm_head.weight': 'lm_head.weight'}
_ATTENTION = {'q': 'wq', 'k': 'wk', 'v': 'wv', 'o': 'wo'}
# HF sub-layer index -> (our norm name, our attention name) per stack; the last sub-layer is the MLP
_SUBLAYERS = {'encoder': {0: ('attention_norm', 'attention'), 1: ('ffn_norm', None)},
              'decoder': {0: ('attention_norm', 'attention'), 1: ('cross_attention_norm', 'cross_attention'),
                          2: ('ffn_norm', None)}}
# HF MLP names -> ours: wi (ReLU MLP) or the gate wi_0 and up wi_1 (gated MLP), then wo
_MLP = {'DenseReluDense.wi': 'w1', 'DenseReluDense.wi_0': 'w1', 'DenseReluDense.wi_1': 'w3', 'DenseReluDense.wo': 'w2'}
# Hugging Face activation names -> ours, and back
_HF_TO_OUR_ACT = {'relu': 'relu', 'gelu_new': 'gelu', 'gelu': 'gelu_exact', 'silu': 'silu'}
_OUR_TO_HF_ACT = {'relu': 'relu', 'gelu': 'gelu_new', 'gelu_new': 'gelu_new', 'gelu_exact': 'gelu', 'silu': 'silu'}
_HF_LAYER = re.compile(r'^(encoder|decoder)\.block\.(\d+)\.layer\.(\d)\.(.+)\.weight$')
# copies of the token table HF state dicts may carry
_TIED_COPIES = ('encoder.embed_tokens.weight', 'decoder.embed_tokens.weight')


def _hf_to_ours(name):
    """A Hugging Face tensor name -> our name, or None for names that are not T5 weights."""
    if name in _GLOBAL:
        return _GLOBAL[name]
    match = _HF_LAYER.match(name)
    if not match:
        return None
    stack, index, sublayer, rest = match.group(1), match.group(2), int(match.group(3)), match.group(4)
    if sublayer not in _SUBLAYERS[stack]:
        return None
    norm, attention = _SUBLAYERS[stack][sublayer]
    prefix = f'{stack}.layers.{index}.'
    if rest == 'layer_norm':
        return f'{prefix}{norm}.weight'
    if attention is not None:
        parts = rest.split('.')
        if len(parts) == 2 and parts[0] in ('SelfAttention', 'EncDecAttention') and parts[1] in _ATTENTION:
            return f'{prefix}{attention}.{_ATTENTION[parts[1]]}.weight'
        return None
    if rest in _MLP:
        return f'{prefix}feed_forward.{_MLP[rest]}.weight'
    return None


def _hf_names(config):
    """Every Hugging Face tensor name of a model of this config (the token table once)."""
    names = [name for name in _GLOBAL if name != 'lm_head.weight' or not config.tie_word_embeddings]
    for stack, count in (('encoder', config.num_layers), ('decoder', config.num_decoder_layers)):
        for i in range(count):
            for sublayer, (_, attention) in _SUBLAYERS[stack].items():
                base = f'{stack}.block.{i}.layer.{sublayer}.'
                names.append(base + 'layer_norm.weight')
                if attention is None:
                    inputs = ('wi_0', 'wi_1') if config.is_gated_act else ('wi',)
                    names += [f'{base}DenseReluDense.{name}.weight' for name in inputs + ('wo',)]
                else:
                    kind = 'EncDecAttention' if attention == 'cross_attention' else 'SelfAttention'
                    names += [f'{base}{kind}.{proj}.weight' for proj in _ATTENTION]
    return names


def _first(value, default):
    """config.json ids may be null, or a list (eos): the first id, or `default`."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return default if value is None else int(value)


def hf_config_to_kwargs(hf_config):
    """A transformers T5Config dict (config.json) -> T5Config keyword arguments."""
    required = ('d_model', 'd_kv', 'd_ff', 'num_layers', 'num_heads', 'vocab_size')
    missing = [key for key in required if key not in hf_config]
    if missing:
        raise ConfigError(f"config.json lacks {missing}; a T5 config.json needs {list(required)}")
    projection = hf_config.get('feed_forward_proj', 'relu')
    gated = projection.startswith('gated-')
    # transformers reads 'gated-gelu' as the tanh GELU (gelu_new)
    act = 'gelu_new' if projection == 'gated-gelu' else projection.split('-')[-1]
    if act not in _HF_TO_OUR_ACT or projection.count('-') > int(gated):
        raise ConfigError(f"config.json feed_forward_proj '{projection}' is not supported; supported: "
                          f"{sorted(_HF_TO_OUR_ACT)} and their 'gated-' forms")
    pad = _first(hf_config.get('pad_token_id'), 0)
    return dict(vocab_size=hf_config['vocab_size'], hidden_size=hf_config['d_model'], d_kv=hf_config['d_kv'],
                d_ff=hf_config['d_ff'], num_layers=hf_config['num_layers'],
                num_decoder_layers=hf_config.get('num_decoder_layers') or hf_config['num_layers'],
                num_heads=hf_config['num_heads'],
                relative_attention_num_buckets=hf_config.get('relative_attention_num_buckets', 32),
                relative_attention_max_distance=hf_config.get('relative_attention_max_distance', 128),
                hidden_dropout_rate=hf_config.get('dropout_rate', 0.1),
                attention_dropout_rate=hf_config.get('dropout_rate', 0.1),
                embedding_dropout_prob=hf_config.get('dropout_rate', 0.1),
                layer_norm_epsilon=hf_config.get('layer_norm_epsilon', 1e-6),
                initializer_factor=hf_config.get('initializer_factor', 1.0),
                pad_token_id=pad, eos_token_id=_first(hf_config.get('eos_token_id'), 1),
                start_token_id=_first(hf_config.get('decoder_start_token_id'), pad),
                tie_word_embeddings=hf_config.get('tie_word_embeddings', True), hidden_act=_HF_TO_OUR_ACT[act],
                is_gated_act=gated,
                seq_length=512, max_decode_length=512, max_position_embeddings=512, batch_size=1,
                compute_dtype='float32', param_init_type='float32')


def to_hf_config(config):
    """Our T5Config -> a transformers config.json dict."""
    if config.hidden_act not in _OUR_TO_HF_ACT:
        raise ConfigError(f"hidden_act '{config.hidden_act}' has no Hugging Face T5 equivalent; supported: "
                          f"{sorted(_OUR_TO_HF_ACT)}")
    act = _OUR_TO_HF_ACT[config.hidden_act]
    projection = ('gated-gelu' if act == 'gelu_new' else f'gated-{act}') if config.is_gated_act else act
    return {'architectures': ['T5ForConditionalGeneration'], 'model_type': 't5', 'vocab_size': config.vocab_size,
            'd_model': config.hidden_size, 'd_kv': config.d_kv, 'd_ff': config.d_ff, 'num_layers': config.num_layers,
            'num_decoder_layers': config.num_decoder_layers, 'num_heads': config.num_heads,
            'relative_attention_num_buckets': config.relative_attention_num_buckets,
            'relative_attention_max_distance': config.relative_attention_max_distance,
            'dropout_rate': config.hidden_dropout_rate, 'layer_norm_epsilon': config.layer_norm_epsilon,
            'initializer_factor': config.initializer_factor, 'feed_forward_proj': projection,
            'is_encoder_decoder': True,
            'use_cache': True, 'pad_token_id': config.pad_token_id, 'eos_token_id': config.eos_token_id,
            'decoder_start_token_id': config.start_token_id, 'tie_word_embeddings': bool(config.tie_word_embeddings)}


def expected_shapes(config):
    """{our name: shape} of every T5ForConditionalGeneration weight the config needs."""
    hidden, inner, ffn = config.hidden_size, config.num_heads * config.d_kv, config.d_ff
    shapes = {'shared.embedding_weight': (config.vocab_size, hidden)}
    for stack, count in (('encoder', config.num_layers), ('decoder', config.num_decoder_layers)):
        shapes[f'{stack}.relative_attention_bias.weight'] = (config.relative_attention_num_buckets, config.num_heads)
        shapes[f'{stack}.final_norm.weight'] = (hidden,)
        for i in range(count):
            prefix = f'{stack}.layers.{i}.'
            attentions = ('attention', 'cross_attention') if stack == 'decoder' else ('attention',)
            norms = ('attention_norm', 'ffn_norm') + (('cross_attention_norm',) if stack == 'decoder' else ())
            for norm in norms:
                shapes[f'{prefix}{norm}.weight'] = (hidden,)
            for attention in attentions:
                for proj in ('wq', 'wk', 'wv'):
                    shapes[f'{prefix}{attention}.{proj}.weight'] = (inner, hidden)
                shapes[f'{prefix}{attention}.wo.weight'] = (hidden, inner)
            shapes[f'{prefix}feed_forward.w1.weight'] = (ffn, hidden)
            if config.is_gated_act:
                shapes[f'{prefix}feed_forward.w3.weight'] = (ffn, hidden)
            shapes[f'{prefix}feed_forward.w2.weight'] = (hidden, ffn)
    if not config.tie_word_embeddings:
        shapes['lm_head.weight'] = (config.vocab_size, hidden)
    return shapes


def convert_hf_state_dict(hf_state, config, source='state dict'):
    """HF-named arrays -> our names, each checked against the shape the config needs."""
    shapes = expected_shapes(config)
    ours = {}
    for hf_name, array in hf_state.items():
        if hf_name in _TIED_COPIES or (hf_name == 'lm_head.weight' and config.tie_word_embeddings):
            continue
        our_name = _hf_to_ours(hf_name)
        if our_name is None:
            raise CheckpointError(f"{source}: tensor '{hf_name}' is not a T5 weight this converter knows")
        place_converted(ours, {our_name: np.asarray(array, np.float32)}, shapes, source, hf_name,
                        config.num_layers)
    return check_all_converted(ours, shapes, source)


def convert_to_hf_state_dict(our_state, config):
    """Our arrays -> HF names (the token table also as both stacks' embed_tokens, as transformers saves it)."""
    inverse = {_hf_to_ours(hf_name): hf_name for hf_name in _hf_names(config)}
    hf_state = {}
    for our_name, array in our_state.items():
        if our_name not in inverse:
            raise CheckpointError(f"parameter '{our_name}' has no Hugging Face T5 name")
        hf_state[inverse[our_name]] = array
    for copy_name in _TIED_COPIES:
        hf_state[copy_name] = our_state['shared.embedding_weight']
    return hf_state


# ---- checkpoints written by upstream MindFormers -------------------------------------------------------------
_UPSTREAM_GLOBAL = {'t5_model.tfm_embedding_lookup.embedding_table': 'shared.embedding_weight',
                    't5_model.encoder_layernorm.gamma': 'encoder.final_norm.weight',
                    't5_model.decoder_layernorm.gamma': 'decoder.final_norm.weight',
                    't5_model.tfm_encoder.blocks.0.attention.bias_generator.embeddings_table':
                        'encoder.relative_attention_bias.weight',
                    't5_model.tfm_decoder.blocks.0.attention.bias_generator.embeddings_table':
                        'decoder.relative_attention_bias.weight'}
_UPSTREAM_BLOCK = re.compile(r'^t5_model\.tfm_(encoder|decoder)\.blocks\.(\d+)\.(.+)$')
# the decoder's cross-attention: upstream names its projections as the self-attention's, under `cross_attention.`
_UPSTREAM_CROSS = {'cross_attention_layernorm.gamma': ('cross_attention_norm.weight', False)}
_UPSTREAM_CROSS.update({'cross_' + key: ('cross_' + value, transposed)
                        for key, (value, transposed) in LAYERNORM_BLOCK.items() if key.startswith('attention.')})


def upstream_name_to_ours(name):
    """An upstream MindFormers T5 name -> (our name, stored transposed upstream), DROP, or None."""
    if name in _UPSTREAM_GLOBAL:
        return _UPSTREAM_GLOBAL[name], False
    match = _UPSTREAM_BLOCK.match(name)
    if not match:
        return None
    stack, index, suffix = match.groups()
    if suffix == 'cross_attention.cross_attention_bias':   # upstream's zero-initialised extra bias: not T5
        return DROP
    mapped = LAYERNORM_BLOCK.get(suffix) or _UPSTREAM_CROSS.get(suffix)
    if mapped is None:
        return None
    return f'{stack}.layers.{index}.{mapped[0]}', mapped[1]
