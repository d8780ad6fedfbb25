"""parallel_config reaches every layer: upstream shard strategies, pipeline stages, recompute."""
import numpy as np
import pytest
import mindspore as ms

from mindformers import LlamaConfig, LlamaForCausalLM
from mindformers.core.parallel_config import TransformerOpParallelConfig
from mindformers.tools.errors import ConfigError

SIZES = dict(seq_length=8, hidden_size=32, num_layers=4, num_heads=8, n_kv_heads=4, vocab_size=64, multiple_of=16,
             compute_dtype='float32', param_init_type='float32')


def _model(**parallel):
    config = LlamaConfig(**SIZES)
    config.parallel_config = TransformerOpParallelConfig(**parallel)
    return LlamaForCausalLM(config)


def test_layers_declare_upstream_strategies_stages_and_recompute():
    model = _model(data_parallel=2, model_parallel=4, pipeline_stage=2, micro_batch_num=2, vocab_emb_dp=False,
                   recompute={'recompute': True})
    layer = model.model.layers[0]
    assert layer.attention.wq.matmul.in_strategy == ((2, 1), (4, 1))
    assert layer.attention.wk.matmul.in_strategy == ((2, 1), (4, 1))
    assert layer.attention.wo.matmul.in_strategy == ((2, 4), (1, 4))
    assert layer.attention.batch_matmul_t.in_strategy == ((2, 4, 1, 1), (2, 4, 1, 1))
    assert layer.feed_forward.w1.matmul.in_strategy == ((2, 1), (4, 1))
    assert layer.feed_forward.w2.matmul.in_strategy == ((2, 4), (1, 4))
    assert layer.attention_norm.square.in_strategy == ((2, 1, 1),)
    assert model.model.tok_embeddings.gather.in_strategy == ((4, 1), (2, 1))
    assert model.lm_head.matmul.in_strategy == ((2, 1), (4, 1))
    assert [l.pipeline_stage for l in model.model.layers] == [0, 0, 1, 1]
    assert model.model.norm_out.pipeline_stage == 1 and model.lm_head.pipeline_stage == 1
    assert all(l._has_config_recompute for l in model.model.layers)  # pylint: disable=protected-access


def test_vocab_emb_dp_keeps_embedding_and_head_replicated():
    model = _model(data_parallel=2, model_parallel=2)
    assert model.model.tok_embeddings.gather.in_strategy == ((1, 1), (2, 1))
    assert model.lm_head.matmul.in_strategy == ((2, 1), (1, 1))
    assert not any(getattr(l, '_has_config_recompute', False) for l in model.model.layers)


def test_heads_not_divisible_by_model_parallel_is_an_error():
    with pytest.raises(ConfigError, match='divisible by parallel_config.model_parallel 3'):
        _model(model_parallel=3)


def test_strategies_do_not_change_the_numbers_on_one_device():
    ms.set_context(mode=ms.GRAPH_MODE, device_target='CPU')
    plain = LlamaForCausalLM(LlamaConfig(**SIZES))
    sharded = _model(data_parallel=2, model_parallel=4)
    ms.load_param_into_net(sharded, {p.name: p for p in plain.get_parameters()})
    ids = ms.Tensor(np.random.default_rng(0).integers(1, 64, size=(2, 9)), ms.int32)
    plain.set_train(True)
    sharded.set_train(True)
    np.testing.assert_allclose(sharded(ids).asnumpy(), plain(ids).asnumpy(), rtol=1e-6)
