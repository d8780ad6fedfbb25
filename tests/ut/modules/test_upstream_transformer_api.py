"""Upstream's mindformers.modules transformer API against a NumPy re-computation of upstream's formulas from the
layers' own weights: MultiHeadAttention, FeedForward, the encoder/decoder layers (pre- and post-norm), the stacks,
incremental decoding with use_past against full recomputation, the masks, the sparse attentions, the parallel
configs, and one-line errors for bad arguments. Upstream docstring examples run with their printed shapes."""
import numpy as np
import pytest
import mindspore as ms
from mindspore import Tensor, nn

from mindformers.modules import (AttentionMask, AttentionMaskHF, Dropout, EmbeddingOpParallelConfig, FeedForward,
                                 FixedSparseAttention, LayerNorm, Linear, LocalBlockSparseAttention,
                                 LowerTriangularMaskWithDynamic, MoEConfig, MultiHeadAttention, OpParallelConfig,
                                 Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                                 TransformerEncoderLayer, TransformerOpParallelConfig, TransformerRecomputeConfig,
                                 VocabEmbedding)
from mindformers.tools.errors import ConfigError

TOL = dict(rtol=2e-5, atol=2e-5)     # float32 MindSpore vs float64 NumPy: measured max difference ~3e-6


@pytest.fixture(autouse=True)
def _pynative():
    """PYNATIVE unless a test picks a mode (a cell's training flag is read when GRAPH_MODE compiles it)."""
    previous = ms.get_context('mode')
    ms.set_context(mode=ms.PYNATIVE_MODE)
    yield
    ms.set_context(mode=previous)


