"""T5 on tiny random configs against transformers (PyTorch CPU): logits, loss and gradients through the Hugging Face
weight conversion, the relative position buckets, greedy and beam generation (recomputed and with the KV cache),
upstream MindFormers checkpoint names, and config errors."""
import numpy as np
import pytest

import mindspore as ms
from mindspore import Tensor

from mindformers import T5Config, T5ForConditionalGeneration
from mindformers.models.hf_conversion import load_hf_state_dict
from mindformers.models.t5 import convert_weight
from mindformers.modules.position_bias import relative_position_buckets
from mindformers.tools.errors import ConfigError, CheckpointError

torch = pytest.importorskip('torch', reason='T5 parity needs torch==2.13.0 (pip install -e .[test])')
transformers = pytest.importorskip('transformers', reason='T5 parity needs transformers (pip install -e .[test])')

pytestmark = pytest.mark.usefixtures("pynative")
VOCAB, SRC, TGT = 60, 16, 12
HF_CONFIG = dict(vocab_size=VOCAB, d_model=32, d_kv=12, d_ff=64, num_layers=2, num_decoder_layers=3, num_heads=4,
                 relative_attention_num_buckets=8, relative_attention_max_distance=20, dropout_rate=0.0,
                 decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
# measured: logits within 1.5e-6, loss within 3e-6 (float32, AMD EPYC AVX2); 10x margin
TOL = 2e-5


def hf_model(seed=0, lively=False, **overrides):
    """A random transformers T5; `lively` scales its weights up so that greedy decoding does not repeat one token
    (sharper attention: logits then agree only within ~1e-4, so the logit comparisons use the plain weights)."""
    torch.manual_seed(seed)
    model = transformers.T5ForConditionalGeneration(transformers.T5Config(**dict(HF_CONFIG, **overrides))).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'layer_norm' in name:
                param.add_(torch.randn_like(param) * 0.2)
            elif 'relative_attention_bias' in name:
                param.normal_(0, 1.0)
            elif lively and name != 'shared.weight':
                param.normal_(0, 9.0 / param.shape[1] ** 0.5)
    return model


def ours_from(hf, **overrides):
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    overrides = dict(dict(seq_length=SRC, max_decode_length=TGT), **overrides)
    model = load_hf_state_dict(T5ForConditionalGeneration, hf.config.to_dict(), state, source='tiny', **overrides)
    model.set_train(False)
    return model


def batch(seed=1):
    rng = np.random.default_rng(seed)
    src = rng.integers(2, VOCAB, (2, SRC)).astype(np.int32)
    mask = np.ones_like(src)
    src[1, 10:], mask[1, 10:] = 0, 0
    labels = rng.integers(2, VOCAB, (2, TGT)).astype(np.int32)
    labels[0, 9] = 1
    labels[0, 10:] = 0          # pad labels (upstream's TranslationDataset pads with the pad id)
    labels[1, 11:] = -100       # Hugging Face's ignore id
    return src, mask, labels


def hf_forward(hf, src, mask, labels):
    hf_labels = np.where(labels == 0, -100, labels)   # transformers ignores -100 only
    with torch.no_grad():
        return hf(input_ids=torch.tensor(src).long(), attention_mask=torch.tensor(mask).long(),
                  labels=torch.tensor(hf_labels).long())


def test_logits_and_loss_match_transformers_t5_within_2e5():
    hf = hf_model()
    ours = ours_from(hf)
    src, mask, labels = batch()
    expected = hf_forward(hf, src, mask, labels)
    logits = ours(Tensor(src), Tensor(mask), Tensor(np.where(labels == -100, 0, labels))).asnumpy()
    assert logits.shape == (2, TGT, VOCAB)
    assert np.abs(logits - expected.logits.numpy()).max() <= TOL
    loss = float(ours(Tensor(src), Tensor(mask), Tensor(labels), return_loss=True).asnumpy())
    assert loss == pytest.approx(float(expected.loss), rel=1e-5)
    ours.set_train(True)       # training returns the loss
    assert float(ours(Tensor(src), Tensor(mask), Tensor(labels)).asnumpy()) == pytest.approx(loss, rel=1e-6)


def test_untied_head_with_its_own_lm_head_matches_transformers():
    hf = hf_model(seed=2, tie_word_embeddings=False)
    ours = ours_from(hf)
    assert 'lm_head.weight' in {p.name for p in ours.get_parameters()}
    src, mask, labels = batch(2)
    expected = hf_forward(hf, src, mask, labels)
    logits = ours(Tensor(src), Tensor(mask), Tensor(np.where(labels == -100, 0, labels))).asnumpy()
    assert np.abs(logits - expected.logits.numpy()).max() <= TOL


def test_one_step_gradients_match_transformers():
    hf = hf_model(seed=3)
    ours = ours_from(hf)
    src, mask, labels = batch(3)
    hf_labels = np.where(labels == 0, -100, labels)
    hf.zero_grad()
    hf(input_ids=torch.tensor(src).long(), attention_mask=torch.tensor(mask).long(),
       labels=torch.tensor(hf_labels).long()).loss.backward()
    ours.set_train(True)
    params = ours.trainable_params()
    grads = ms.grad(lambda *a: ours(*a), grad_position=None, weights=params)(Tensor(src), Tensor(mask),
                                                                             Tensor(labels))
    ours_grads = {p.name: g.asnumpy() for p, g in zip(params, grads)}
    hf_grads = {name: p.grad.numpy() for name, p in hf.named_parameters()}
    for hf_name, our_name in (
            ('shared.weight', 'shared.embedding_weight'),
            ('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight',
             'encoder.relative_attention_bias.weight'),
            ('decoder.block.1.layer.1.EncDecAttention.k.weight', 'decoder.layers.1.cross_attention.wk.weight'),
            ('encoder.block.1.layer.1.DenseReluDense.wo.weight', 'encoder.layers.1.feed_forward.w2.weight')):
        scale = np.abs(hf_grads[hf_name]).max()
        assert scale > 0
        assert np.abs(ours_grads[our_name] - hf_grads[hf_name]).max() <= 1e-4 * max(scale, 1.0), our_name


@pytest.mark.parametrize('bidirectional', [True, False])
def test_relative_position_buckets_equal_transformers(bidirectional):
    from transformers.models.t5.modeling_t5 import T5Attention  # pylint: disable=import-outside-toplevel
    query, key = torch.arange(300)[:, None], torch.arange(300)[None, :]
    for buckets, distance in ((32, 128), (8, 20), (6, 7)):
        bucket = T5Attention._relative_position_bucket  # pylint: disable=protected-access
        expected = bucket(key - query, bidirectional=bidirectional, num_buckets=buckets, max_distance=distance)
        ours = relative_position_buckets(300, 300, bidirectional, buckets, distance)
        assert np.array_equal(ours, expected.numpy())


def test_greedy_ids_equal_transformers_recomputed_and_with_the_kv_cache():
    hf = hf_model(seed=4, lively=True)
    ours = ours_from(hf)
    rng = np.random.default_rng(5)
    prompts = [rng.integers(2, VOCAB, length).tolist() for length in (16, 5, 9)]
    with torch.no_grad():
        expected = [hf.generate(torch.tensor([p]).long(), max_length=TGT, do_sample=False, num_beams=1,
                                use_cache=False)[0].tolist() for p in prompts]
    assert max(len(set(e)) for e in expected) > 6, "a model repeating one token would not test the positions"
    recomputed = [out.tolist() for out in ours.generate(prompts, max_length=TGT, use_past=False, eos_token_id=1)]
    cached = [out.tolist() for out in ours.generate(prompts, max_length=TGT, eos_token_id=1)]
    assert recomputed == expected
    assert cached == expected
    assert list(ours.__dict__['_generation_twins']) == [(3, 12)]   # a cache of the request's rows x a bucket
    one = ours.generate(prompts[1], max_new_tokens=4, eos_token_id=1)[0].tolist()
    assert one == expected[1][:5]


def test_a_model_built_with_use_past_generates_the_same_ids():
    hf = hf_model(seed=6, lively=True)
    plain = ours_from(hf)
    cached = ours_from(hf, use_past=True, batch_size=2)
    prompts = [[5, 6, 7, 8, 9, 10], [11, 12, 13]]
    expected = [out.tolist() for out in plain.generate(prompts, max_length=TGT, use_past=False)]
    assert [out.tolist() for out in cached.generate(prompts, max_length=TGT)] == expected
    # one prompt in a two-row cache: the idle row does not change the real one
    assert cached.generate(prompts[:1], max_length=TGT)[0].tolist() == expected[0]


def test_beam_search_equals_transformers():
    hf = hf_model(seed=7, lively=True)
    ours = ours_from(hf)
    prompts = [[3, 4, 5, 6, 7, 8, 9], [20, 21, 22]]
    with torch.no_grad():
        expected = [hf.generate(torch.tensor([p]).long(), max_length=TGT, num_beams=3, early_stopping=True,
                                use_cache=False)[0].tolist() for p in prompts]
    assert [out.tolist() for out in ours.generate(prompts, max_length=TGT, num_beams=3, eos_token_id=1)] == expected


def test_hf_state_dict_round_trips_through_our_names():
    hf = hf_model(seed=8)
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    config = T5Config(**convert_weight.hf_config_to_kwargs(hf.config.to_dict()))
    ours = convert_weight.convert_hf_state_dict(state, config)
    assert set(ours) == set(convert_weight.expected_shapes(config))
    back = convert_weight.convert_to_hf_state_dict(ours, config)
    assert set(back) == set(state) - {'lm_head.weight'}
    assert all(np.array_equal(back[name], state[name]) for name in back)
    state.pop('decoder.block.2.layer.1.EncDecAttention.v.weight')
    with pytest.raises(CheckpointError, match='missing'):
        convert_weight.convert_hf_state_dict(state, config)


def test_checkpoint_with_upstream_mindformers_names_loads(tmp_path):
    hf = hf_model(seed=9)
    ours = ours_from(hf)
    upstream = {}
    for param in ours.trainable_params():
        name, value = param.name, param.asnumpy()
        for stack in ('encoder', 'decoder'):
            name = name.replace(f'{stack}.layers.', f't5_model.tfm_{stack}.blocks.')
        name = (name.replace('cross_attention_norm.weight', 'cross_attention_layernorm.gamma')
                .replace('attention_norm.weight', 'layernorm1.gamma').replace('ffn_norm.weight', 'layernorm2.gamma')
                .replace('.wq.', '.dense1.').replace('.wk.', '.dense2.').replace('.wv.', '.dense3.')
                .replace('feed_forward.w1', 'output.mapping').replace('feed_forward.w2', 'output.projection'))
        if '.wo.' in name or 'output.' in name:
            name, value = name.replace('.wo.', '.projection.'), value.T   # upstream stores these (in, out)
        name = {'shared.embedding_weight': 't5_model.tfm_embedding_lookup.embedding_table',
                'encoder.final_norm.weight': 't5_model.encoder_layernorm.gamma',
                'decoder.final_norm.weight': 't5_model.decoder_layernorm.gamma',
                'encoder.relative_attention_bias.weight':
                    't5_model.tfm_encoder.blocks.0.attention.bias_generator.embeddings_table',
                'decoder.relative_attention_bias.weight':
                    't5_model.tfm_decoder.blocks.0.attention.bias_generator.embeddings_table'}.get(name, name)
        upstream[name] = value
    upstream['t5_model.tfm_decoder.blocks.0.cross_attention.cross_attention_bias'] = np.zeros((1, TGT, SRC), np.float32)
    path = str(tmp_path / 'upstream_t5.ckpt')
    ms.save_checkpoint([{'name': n, 'data': Tensor(v)} for n, v in upstream.items()], path)
    config = T5Config(**dict(convert_weight.hf_config_to_kwargs(hf.config.to_dict()), seq_length=SRC,
                             max_decode_length=TGT, checkpoint_name_or_path=path))
    loaded = T5ForConditionalGeneration(config)
    loaded.set_train(False)
    src, mask, labels = batch(4)
    labels = np.where(labels == -100, 0, labels)
    expected = ours(Tensor(src), Tensor(mask), Tensor(labels)).asnumpy()
    assert np.abs(loaded(Tensor(src), Tensor(mask), Tensor(labels)).asnumpy() - expected).max() <= 1e-6


def test_num_hidden_layers_of_the_upstream_tiny_yaml_sets_the_depth():
    config = T5Config(num_hidden_layers=1, hidden_size=32, d_kv=8, num_heads=4, d_ff=64, vocab_size=VOCAB)
    assert (config.num_layers, config.num_decoder_layers) == (1, 1)
    assert 'num_hidden_layers' not in config.to_dict()
    assert config.kv_size == 8 and config.decoder_start_token_id == 0


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_heads=0), 'num_heads must be an integer >= 1'),
    (dict(relative_attention_num_buckets=7), 'even number'),
    (dict(hidden_dropout_rate=1.5), 'hidden_dropout_rate must be a number in'),
    (dict(eos_token_id=200), 'eos_token_id must be a token id'),
    (dict(hidden_act='nope'), "unknown activation 'nope'"),
    (dict(num_layers=2, num_hidden_layers=3), 'disagree'),
    (dict(post_layernorm_residual=True), 'post_layernorm_residual'),
])
def test_config_errors_name_the_field(kwargs, message):
    base = dict(vocab_size=VOCAB, hidden_size=32, d_kv=8, num_heads=4, d_ff=64)
    with pytest.raises(ConfigError, match=message):
        T5Config(**dict(base, **kwargs))


