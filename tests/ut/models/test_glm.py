"""GLM-6B against a NumPy reference written from the published ChatGLM-6B architecture (fused per-head
query_key_value, 2D rotary on the two halves of each head, prefix-LM mask, DeepNorm residuals, GELU MLP), plus the
KV cache, the training loss on KeyWordGenDataset rows, LoRA and the input checks."""
import math
import os

import numpy as np
import pytest
from mindspore import Tensor
import mindspore as ms

from mindformers import (AutoConfig, AutoModel, AutoTokenizer, GLMChatModel, GLMChatModelWithLora, GLMConfig,
                         GLMForPreTraining, GLMForPreTrainingWithLora, MindFormerBook)
from mindformers.tools.errors import ConfigError
from adgen_data import adgen_rows, train_chatglm_tokenizer
from tests.ut.models.decoder_checks import (assert_cached_generation_matches_full, masked_ce,
                                            randomize_norms_and_biases)

pytestmark = pytest.mark.usefixtures("pynative")

BOS, EOS, MASK, GMASK, PAD = 4, 5, 6, 7, 3
SEQ = 24


def tiny_config(**overrides):
    base = dict(vocab_size=60, hidden_size=32, num_layers=2, num_heads=4, inner_hidden_size=48, seq_length=SEQ,
                param_init_type='float32', compute_dtype='float32', bos_token_id=BOS, eos_token_id=EOS,
                mask_token_id=MASK, gmask_token_id=GMASK, pad_token_id=PAD, do_sample=False)
    base.update(overrides)
    return GLMConfig(**base)


def build(seed=0, cls=GLMForPreTraining, **overrides):
    ms.set_seed(seed)
    model = randomize_norms_and_biases(cls(tiny_config(**overrides)), seed)
    for param in model.get_parameters():   # peaked attention and logits of a few units, so errors show
        factor = {'wq': 4.0, 'wk': 4.0, 'lm_head': 30.0}.get(param.name.split('.')[-2])
        if factor and param.name.endswith('.weight'):
            param.set_data(Tensor(param.asnumpy() * factor))
    model.set_train(False)
    return model


@pytest.fixture(name="model", scope="module")
def fixture_model():
    return build()


# ---- the reference ---------------------------------------------------------------------------------------------
def glm_positions_and_mask(ids, bos=BOS, gmask=GMASK, mask=MASK):
    """ChatGLM-6B's get_position_ids / get_masks for one row: (2, seq) ids and a (seq, seq) bool 'hidden' mask."""
    seq = len(ids)
    ids = list(ids)
    context = ids.index(bos)
    mask_position = ids.index(gmask if gmask in ids else mask)
    position = np.arange(seq)
    position[context:] = mask_position
    block = np.concatenate([np.zeros(context, np.int64), np.arange(1, seq - context + 1)])
    allowed = np.tril(np.ones((seq, seq)))
    allowed[:, :context] = 1
    return np.stack([position, block]), allowed < 0.5


def _layer_norm(x, weight, bias, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x):
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * x * (1.0 + 0.044715 * x * x)))


def _rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], -1)


def _rope_tables(dim, positions):
    inv_freq = 1.0 / (10000 ** (np.arange(0, dim, 2) / dim))
    freqs = np.outer(positions, inv_freq)
    emb = np.concatenate([freqs, freqs], -1)
    return np.cos(emb), np.sin(emb)


