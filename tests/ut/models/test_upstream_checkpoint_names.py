"""Checkpoints named as upstream MindFormers r1.0 writes them load into our GPT-2 and BLOOM: every tensor lands on
the right parameter (transposed where upstream stores (in, out)), through `checkpoint_name_or_path` and through
the trainer's `load_checkpoint`. The upstream names are written out literally here, from upstream's model code
and convert_weight.py, not derived from our converter."""
import mindspore as ms
import numpy as np
import pytest

from mindformers import BloomConfig, BloomLMHeadModel, GPT2Config, GPT2LMHeadModel
from mindformers.tools.errors import CheckpointError
from mindformers.tools.register import MindFormerConfig
from mindformers.trainer.base_trainer import BaseTrainer

SIZES = dict(seq_length=8, vocab_size=40, hidden_size=16, num_layers=2, num_heads=2, compute_dtype='float32')


def block_names(prefix, i):
    """upstream block tensor -> (our name, stored transposed upstream)"""
    ours = f'model.layers.{i}.'
    names = {
        f'{prefix}{i}.layernorm1.gamma': (ours + 'attention_norm.weight', False),
        f'{prefix}{i}.layernorm1.beta': (ours + 'attention_norm.bias', False),
        f'{prefix}{i}.layernorm2.gamma': (ours + 'ffn_norm.weight', False),
        f'{prefix}{i}.layernorm2.beta': (ours + 'ffn_norm.bias', False),
        f'{prefix}{i}.attention.projection.weight': (ours + 'attention.wo.weight', True),
        f'{prefix}{i}.attention.projection.bias': (ours + 'attention.wo.bias', False),
        f'{prefix}{i}.output.mapping.weight': (ours + 'feed_forward.w1.weight', True),
        f'{prefix}{i}.output.mapping.bias': (ours + 'feed_forward.w1.bias', False),
        f'{prefix}{i}.output.projection.weight': (ours + 'feed_forward.w2.weight', True),
        f'{prefix}{i}.output.projection.bias': (ours + 'feed_forward.w2.bias', False),
    }
    for dense, proj in (('dense1', 'wq'), ('dense2', 'wk'), ('dense3', 'wv')):
        names[f'{prefix}{i}.attention.{dense}.weight'] = (f'{ours}attention.{proj}.weight', False)
        names[f'{prefix}{i}.attention.{dense}.bias'] = (f'{ours}attention.{proj}.bias', False)
    return names


GPT2_UPSTREAM = {
    'backbone.embedding.word_embedding.embedding_table': ('model.tok_embeddings.embedding_weight', False),
    'backbone.embedding.position_embedding.embedding_table': ('model.position_embeddings.embedding_weight', False),
    'backbone.layernorm.gamma': ('model.norm_out.weight', False),
    'backbone.layernorm.beta': ('model.norm_out.bias', False),
    **block_names('backbone.blocks.', 0), **block_names('backbone.blocks.', 1),
}
BLOOM_UPSTREAM = {
    'embedding.word_embedding.embedding_table': ('model.tok_embeddings.embedding_weight', False),
    'embedding.norm.gamma': ('model.embedding_norm.weight', False),
    'embedding.norm.beta': ('model.embedding_norm.bias', False),
    'ln_f.gamma': ('model.norm_out.weight', False),
    'ln_f.beta': ('model.norm_out.bias', False),
    **block_names('blocks.', 0), **block_names('blocks.', 1),
}
FAMILIES = {'gpt2': (GPT2Config, GPT2LMHeadModel, GPT2_UPSTREAM), 'bloom': (BloomConfig, BloomLMHeadModel, BLOOM_UPSTREAM)}
TOKENS = np.random.default_rng(0).integers(1, 40, size=(2, 8)).astype(np.int32)


def weights(model):
    return {p.name: p.asnumpy().copy() for p in model.get_parameters()}


def write_upstream_checkpoint(path, source_weights, table, extra=None):
    """Save `source_weights` (ours) under the upstream names, in upstream's layout, plus any `extra` entries."""
    entries = []
    rng = np.random.default_rng(1)
    for upstream_name, (our_name, transposed) in table.items():
        value = source_weights[our_name]
        entries.append({'name': upstream_name, 'data': ms.Tensor(value.T.copy() if transposed else value)})
        # AdamW moments named after the upstream parameter, as upstream's optimizer names them
        moment = rng.standard_normal(value.shape).astype(np.float32)
        entries.append({'name': 'adam_m.' + upstream_name, 'data': ms.Tensor(moment.T.copy() if transposed else moment)})
    for name, value in (extra or {}).items():
        entries.append({'name': name, 'data': ms.Tensor(value)})
    ms.save_checkpoint(entries, str(path))
    return str(path)


def logits(model):
    model.set_train(False)
    return model(ms.Tensor(TOKENS))[0].asnumpy()


@pytest.mark.usefixtures('pynative')
@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_upstream_named_checkpoint_loads_every_tensor_into_its_parameter(tmp_path, family):
    config_class, model_class, table = FAMILIES[family]
    ms.set_seed(0)
    source = model_class(config_class(**SIZES))
    expected = weights(source)
    assert {our for our, _ in table.values()} == set(expected)   # the table covers the whole model
    # upstream's GPT-2 converter also writes the causal-mask buffers, which have no parameter here
    extra = {'backbone.blocks.0.attention.beta': np.ones((8, 8), np.float32)} if family == 'gpt2' else None
    path = write_upstream_checkpoint(tmp_path / 'upstream.ckpt', expected, table, extra)

    ms.set_seed(123)  # a differently initialised model: every value must come from the file
    loaded = model_class(config_class(checkpoint_name_or_path=path, **SIZES))
    got = weights(loaded)
    for name, value in expected.items():
        np.testing.assert_array_equal(got[name], value, err_msg=name)
    np.testing.assert_array_equal(logits(loaded), logits(source))


@pytest.mark.usefixtures('pynative')
def test_trainer_load_checkpoint_takes_upstream_names_and_a_wrong_shape_is_named(tmp_path):
    ms.set_seed(0)
    source = GPT2LMHeadModel(GPT2Config(**SIZES))
    expected = weights(source)
    path = write_upstream_checkpoint(tmp_path / 'upstream.ckpt', expected, GPT2_UPSTREAM)
    ms.set_seed(5)
    network = GPT2LMHeadModel(GPT2Config(**SIZES))
    config = MindFormerConfig({'load_checkpoint': path, 'resume_training': False, 'device_num': 1})
    BaseTrainer.load_weights(config, network)
    for name, value in weights(network).items():
        np.testing.assert_array_equal(value, expected[name], err_msg=name)

    bad = dict(expected)
    bad['model.layers.1.feed_forward.w1.weight'] = expected['model.layers.1.feed_forward.w1.weight'][:, :8]
    bad_path = write_upstream_checkpoint(tmp_path / 'bad.ckpt', bad, GPT2_UPSTREAM)
    with pytest.raises(CheckpointError, match=r"parameter 'model\.layers\.1\.feed_forward\.w1\.weight' has shape"):
        GPT2LMHeadModel(GPT2Config(checkpoint_name_or_path=bad_path, **SIZES))