def test_gated_gelu_t5_v1_1_matches_transformers_and_round_trips():
    """T5 v1.1 / Flan-T5: the gated-GELU MLP (wi_0, wi_1) and an untied head."""
    hf = hf_model(seed=11, feed_forward_proj='gated-gelu', tie_word_embeddings=False)
    ours = ours_from(hf)
    assert ours.config.is_gated_act and ours.config.hidden_act == 'gelu'
    src, mask, labels = batch(6)
    expected = hf_forward(hf, src, mask, labels)
    assert np.abs(ours(Tensor(src), Tensor(mask), Tensor(np.where(labels == -100, 0, labels))).asnumpy() -
                  expected.logits.numpy()).max() <= TOL
    assert float(ours(Tensor(src), Tensor(mask), Tensor(labels), return_loss=True).asnumpy()) == \
        pytest.approx(float(expected.loss), rel=1e-5)
    assert ours.config.num_parameters() == sum(p.size for p in ours.trainable_params())
    state = {name: value.detach().numpy() for name, value in hf.state_dict().items()}
    back = convert_weight.convert_to_hf_state_dict(convert_weight.convert_hf_state_dict(state, ours.config),
                                                   ours.config)
    assert set(back) == set(state) and all(np.array_equal(back[n], state[n]) for n in back)
    assert convert_weight.to_hf_config(ours.config)['feed_forward_proj'] == 'gated-gelu'


