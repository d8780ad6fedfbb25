"""parallel_config that cannot run stops before any compile: one ConfigError line on stderr, exit code 2."""
import pytest

from conftest import write_yaml, write_mindrecord, counting_rows, run_cli

CASES = {
    'pipeline_stage_on_cpu': (['--parallel_config.pipeline_stage', '2', '--parallel_config.micro_batch_num', '2'],
                              ['pipeline_stage=2', 'cannot run on CPU', 'set both to 1']),
    'micro_batch_num_below_pipeline_stage': (['--parallel_config.pipeline_stage', '2'],
                                             ['parallel_config.micro_batch_num (1) must be >= pipeline_stage (2)']),
    'num_layers_below_pipeline_stage': (['--parallel_config.pipeline_stage', '4', '--parallel_config.micro_batch_num',
                                         '4'],
                                        ['model.model_config.num_layers (2) must be >= parallel_config.pipeline_stage '
                                         '(4)']),
    'heads_not_divisible_by_model_parallel': (['--parallel_config.model_parallel', '3'],
                                              ['num_heads (4) is not divisible by parallel_config.model_parallel (3)']),
    # full_batch is a semi-auto parallel setting: under data parallel MindSpore refuses it at compile time
    'full_batch_under_data_parallel': (['--use_parallel', 'True', '--parallel.full_batch', 'True'],
                                       ['parallel.full_batch: True needs semi_auto_parallel (parallel_mode 1), but '
                                        'parallel_mode is 0', 'set parallel.full_batch: False']),
    # an Ascend YAML in semi-auto parallel: the layout is checked against the device count (1 here, no msrun)
    # before communication starts or CPU is mentioned
    'semi_auto_layout_vs_device_count': (['--use_parallel', 'True', '--context.device_target', 'Ascend',
                                          '--parallel.parallel_mode', '1', '--parallel_config.data_parallel', '2'],
                                         ['data_parallel*model_parallel*pipeline_stage = 2*1*1 = 2 but 1 devices are '
                                          'running; make them equal']),
}


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    work = tmp_path_factory.mktemp('checks')
    data = write_mindrecord(work / 'train.mindrecord', counting_rows(8, 16, 64))
    return work, write_yaml(work / 'tiny.yaml', epochs=1, batch_size=2), data


@pytest.mark.parametrize('case', sorted(CASES))
def test_parallel_config_error_is_one_line_exit_2_before_compile(tiny, case):
    work, config, data = tiny
    flags, fragments = CASES[case]
    result = run_cli(['--config', config, '--run_mode', 'train', '--train_dataset_dir', data] + flags, work)
    assert result.returncode == 2, (result.stdout[-1500:], result.stderr[-1500:])
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith('run_mindformer.py: error: '), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert 'Compiling' not in result.stdout and 'Traceback' not in result.stderr
