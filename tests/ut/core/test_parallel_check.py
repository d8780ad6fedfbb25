"""check_parallel_config on CPU: a stand-alone run ignores model_parallel (a warning, as upstream's stand-alone mode
shards nothing); anything that needs semi-auto parallel on CPU, or that cannot divide, is one ConfigError line."""
import logging

import pytest

from mindformers.core.context.parallel_check import check_parallel_config
from mindformers.tools.errors import ConfigError


def _config(use_parallel, **parallel_config):
    return {'use_parallel': use_parallel, 'parallel': {'parallel_mode': 0}, 'parallel_config': parallel_config,
            'model': {'model_config': {'num_layers': 4, 'num_heads': 8}}}


def test_stand_alone_model_parallel_is_an_annotation_with_a_warning(caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger('mindformers'), 'propagate', True)
    with caplog.at_level(logging.WARNING, logger='mindformers'):
        check_parallel_config(_config(False, model_parallel=8), 1, 'CPU')
    assert 'model_parallel=8 has no effect in a stand-alone run' in caplog.text


@pytest.mark.parametrize('use_parallel, parallel_config, message', [
    (True, {'model_parallel': 8}, 'model_parallel=8, pipeline_stage=1 need semi_auto_parallel'),
    (False, {'pipeline_stage': 2, 'micro_batch_num': 2}, 'pipeline_stage=2 need semi_auto_parallel'),
    (False, {'model_parallel': 3}, r'num_heads \(8\) is not divisible by parallel_config.model_parallel \(3\)'),
])
def test_what_cpu_cannot_run_is_one_config_error(use_parallel, parallel_config, message):
    with pytest.raises(ConfigError, match=message):
        check_parallel_config(_config(use_parallel, **parallel_config), 1, 'CPU')


def test_semi_auto_parallel_on_cpu_runs_as_data_parallel_averaging_gradients_and_dropping_its_own_keys():
    from mindformers.core.context.build_context import _check_parallel_mode  # pylint: disable=import-outside-toplevel
    parallel = {'gradients_mean': False, 'full_batch': True, 'enable_parallel_optimizer': False,
                'strategy_ckpt_save_file': './ckpt_strategy.ckpt'}
    mode, note = _check_parallel_mode('semi_auto_parallel', 'CPU', parallel)
    # semi-auto's loss is the global batch's mean: the ranks' gradients must be averaged, not summed
    assert (mode, parallel) == ('data_parallel', {'gradients_mean': True})
    assert note.endswith('ignored: enable_parallel_optimizer, full_batch, strategy_ckpt_save_file')
    ascend = {'full_batch': True}
    assert _check_parallel_mode('semi_auto_parallel', 'Ascend', ascend) == ('semi_auto_parallel', None)
    assert ascend == {'full_batch': True}
    with pytest.raises(ConfigError, match='auto_parallel cannot run on CPU'):
        _check_parallel_mode('auto_parallel', 'CPU', {})


def test_only_save_strategy_may_name_a_layout_cpu_cannot_train():
    config = dict(_config(False, model_parallel=2, pipeline_stage=2, micro_batch_num=2), only_save_strategy=True)
    check_parallel_config(config, 1, 'CPU')           # writes strategy files, trains nothing
    config['only_save_strategy'] = False
    with pytest.raises(ConfigError, match='pipeline_stage=2 need semi_auto_parallel'):
        check_parallel_config(config, 1, 'CPU')


def test_mf_runtime_num_threads_sets_the_kernel_threads_over_the_yaml(monkeypatch):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers.core.context.build_context import init_context, _STATE  # pylint: disable=C0415
    before, mode, built = ms.get_context('runtime_num_threads'), ms.get_context('mode'), dict(_STATE)
    try:
        monkeypatch.setenv('MF_RUNTIME_NUM_THREADS', '3')
        init_context(context_config={'mode': 0, 'device_target': 'CPU', 'runtime_num_threads': 2})
        assert ms.get_context('runtime_num_threads') == 3
        monkeypatch.delenv('MF_RUNTIME_NUM_THREADS')
        init_context(context_config={'mode': 0, 'device_target': 'CPU', 'runtime_num_threads': 2})
        assert ms.get_context('runtime_num_threads') == 2
        for bad in ('0', 'two', '-1'):
            monkeypatch.setenv('MF_RUNTIME_NUM_THREADS', bad)
            with pytest.raises(ConfigError, match=f"MF_RUNTIME_NUM_THREADS must be a positive integer, got '{bad}'"):
                init_context(context_config={'mode': 0, 'device_target': 'CPU'})
    finally:
        ms.set_context(runtime_num_threads=before, mode=mode)
        _STATE.update(built)