def test_unknown_feed_forward_proj_is_refused_with_one_line():
    with pytest.raises(ConfigError, match="feed_forward_proj 'gated-swish-x' is not supported"):
        convert_weight.hf_config_to_kwargs(dict(HF_CONFIG, d_model=32, feed_forward_proj='gated-swish-x'))


def test_parameter_count_from_the_config_equals_the_built_model_and_t5_small():
    for tie in (True, False):
        config = T5Config(vocab_size=VOCAB, hidden_size=32, d_kv=12, num_heads=4, d_ff=64, num_layers=2,
                          num_decoder_layers=3, seq_length=SRC, max_decode_length=TGT, tie_word_embeddings=tie)
        model = T5ForConditionalGeneration(config)
        assert config.num_parameters() == sum(p.size for p in model.trainable_params())
    assert T5Config().num_parameters() == 60506624   # t5-small, as published


def test_hf_directory_loads_through_automodel_and_converts_to_ckpt_and_back(tmp_path):
    from mindformers import AutoModel  # pylint: disable=import-outside-toplevel
    from mindformers.models.hf_conversion import convert_ckpt_to_hf, convert_hf_to_ckpt  # pylint: disable=C0415
    hf = hf_model(seed=10)
    hf.save_pretrained(tmp_path / 'hf', safe_serialization=True)
    model = AutoModel.from_pretrained(str(tmp_path / 'hf'))
    assert isinstance(model, T5ForConditionalGeneration)
    model.set_train(False)
    src, mask, labels = batch(5)
    labels = np.where(labels == -100, 0, labels)
    expected = hf_forward(hf, src, mask, labels).logits.numpy()
    assert np.abs(model(Tensor(src), Tensor(mask), Tensor(labels)).asnumpy() - expected).max() <= TOL
    ckpt, yaml_path = convert_hf_to_ckpt(convert_weight, str(tmp_path / 'hf'), str(tmp_path / 't5.ckpt'))
    assert yaml_path.endswith('t5.yaml')
    convert_ckpt_to_hf(convert_weight, ckpt, str(tmp_path / 'back'))
    back = transformers.T5ForConditionalGeneration.from_pretrained(tmp_path / 'back').eval()
    with torch.no_grad():
        again = back(input_ids=torch.tensor(src).long(), attention_mask=torch.tensor(mask).long(),
                     labels=torch.tensor(np.where(labels == 0, -100, labels)).long()).logits.numpy()
    assert np.array_equal(again, expected)
