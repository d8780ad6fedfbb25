"""BERT weights between the Hugging Face layout (config.json + safetensors) and ours (BertConfig + .ckpt).

Both sides store Linear weights as (out, in), so the mapping is a renaming: HF `bert.encoder.layer.N.attention.self.query`
is our `bert.layers.N.attention.wq`, and so on. The encoder must be complete; the pooler and the task heads
(MLM transform and bias, NSP, classifier, QA outputs) are taken when the checkpoint has them. The MLM decoder
weight is the (tied) word embedding table in both.
"""
import re

import numpy as np

from mindformers.models.hf_conversion import check_all_converted, layernorm_block_shapes, place_converted
from mindformers.tools.errors import CheckpointError, ConfigError

CONFIG_CLASS = 'BertConfig'
MODEL_CLASS = 'BertModel'
# our parameters a Hugging Face checkpoint may lack: a task model's head starts fresh (with a warning)
HEAD_PREFIXES = ('bert.pooler.', 'mlm_head.', 'nsp_head.', 'classifier.', 'qa_outputs.')

_HF_TO_OUR_ACT = {'gelu': 'gelu_exact', 'gelu_new': 'gelu', 'gelu_pytorch_tanh': 'gelu', 'relu': 'relu',
                  'silu': 'silu', 'swish': 'silu'}
_OUR_TO_HF_ACT = {'gelu_exact': 'gelu', 'gelu_erf': 'gelu', 'gelu': 'gelu_new', 'gelu_tanh': 'gelu_new',
                  'gelu_new': 'gelu_new', 'relu': 'relu', 'silu': 'silu', 'swish': 'silu'}
_GLOBAL = {'embeddings.word_embeddings.weight': 'bert.tok_embeddings.embedding_weight',
           'embeddings.position_embeddings.weight': 'bert.position_embeddings.embedding_weight',
           'embeddings.token_type_embeddings.weight': 'bert.token_type_embeddings.embedding_weight',
           'embeddings.LayerNorm.weight': 'bert.embedding_norm.weight',
           'embeddings.LayerNorm.bias': 'bert.embedding_norm.bias',
           'pooler.dense.weight': 'bert.pooler.weight', 'pooler.dense.bias': 'bert.pooler.bias'}
_HEADS = {'cls.predictions.transform.dense.weight': 'mlm_head.dense.weight',
          'cls.predictions.transform.dense.bias': 'mlm_head.dense.bias',
          'cls.predictions.transform.LayerNorm.weight': 'mlm_head.norm.weight',
          'cls.predictions.transform.LayerNorm.bias': 'mlm_head.norm.bias',
          'cls.predictions.bias': 'mlm_head.bias',
          'cls.seq_relationship.weight': 'nsp_head.weight', 'cls.seq_relationship.bias': 'nsp_head.bias',
          'classifier.weight': 'classifier.weight', 'classifier.bias': 'classifier.bias',
          'qa_outputs.weight': 'qa_outputs.weight', 'qa_outputs.bias': 'qa_outputs.bias'}
_LAYER = {'attention.self.query': 'attention.wq', 'attention.self.key': 'attention.wk',
          'attention.self.value': 'attention.wv', 'attention.output.dense': 'attention.wo',
          'attention.output.LayerNorm': 'attention_norm', 'intermediate.dense': 'feed_forward.w1',
          'output.dense': 'feed_forward.w2', 'output.LayerNorm': 'ffn_norm'}
_HF_LAYER = re.compile(r'^encoder\.layer\.(\d+)\.(.+)\.(weight|bias|gamma|beta)$')
# buffers, and the MLM decoder (its weight is the word embedding table, its bias cls.predictions.bias)
_IGNORED = re.compile(r'^(embeddings\.position_ids|cls\.predictions\.decoder\.(weight|bias))$')
_LEGACY_NORM = {'gamma': 'weight', 'beta': 'bias'}