def _np(param):
    return param.asnumpy().astype(np.float64)


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def _layer_norm(x, norm, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * _np(norm.gamma) + _np(norm.beta)


def _softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def _mha(cell, query, key, value, mask):
    """upstream: softmax(q k^T / sqrt(d) + (1 - mask) * -10000) v, then projection (an (in, out) weight)."""
    heads, d = cell.n_head, cell.size_per_head

    def split(x, w):
        y = x @ _np(w.weight).T + _np(w.bias)
        return y.reshape(x.shape[0], x.shape[1], heads, d).transpose(0, 2, 1, 3)
    q, k, v = split(query, cell.dense1), split(key, cell.dense2), split(value, cell.dense3)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    if mask is not None:
        scores = scores + (1 - mask[:, None]) * -10000.0
    context = (_softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(query.shape[0], query.shape[1], -1)
    return context @ _np(cell.projection.weight) + _np(cell.projection.bias), k.transpose(0, 1, 3, 2), v


def _ffn(cell, x):
    return _gelu(x @ _np(cell.mapping.weight) + _np(cell.mapping.bias)) @ _np(cell.projection.weight) + \
        _np(cell.projection.bias)


def _encoder_layer(cell, x, mask, post):
    if post:
        x1 = x + _mha(cell.attention, x, x, x, mask)[0]
        h = _layer_norm(x1, cell.layernorm2)
        return _layer_norm(h + _ffn(cell.output, h), cell.layernorm1)
    a = _layer_norm(x, cell.layernorm1)
    x1 = x + _mha(cell.attention, a, a, a, mask)[0]
    return x1 + _ffn(cell.output, _layer_norm(x1, cell.layernorm2))


def _decoder_layer(cell, h, mask, memory, memory_mask, post=False):
    x = _layer_norm(h, cell.layernorm1)
    x1 = (x if post else h) + _mha(cell.attention, x, x, x, mask)[0]
    m = _layer_norm(x1, cell.cross_attention_layernorm)
    x1 = (m if post else x1) + _mha(cell.cross_attention, m, memory, memory, memory_mask)[0]
    o = _layer_norm(x1, cell.layernorm2)
    return (o if post else x1) + _ffn(cell.output, o)


def _randomise(cell, seed):
    """Random weights everywhere (LayerNorm gamma/beta too), so every parameter shows in the output."""
    rng = np.random.default_rng(seed)
    for param in cell.get_parameters():
        if param.requires_grad:
            base = 1.0 if param.name.endswith('gamma') else 0.0
            param.set_data(Tensor(base + rng.normal(0, 0.3, param.shape).astype(np.float32)))


def _t(array, dtype=ms.float32):
    return Tensor(np.asarray(array), dtype)


def _causal(batch, seq, lengths=None):
    lengths = lengths or [seq] * batch
    keep = np.array([[1.0] * n + [0.0] * (seq - n) for n in lengths])
    return keep[:, :, None] * keep[:, None, :] * np.tril(np.ones((seq, seq)))


@pytest.mark.parametrize('mode', ['pynative', 'graph'])
def test_multi_head_attention_is_upstreams_formula_with_pre_transposed_keys(mode):
    ms.set_context(mode=ms.GRAPH_MODE if mode == 'graph' else ms.PYNATIVE_MODE)     # the fixture restores it
    cell = MultiHeadAttention(batch_size=None, hidden_size=12, src_seq_length=5, tgt_seq_length=7, num_heads=3,
                              hidden_dropout_rate=0.0, attention_dropout_rate=0.0)
    _randomise(cell, 0)
    rng = np.random.default_rng(1)
    query, memory = rng.normal(size=(2, 5, 12)), rng.normal(size=(2, 7, 12))
    mask = (rng.random((2, 5, 7)) > 0.3).astype(np.float64)
    out, (key, value) = cell(_t(query), _t(memory), _t(memory), _t(mask))
    ms.set_context(mode=ms.PYNATIVE_MODE)
    expected, k_t, v = _mha(cell, query, memory, memory, mask)
    assert out.shape == (2, 5, 12) and key.shape == (2, 3, 4, 7) and value.shape == (2, 3, 7, 4)
    np.testing.assert_allclose(out.asnumpy(), expected, **TOL)
    np.testing.assert_allclose(key.asnumpy(), k_t, **TOL)
    np.testing.assert_allclose(value.asnumpy(), v, **TOL)
    # a flattened (batch * seq, hidden) query gives the same rows
    flat, _ = cell(_t(query.reshape(10, 12)), _t(memory.reshape(14, 12)), _t(memory.reshape(14, 12)), _t(mask))
    np.testing.assert_allclose(flat.asnumpy(), expected.reshape(10, 12), **TOL)


@pytest.mark.parametrize('post', [False, True])
def test_encoder_layer_pre_and_post_norm_match_upstreams_order(post):
    cell = TransformerEncoderLayer(batch_size=2, hidden_size=8, ffn_hidden_size=16, seq_length=6, num_heads=2,
                                   attention_dropout_rate=0.0, hidden_dropout_rate=0.0, post_layernorm_residual=post)
    _randomise(cell, 2)
    x = np.random.default_rng(3).normal(size=(2, 6, 8))
    mask = _causal(2, 6, [6, 4])
    out, present = cell(_t(x), _t(mask, ms.float16))
    expected = _encoder_layer(cell, x, mask, post)
    np.testing.assert_allclose(out.asnumpy()[0], expected[0], **TOL)
    np.testing.assert_allclose(out.asnumpy()[1, :4], expected[1, :4], **TOL)
    # padding queries see no key: softmax over scores - 10000 keeps only ~1e-3 of float32 precision (as upstream)
    np.testing.assert_allclose(out.asnumpy()[1, 4:], expected[1, 4:], rtol=0, atol=5e-3)
    assert present[0].shape == (2, 2, 4, 6) and present[1].shape == (2, 2, 6, 4)
    names = {p.name for p in cell.get_parameters()}
    assert {'layernorm1.gamma', 'layernorm2.beta', 'attention.dense1.weight', 'attention.projection.bias',
            'output.mapping.weight', 'output.projection.weight'} <= names
    assert cell.output.mapping.weight.shape == (8, 16)          # upstream's (in, out) layout


def test_decoder_layer_and_the_stacks_compose_the_layers():
    rng = np.random.default_rng(5)
    h, memory = rng.normal(size=(2, 5, 8)), rng.normal(size=(2, 7, 8))
    mask, memory_mask = _causal(2, 5), (rng.random((2, 5, 7)) > 0.2).astype(np.float64)
    memory_mask[:, :, 0] = 1                                     # every query sees at least one encoder position
    for post in (False, True):
        cell = TransformerDecoderLayer(batch_size=2, hidden_size=8, ffn_hidden_size=16, num_heads=2,
                                       src_seq_length=7, tgt_seq_length=5, attention_dropout_rate=0.0,
                                       hidden_dropout_rate=0.0, post_layernorm_residual=post)
        _randomise(cell, 4)
        out, present = cell(_t(h), _t(mask), _t(memory), _t(memory_mask))
        np.testing.assert_allclose(out.asnumpy(), _decoder_layer(cell, h, mask, memory, memory_mask, post), **TOL)
        assert [p.shape for p in present] == [(2, 2, 4, 5), (2, 2, 5, 4), (2, 2, 4, 7), (2, 2, 7, 4)]

    model = Transformer(batch_size=2, encoder_layers=2, decoder_layers=1, hidden_size=8, ffn_hidden_size=16,
                        num_heads=2, src_seq_length=7, tgt_seq_length=5, attention_dropout_rate=0.0,
                        hidden_dropout_rate=0.0)
    _randomise(model, 6)
    encoder_mask = _causal(2, 7)
    out, encoder_present, decoder_present = model(_t(memory), _t(encoder_mask), _t(h), _t(mask), _t(memory_mask))
    encoded = memory
    for block in model.encoder.blocks:
        encoded = _encoder_layer(block, encoded, encoder_mask, False)
    expected = _decoder_layer(model.decoder.blocks[0], h, mask, encoded, memory_mask)
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-4, atol=1e-4)
    assert len(encoder_present) == 2 and len(decoder_present) == 1
    assert isinstance(model.encoder, TransformerEncoder) and isinstance(model.decoder, TransformerDecoder)
    assert model.decoder.blocks[0].pipeline_stage == 0


def test_encoder_use_past_steps_give_the_rows_of_full_recomputation():
    """Prefill 3 and 5 valid tokens of 8, then decode one token per row at a time: each step's output equals the
    output row of the whole sequence computed at once under the causal mask."""
    seq, lengths = 8, [3, 5]
    full = TransformerEncoder(batch_size=2, num_layers=2, hidden_size=8, ffn_hidden_size=16, seq_length=seq,
                              num_heads=2, attention_dropout_rate=0.0, hidden_dropout_rate=0.0)
    cached = TransformerEncoder(batch_size=2, num_layers=2, hidden_size=8, ffn_hidden_size=16, seq_length=seq,
                                num_heads=2, attention_dropout_rate=0.0, hidden_dropout_rate=0.0, use_past=True)
    _randomise(full, 7)
    for name, param in cached.parameters_and_names():
        if 'past' not in name:
            param.set_data(full.parameters_dict()[param.name].data)
    x = np.random.default_rng(8).normal(size=(2, seq, 8))
    reference, _ = full(_t(x), _t(_causal(2, seq)))
    reference = reference.asnumpy()

    prompt = x * (np.arange(seq)[None, :, None] < np.array(lengths)[:, None, None])
    cached.add_flags_recursive(is_first_iteration=True)
    out, present = cached(_t(prompt), _t(_causal(2, seq, lengths)), _t([True], ms.bool_), _t(lengths, ms.int32))
    for row, n in enumerate(lengths):
        np.testing.assert_allclose(out.asnumpy()[row, :n], reference[row, :n], **TOL)
    assert present[0][0].shape == (2, 2, 4, seq)
    state = cached.blocks[0].key_past
    np.testing.assert_array_equal(state.asnumpy(), present[0][0].asnumpy())     # the layer keeps the keys
    cached.add_flags_recursive(is_first_iteration=False)
    for step in range(3):
        positions = [n + step for n in lengths]
        token = np.stack([x[row, p] for row, p in enumerate(positions)])[:, None]
        out, _ = cached(_t(token), _t(np.ones((2, 1, seq))), _t([True], ms.bool_),
                        _t([p + 1 for p in positions], ms.int32))
        for row, p in enumerate(positions):
            np.testing.assert_allclose(out.asnumpy()[row, 0], reference[row, p], **TOL)
    # init_reset False clears the kept keys first: only the new token's position is left
    cached(_t(x[:, :1]), _t(np.ones((2, 1, seq))), _t([False], ms.bool_), _t([2, 2], ms.int32))
    kept = np.abs(state.asnumpy()).sum((1, 2))
    assert (kept[:, 1] > 0).all() and (kept[:, [0, 2, 3, 4, 5, 6, 7]] == 0).all()


def test_upstream_docstring_examples_print_their_shapes():
    layer = TransformerEncoderLayer(batch_size=2, hidden_size=8, ffn_hidden_size=64, seq_length=16, num_heads=2,
                                    use_past=True)
    out, past = layer(_t(np.ones((2, 16, 8))), _t(np.ones((2, 16, 16)), ms.float16), _t([True], ms.bool_),
                      _t(np.ones(2), ms.int32))
    assert (out.shape, past[0].shape, past[1].shape) == ((2, 16, 8), (2, 2, 4, 16), (2, 2, 16, 4))
    layer.add_flags_recursive(is_first_iteration=False)
    out, past = layer(_t(np.ones((2, 1, 8))), _t(np.ones((2, 1, 16)), ms.float16), _t([False], ms.bool_),
                      _t(np.ones(2), ms.int32))
    assert (out.shape, past[0].shape, past[1].shape) == ((2, 1, 8), (2, 2, 4, 16), (2, 2, 16, 4))
    decoder = TransformerDecoder(batch_size=2, num_layers=1, hidden_size=64, ffn_hidden_size=64, num_heads=2,
                                 src_seq_length=20, tgt_seq_length=10)
    out, past = decoder(_t(np.ones((2, 10, 64))), _t(np.ones((2, 10, 10)), ms.float16), _t(np.ones((2, 20, 64))),
                        _t(np.ones((2, 10, 20)), ms.float16))
    assert out.shape == (2, 10, 64) and [p.shape for p in past[0]] == [(2, 2, 32, 10), (2, 2, 10, 32),
                                                                       (2, 2, 32, 20), (2, 2, 20, 32)]
    output, table = VocabEmbedding(vocab_size=30, embedding_size=30)(_t(np.ones((20, 15)), ms.int32))
    assert output.shape == (20, 15, 30) and table.shape == (30, 30)
    np.testing.assert_array_equal(output.asnumpy()[3, 4], table.asnumpy()[1])


def test_masks_follow_upstreams_conventions():
    padded = _t([[1, 1, 1, 0]])
    np.testing.assert_array_equal(AttentionMask(seq_length=4)(padded).asnumpy()[0],
                                  [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(AttentionMaskHF(seq_length=4)(padded).asnumpy()[0], np.tril(np.ones((4, 4))))
    lower = LowerTriangularMaskWithDynamic(seq_length=4, pad_token_id=0)
    mask = lower(tokens=_t([[5, 6, 0, 0]], ms.int32))
    np.testing.assert_array_equal(mask.asnumpy()[0], [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]])
    additive = lower.post_process(mask).asnumpy()
    assert additive.shape == (1, 1, 4, 4) and additive[0, 0, 0, 1] == -10000.0 and additive[0, 0, 1, 0] == 0
    steps = lower.increment(_t(np.arange(4).reshape(1, 1, 4), ms.int32), _t([1, 2], ms.int32)).asnumpy()
    np.testing.assert_array_equal(steps[:, 0], [[True, True, False, False], [True, True, True, False]])


def test_local_block_sparse_attention_is_dense_attention_restricted_to_its_windows():
    seq, d, local, block = 16, 4, 8, 4
    cell = LocalBlockSparseAttention(seq_len=seq, size_per_head=d, local_size=local, block_size=block,
                                     dropout_rate=0.0, softmax_compute_type=ms.float32)
    rng = np.random.default_rng(9)
    q, k, v = (rng.normal(size=(2, 3, seq, d)) for _ in range(3))
    masked = 1 - np.tril(np.ones((seq, seq)))[None].repeat(2, 0)         # 1 = masked here
    out = cell(_t(q), _t(k), _t(v), _t(masked)).asnumpy()
    window = np.zeros((seq, seq))
    for g in range(seq // block):
        start = max(0, g - (local // block - 1)) * block
        window[g * block:(g + 1) * block, start:start + local] = 1
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + masked[:, None] * -10000.0
    scores = np.where(window > 0, scores, -np.inf)
    np.testing.assert_allclose(out, _softmax(scores) @ v, **TOL)


def test_fixed_sparse_attention_is_local_causal_blocks_plus_earlier_summaries():
    cell = FixedSparseAttention(batch_size=1, num_heads=2, size_per_head=64, block_size=64)
    rng = np.random.default_rng(10)
    q, k, v = (rng.normal(size=(1, 1024, 128)) * 0.5 for _ in range(3))
    keep = np.ones(1024)
    keep[1000:] = 0
    out = cell(_t(q), _t(k), _t(v), _t(keep[None, :] * np.ones((1, 1024, 1)))).asnumpy()
    pos = np.arange(1024)
    for head in range(2):
        local = (pos[:, None] // 64 == pos[None] // 64) & (pos[None] <= pos[:, None])
        summary = (pos % 64 >= head * 16) & (pos % 64 < head * 16 + 16)
        structure = local | (summary[None] & (pos[None] // 64 < pos[:, None] // 64))
        qh, kh, vh = (t[0, :, head * 64:(head + 1) * 64] for t in (q, k, v))
        scores = qh @ kh.T / 64 + local * (1 - keep[:, None] * keep[None]) * -10000.0
        expected = _softmax(np.where(structure, scores, -np.inf)) @ vh
        np.testing.assert_allclose(out[0, :, head * 64:(head + 1) * 64], expected, **TOL)


def test_linear_layernorm_dropout_and_feed_forward_have_upstreams_signatures():
    dense = Linear(4, 3, 'ones', 'zeros', True, 'relu', transpose_b=False)
    assert dense.weight.shape == (4, 3)
    x = np.array([[1.0, -2.0, 0.5, 0.0]])
    np.testing.assert_allclose(dense(_t(x)).asnumpy(), np.maximum(x @ np.ones((4, 3)), 0))
    assert dense(_t(x, ms.float16)).dtype == ms.float16              # returned in the input's dtype

    class Shift(nn.Cell):
        def construct(self, x):
            return x + 0.1
    np.testing.assert_allclose(Linear(4, 3, 'ones', activation=Shift)(_t(x)).asnumpy(), x.sum() + 0.1, rtol=1e-6)

    norm = LayerNorm((4,))
    norm.gamma.set_data(_t([1.0, 2.0, 3.0, 4.0]))
    norm.beta.set_data(_t([0.5, 0.0, 0.0, -0.5]))
    np.testing.assert_allclose(norm(_t(x)).asnumpy(), _layer_norm(x, norm), **TOL)

    drop = Dropout(keep_prob=0.8)
    ones = _t(np.ones((200, 200)))
    np.testing.assert_array_equal(drop(ones).asnumpy(), 1.0)           # eval: identity
    drop.set_train(True)
    kept = drop(ones).asnumpy()
    assert set(np.unique(kept)) <= {0.0, 1.25} and abs((kept > 0).mean() - 0.8) < 0.01

    ffn = FeedForward(hidden_size=6, ffn_hidden_size=10, dropout_rate=0.0)
    _randomise(ffn, 11)
    h = np.random.default_rng(12).normal(size=(2, 3, 6))
    np.testing.assert_allclose(ffn(_t(h)).asnumpy(), _ffn(ffn, h), **TOL)


def test_parallel_configs_take_upstreams_positional_arguments_and_views():
    recompute = TransformerRecomputeConfig(True, False, True, True, True)
    config = TransformerOpParallelConfig(2, 4, 1, 1, 1, recompute)
    assert config.recompute.recompute and config.recompute.recompute_slice_activation
    assert config.dp_mp_config == OpParallelConfig(data_parallel=2, model_parallel=4)
    assert config.embedding_dp_mp_config == EmbeddingOpParallelConfig(2, 4, vocab_emb_dp=True)
    assert config.moe_parallel_config.dpmp == OpParallelConfig(2, 4)
    assert MoEConfig(4, 5.0, 0.05, 1, 64, True).to_diff_dict() == {'expert_num': 4, 'capacity_factor': 5.0,
                                                                      'expert_group_size': 64,
                                                                      'group_wise_a2a': True}
    with pytest.raises(ConfigError, match=r"OpParallelConfig.model_parallel must be a positive integer, got 0"):
        OpParallelConfig(1, 0)
    with pytest.raises(ConfigError, match=r"MoEConfig.capacity_factor must be at least 1.0, got 0.5"):
        MoEConfig(capacity_factor=0.5)


@pytest.mark.parametrize('build, message', [
    (lambda: MultiHeadAttention(batch_size=2, src_seq_length=4, tgt_seq_length=4, hidden_size=10, num_heads=3),
     r"^MultiHeadAttention: hidden_size 10 must be a multiple of num_heads 3$"),
    (lambda: TransformerEncoderLayer(batch_size=2, hidden_size=8, ffn_hidden_size=16, seq_length=4, num_heads=2,
                                     parallel_config=OpParallelConfig(1, 4)),
     r"^TransformerEncoderLayer: num_heads 2 must be divisible by parallel_config.model_parallel 4$"),
    (lambda: FeedForward(8, 16, 0.0, hidden_act='gelu_fast'), r"^unknown activation 'gelu_fast'; known: .*relu6.*"),
    (lambda: TransformerEncoderLayer(batch_size=2, hidden_size=8, ffn_hidden_size=16, seq_length=4, num_heads=2,
                                     moe_config=MoEConfig(expert_num=4)),
     r"^TransformerEncoderLayer: mixture of experts \(moe_config.expert_num 4 > 1\) is not implemented"),
    (lambda: TransformerEncoder(batch_size=2, num_layers=1, hidden_size=8, ffn_hidden_size=16, seq_length=4,
                                num_heads=2, parallel_config=OpParallelConfig()),
     r"^TransformerEncoder: parallel_config must be a TransformerOpParallelConfig, got OpParallelConfig$"),
    (lambda: TransformerDecoderLayer(hidden_size=8, ffn_hidden_size=16, num_heads=2, batch_size=2, src_seq_length=4,
                                     tgt_seq_length=4, use_past=True),
     r"^TransformerDecoderLayer: use_past=True is not supported"),
    (lambda: Dropout(1), r"^Dropout: keep_prob must be a float in \(0, 1\], got 1$"),
])
def test_bad_arguments_are_one_line(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


def test_an_input_of_the_wrong_length_is_one_line():
    layer = TransformerEncoderLayer(batch_size=2, hidden_size=8, ffn_hidden_size=16, seq_length=4, num_heads=2)
    with pytest.raises(ValueError, match=r"^TransformerEncoderLayer: the input has 5 positions, expected 4$"):
        layer(_t(np.ones((2, 5, 8))), _t(np.ones((2, 5, 5))))
    with pytest.raises(TypeError, match=r"^VocabEmbedding: input_ids must be int32"):
        VocabEmbedding(10, 4)(_t([[1, 2]], ms.int64))