def reference_logits(params, cfg, ids):
    """One row of ids -> (seq, vocab) logits, computed as ChatGLM-6B's PyTorch code does."""
    num_layers, heads = cfg.num_layers, cfg.num_heads
    hd = cfg.hidden_size // heads
    position_ids, hidden = glm_positions_and_mask(ids)
    seq = len(ids)
    alpha = math.sqrt(2 * num_layers)
    x = params['model.tok_embeddings.embedding_weight'][np.asarray(ids)]
    cos_p, sin_p = _rope_tables(hd // 2, position_ids[0])
    cos_b, sin_b = _rope_tables(hd // 2, position_ids[1])
    for layer in range(num_layers):
        p = {k[len(f'model.layers.{layer}.'):]: v for k, v in params.items() if k.startswith(f'model.layers.{layer}.')}
        attention_input = _layer_norm(x, p['attention_norm.weight'], p['attention_norm.bias'])
        # the released layout: one query_key_value Linear whose output is [q_h, k_h, v_h] per head
        weights = [p[f'attention.{n}.weight'].reshape(heads, hd, -1) for n in ('wq', 'wk', 'wv')]
        biases = [p[f'attention.{n}.bias'].reshape(heads, hd) for n in ('wq', 'wk', 'wv')]
        qkv_weight = np.concatenate(weights, 1).reshape(3 * cfg.hidden_size, -1)
        qkv_bias = np.concatenate(biases, 1).reshape(-1)
        mixed = (attention_input @ qkv_weight.T + qkv_bias).reshape(seq, heads, 3 * hd)
        query, key, value = mixed[..., :hd], mixed[..., hd:2 * hd], mixed[..., 2 * hd:]
        rotated = []
        for t in (query, key):
            first, second = t[..., :hd // 2], t[..., hd // 2:]
            first = first * cos_p[:, None] + _rotate_half(first) * sin_p[:, None]
            second = second * cos_b[:, None] + _rotate_half(second) * sin_b[:, None]
            rotated.append(np.concatenate([first, second], -1))
        query, key = rotated
        coeff = layer + 1                                   # query_key_layer_scaling, undone before the softmax
        scores = np.einsum('qhd,khd->hqk', query / (math.sqrt(hd) * coeff), key)
        scores = np.where(hidden[None], -10000.0, scores) * coeff
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        context = np.einsum('hqk,khd->qhd', probs, value).reshape(seq, -1)
        attention_output = context @ p['attention.wo.weight'].T + p['attention.wo.bias']
        h = attention_input * alpha + attention_output
        mlp_input = _layer_norm(h, p['ffn_norm.weight'], p['ffn_norm.bias'])
        mlp_output = _gelu(mlp_input @ p['feed_forward.w1.weight'].T + p['feed_forward.w1.bias'])
        mlp_output = mlp_output @ p['feed_forward.w2.weight'].T + p['feed_forward.w2.bias']
        x = mlp_input * alpha + mlp_output
    x = _layer_norm(x, params['model.norm_out.weight'], params['model.norm_out.bias'])
    return x @ params['lm_head.weight'].T


def params_of(model):
    return {p.name: p.asnumpy().astype(np.float64) for p in model.get_parameters()}


def rows():
    """Three rows with different prompt lengths: prompt [gMASK] <sop> answer <eop> pad..."""
    rng = np.random.default_rng(1)
    out = []
    for prompt_len, answer_len in ((3, 6), (7, 4), (12, 9)):
        row = list(rng.integers(10, 60, prompt_len)) + [GMASK, BOS] + list(rng.integers(10, 60, answer_len)) + [EOS]
        out.append(row + [PAD] * (SEQ - len(row)))
    return np.array(out, np.int32)


def test_logits_match_the_chatglm_6b_reference(model):
    ids = rows()
    got = model(Tensor(ids))[0].asnumpy()
    params = params_of(model)
    want = np.stack([reference_logits(params, model.config, row) for row in ids])
    assert np.abs(want).max() > 1.0
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def test_the_prompt_is_seen_bidirectionally_and_the_answer_causally(model):
    ids = rows()[:1]
    base = model(Tensor(ids))[0].asnumpy()
    changed = ids.copy()
    changed[0, 1] = 11 if ids[0, 1] != 11 else 12      # a prompt token: every position sees it
    after = model(Tensor(changed))[0].asnumpy()
    assert np.abs(after - base)[0, 0].max() > 1e-3      # ... even the first one (bidirectional)
    changed = ids.copy()
    changed[0, 8] = 13 if ids[0, 8] != 13 else 14      # an answer token: only later positions see it
    after = model(Tensor(changed))[0].asnumpy()
    np.testing.assert_array_equal(after[0, :8], base[0, :8])
    assert np.abs(after - base)[0, 8:].max() > 1e-3


def test_training_loss_on_dataset_rows_with_and_without_their_masks(model):
    ids = rows()
    labels = np.full_like(ids, -100)
    positions, masks = [], []
    for i, row in enumerate(ids):
        context = list(row).index(BOS)
        end = list(row).index(EOS)
        labels[i, context:end] = row[context + 1:end + 1]      # KeyWordGenDataset version 1: shifted, -100 else
        position, hidden = glm_positions_and_mask(row)
        positions.append(position)
        masks.append(hidden[None].astype(np.float32))
    want = masked_ce(np.stack([reference_logits(params_of(model), model.config, row) for row in ids]),
                     labels, (labels != -100).astype(np.float64))
    model.set_train(True)
    try:
        plain = float(model(Tensor(ids), Tensor(labels)).asnumpy())
        full = float(model(Tensor(ids), Tensor(labels), Tensor(np.stack(positions).astype(np.int32)),
                           Tensor(np.stack(masks))).asnumpy())
    finally:
        model.set_train(False)
    assert abs(plain - want) < 1e-5 and abs(full - want) < 1e-5


@pytest.mark.parametrize("prompts", [[[21, 22, 23, GMASK, BOS]],
                                     [[21, 22, GMASK, BOS], [30, 31, 32, 33, 34, 35, GMASK, BOS],
                                      [40, MASK, 41, 42, BOS]]], ids=["batch1", "ragged3"])
def test_use_past_gives_the_per_step_logits_of_full_recompute(prompts):
    full = build(seed=3)
    cached = build(seed=3, use_past=True, batch_size=len(prompts))
    assert_cached_generation_matches_full(full, cached, prompts, max_length=16, min_steps=8)


def test_lora_with_upstream_target_adapts_query_key_value_only():
    model = build(cls=GLMForPreTrainingWithLora, pet_config={'pet_type': 'lora', 'lora_rank': 4, 'lora_alpha': 8,
                                                             'lora_dropout': 0.0})
    trainable = sorted({p.name.split('.')[-2] for p in model.trainable_params()})
    assert trainable == ['wk', 'wq', 'wv']
    assert all('mindpet_delta_lora' in p.name for p in model.trainable_params())


def test_prompts_without_gmask_and_sop_or_room_are_refused(model):
    with pytest.raises(ConfigError, match=r"no '\[gMASK\] <sop>'"):
        model.generate([[21, 22, 23]], max_length=10)
    with pytest.raises(ConfigError, match="no room for an answer"):
        model.generate([[21] * (SEQ - 2) + [GMASK, BOS]], max_length=SEQ)


def test_config_rules():
    with pytest.raises(ConfigError, match="not divisible by num_heads"):
        tiny_config(num_heads=5)
    with pytest.raises(ConfigError, match="hidden_size_per_attention_head"):
        tiny_config(hidden_size_per_attention_head=16)
    with pytest.raises(ConfigError, match="position_encoding_2d"):
        tiny_config(position_encoding_2d=False)
    assert tiny_config().num_parameters() == sum(p.size for p in build().get_parameters())


def test_upstream_names_resolve_to_the_glm_classes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = AutoConfig.from_pretrained('glm_6b')
    assert type(config).__name__ == 'GLMConfig' and (config.num_layers, config.seq_length) == (28, 512)
    books = MindFormerBook.get_trainer_support_task_list()['text_generation']
    for name, cls in (('glm_tiny', GLMForPreTraining), ('glm_tiny_chat', GLMChatModel),
                      ('glm_tiny_lora', GLMForPreTrainingWithLora), ('glm_tiny_lora_chat', GLMChatModelWithLora)):
        model = AutoModel.from_config(os.path.join(MindFormerBook.get_project_path(), books[name]))
        assert type(model) is cls, name    # pylint: disable=unidiomatic-typecheck
        assert model.config.use_past == name.endswith('chat'), name
    # the tokenizer of a name comes from checkpoint_download/glm/ice_text.model (downloaded when absent)
    folder = tmp_path / 'checkpoint_download' / 'glm'
    folder.mkdir(parents=True, exist_ok=True)
    train_chatglm_tokenizer(folder / 'ice_text.model', adgen_rows(50, 0))
    assert type(AutoTokenizer.from_pretrained('glm_6b')).__name__ == 'ChatGLMTokenizer'


def test_chat_generates_from_the_chatglm_6b_prompt_and_keeps_the_history(tmp_path):
    from mindformers import ChatGLMTokenizer  # pylint: disable=import-outside-toplevel
    from mindformers.models.glm.glm_processor import process_response  # pylint: disable=C0415
    tokenizer = ChatGLMTokenizer(train_chatglm_tokenizer(tmp_path / 'ice_text.model', adgen_rows(50, 0)))
    model = build(vocab_size=tokenizer.vocab_size, seq_length=80, bos_token_id=tokenizer.bos_token_id,
                  eos_token_id=tokenizer.eos_token_id, gmask_token_id=tokenizer.gmask_token_id,
                  mask_token_id=tokenizer.mask_token_id, pad_token_id=tokenizer.pad_token_id)
    response, history = model.chat(tokenizer, '类型#裙', do_sample=False, max_new_tokens=6)
    prompt = tokenizer.encode('类型#裙')
    want = model.generate([prompt], max_new_tokens=6, do_sample=False, eos_token_id=tokenizer.eos_token_id)[0]
    assert response == process_response(tokenizer.decode(want[len(prompt):].tolist()))
    assert history == [('类型#裙', response)]
    _, history = model.chat(tokenizer, '类型#裤', history=history, do_sample=False, max_new_tokens=2)
    assert [query for query, _ in history] == ['类型#裙', '类型#裤']