def hf_config_to_kwargs(hf_config):
    """A transformers BertConfig dict (config.json) -> BertConfig keyword arguments."""
    required = ('hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'vocab_size')
    missing = [key for key in required if key not in hf_config]
    if missing:
        raise ConfigError(f"config.json lacks {missing}; a BERT config.json needs {list(required)}")
    position_type = hf_config.get('position_embedding_type', 'absolute')
    if position_type != 'absolute':
        raise ConfigError(f"config.json position_embedding_type '{position_type}' is not supported (only "
                          f"'absolute' learned positions)")
    act = hf_config.get('hidden_act', 'gelu')
    if act not in _HF_TO_OUR_ACT:
        raise ConfigError(f"config.json hidden_act '{act}' is not supported; supported: {sorted(_HF_TO_OUR_ACT)}")
    max_positions = hf_config.get('max_position_embeddings', 512)
    labels = hf_config.get('id2label') or {}
    return dict(hidden_size=hf_config['hidden_size'], num_hidden_layers=hf_config['num_hidden_layers'],
                num_attention_heads=hf_config['num_attention_heads'],
                intermediate_size=hf_config['intermediate_size'], vocab_size=hf_config['vocab_size'],
                hidden_act=_HF_TO_OUR_ACT[act], max_position_embeddings=max_positions,
                seq_length=min(max_positions, 512), type_vocab_size=hf_config.get('type_vocab_size', 2),
                layer_norm_eps=hf_config.get('layer_norm_eps', 1e-12),
                hidden_dropout_prob=hf_config.get('hidden_dropout_prob', 0.1),
                attention_probs_dropout_prob=hf_config.get('attention_probs_dropout_prob', 0.1),
                dropout_prob=hf_config.get('classifier_dropout') or hf_config.get('hidden_dropout_prob', 0.1),
                initializer_range=hf_config.get('initializer_range', 0.02),
                pad_token_id=hf_config.get('pad_token_id', 0) or 0, num_labels=len(labels) or 2,
                batch_size=1, dtype='float32', compute_dtype='float32', layernorm_dtype='float32',
                softmax_dtype='float32')


def to_hf_config(config):
    """Our BertConfig -> a transformers config.json dict."""
    if config.hidden_act not in _OUR_TO_HF_ACT:
        raise ConfigError(f"hidden_act '{config.hidden_act}' has no Hugging Face BERT equivalent")
    return {'architectures': ['BertModel'], 'model_type': 'bert', 'hidden_size': config.hidden_size,
            'num_hidden_layers': config.num_hidden_layers, 'num_attention_heads': config.num_attention_heads,
            'intermediate_size': config.intermediate_size, 'vocab_size': config.vocab_size,
            'hidden_act': _OUR_TO_HF_ACT[config.hidden_act], 'max_position_embeddings': config.max_position_embeddings,
            'type_vocab_size': config.type_vocab_size, 'layer_norm_eps': config.layer_norm_eps,
            'hidden_dropout_prob': config.hidden_dropout_prob,
            'attention_probs_dropout_prob': config.attention_probs_dropout_prob,
            'initializer_range': config.initializer_range, 'pad_token_id': config.pad_token_id,
            'position_embedding_type': 'absolute', 'torch_dtype': 'float32'}


def expected_shapes(config):
    """Our parameter name -> shape of the encoder every BERT checkpoint must hold (no pooler, no heads)."""
    hidden, inner = config.hidden_size, config.intermediate_size
    shapes = {'bert.tok_embeddings.embedding_weight': (config.vocab_size, hidden),
              'bert.position_embeddings.embedding_weight': (config.max_position_embeddings, hidden),
              'bert.token_type_embeddings.embedding_weight': (config.type_vocab_size, hidden),
              'bert.embedding_norm.weight': (hidden,), 'bert.embedding_norm.bias': (hidden,)}
    shapes.update(layernorm_block_shapes(config.num_hidden_layers, hidden, inner, 'bert.layers'))
    return shapes


def head_shapes(config):
    """Our parameter name -> shape of the pooler and every task head (each optional in a checkpoint)."""
    hidden = config.hidden_size
    return {'bert.pooler.weight': (hidden, hidden), 'bert.pooler.bias': (hidden,),
            'mlm_head.dense.weight': (hidden, hidden), 'mlm_head.dense.bias': (hidden,),
            'mlm_head.norm.weight': (hidden,), 'mlm_head.norm.bias': (hidden,), 'mlm_head.bias': (config.vocab_size,),
            'nsp_head.weight': (2, hidden), 'nsp_head.bias': (2,),
            'classifier.weight': (config.num_labels, hidden), 'classifier.bias': (config.num_labels,),
            'qa_outputs.weight': (2, hidden), 'qa_outputs.bias': (2,)}


def _our_name(name):
    """A Hugging Face name (without the `bert.` prefix) -> ours, or None when it is not a BERT weight."""
    if name in _GLOBAL:
        return _GLOBAL[name]
    legacy = re.sub(r'LayerNorm\.(gamma|beta)$', lambda m: 'LayerNorm.' + _LEGACY_NORM[m.group(1)], name)
    if legacy != name:
        return _our_name(legacy)
    match = _HF_LAYER.match(name)
    if match and match.group(2) in _LAYER:
        kind = _LEGACY_NORM.get(match.group(3), match.group(3))
        return f'bert.layers.{match.group(1)}.{_LAYER[match.group(2)]}.{kind}'
    return None


def convert_hf_state_dict(hf_state, config, source='state dict'):
    """HF tensors {name: array} (any BERT architecture, with or without `bert.`) -> our {name: np.ndarray}."""
    shapes = dict(expected_shapes(config), **head_shapes(config))
    ours = {}
    for hf_name, value in hf_state.items():
        name = hf_name[len('bert.'):] if hf_name.startswith('bert.') else hf_name
        if _IGNORED.match(name):
            continue
        our_name = _HEADS.get(name) or _our_name(name)
        if our_name is None:
            raise CheckpointError(f"{source}: tensor '{hf_name}' is not a BERT weight name")
        place_converted(ours, {our_name: np.asarray(value)}, shapes, source, hf_name, config.num_hidden_layers)
    if 'mlm_head.bias' not in ours and 'cls.predictions.decoder.bias' in hf_state:
        place_converted(ours, {'mlm_head.bias': np.asarray(hf_state['cls.predictions.decoder.bias'])}, shapes,
                        source, 'cls.predictions.decoder.bias', config.num_hidden_layers)
    check_all_converted(ours, expected_shapes(config), source)
    return ours


def convert_to_hf_state_dict(our_state, config):
    """Our {name: array} -> HF {name: np.ndarray} with the `bert.` prefix on the encoder (heads as HF names them)."""
    reverse = {ours: hf for hf, ours in _GLOBAL.items()}
    reverse.update({ours: hf for hf, ours in _HEADS.items()})
    for i in range(config.num_hidden_layers):
        for hf_part, our_part in _LAYER.items():
            for kind in ('weight', 'bias'):
                reverse[f'bert.layers.{i}.{our_part}.{kind}'] = f'encoder.layer.{i}.{hf_part}.{kind}'
    hf_state = {}
    for name, value in our_state.items():
        if name in reverse:
            in_encoder = name.startswith('bert.')          # the pooler too; task heads sit beside the encoder
            hf_state[('bert.' if in_encoder else '') + reverse[name]] = np.asarray(value)
    return {k: np.ascontiguousarray(v) for k, v in hf_state.items()}
