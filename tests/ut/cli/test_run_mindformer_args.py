"""run_mindformer.py command line: each flag's target key, override order, errors as one line."""
import importlib.util
import logging
import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(REPO_ROOT, 'run_mindformer.py')

_spec = importlib.util.spec_from_file_location('run_mindformer', SCRIPT)
run_mindformer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_mindformer)
ConfigError = run_mindformer.ConfigError

TINY_YAML = """\
seed: 0
run_mode: train
output_dir: './output'
load_checkpoint: ''
use_parallel: False
context:
  mode: 0
  device_target: CPU
  device_id: 0
runner_config:
  epochs: 1
  batch_size: 2
  sink_mode: False
  gradient_accumulation_steps: 1
train_dataset: &train_dataset
  data_loader:
    type: MindDataset
    dataset_dir: 'train_dir_from_yaml'
    shuffle: True
train_dataset_task:
  type: CausalLanguageModelDataset
  dataset_config: *train_dataset
eval_dataset:
  data_loader:
    type: MindDataset
    dataset_dir: 'eval_dir_from_yaml'
model:
  model_config:
    type: LlamaConfig
    hidden_size: 32
    num_layers: 2
    do_sample: False
  arch:
    type: LlamaForCausalLM
callbacks:
  - type: MFLossMonitor
  - type: CheckpointMonitor
    keep_checkpoint_max: 3
"""


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Run in tmp_path with env and sys.path restored afterwards; logs go under tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv('REGISTER_PATH', raising=False)
    monkeypatch.delenv('LOCAL_DEFAULT_PATH', raising=False)
    monkeypatch.setattr(sys, 'path', list(sys.path))
    yield
    logging.getLogger('mindformers').reset_file_handlers()


@pytest.fixture(name='yaml_path')
def fixture_yaml_path(tmp_path):
    path = tmp_path / 'tiny.yaml'
    path.write_text(TINY_YAML, encoding='utf-8')
    return str(path)


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture(name='warnings')
def fixture_warnings():
    handler = _Records()
    logging.getLogger('mindformers').addHandler(handler)
    yield handler.messages
    logging.getLogger('mindformers').removeHandler(handler)


def load(yaml_path, *argv):
    args, unknown = run_mindformer.get_parser().parse_known_args(['--config', yaml_path, *argv])
    return run_mindformer.load_config(args, unknown)


def run_script(*argv, cwd):
    """The real script in its own process: `python run_mindformer.py ...`."""
    return subprocess.run([sys.executable, SCRIPT, *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


class _Result:       # pylint: disable=too-few-public-methods
    def __init__(self, returncode, stderr):
        self.returncode, self.stderr = returncode, stderr


@pytest.fixture(name='run_in_process')
def fixture_run_in_process(monkeypatch, capsys):
    """run_mindformer.cli(argv) in this process from `cwd`, as the script's __main__ runs it (exit code, stderr):
    the cases below fail before main(), so a subprocess per case would only add MindSpore's import time."""
    def run(*argv, cwd):
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            run_mindformer.cli(list(argv))
        return _Result(exited.value.code, capsys.readouterr().err)
    return run


def test_no_flags_leave_the_yaml_untouched(yaml_path):
    config = load(yaml_path)
    reference = run_mindformer.MindFormerConfig(yaml_path)
    assert config.to_dict() == reference.to_dict()
    assert config.input_data is None


@pytest.mark.parametrize('argv, key, expected', [
    (['--mode', '1'], 'context.mode', 1),
    (['--device_id', '3'], 'context.device_id', 3),
    (['--device_target', 'Ascend'], 'context.device_target', 'Ascend'),
    (['--run_mode', 'finetune'], 'run_mode', 'finetune'),
    (['--do_eval', 'True'], 'do_eval', True),
    (['--train_dataset_dir', '/data/train'], 'train_dataset.data_loader.dataset_dir', '/data/train'),
    (['--eval_dataset_dir', '/data/eval'], 'eval_dataset.data_loader.dataset_dir', '/data/eval'),
    (['--predict_batch_size', '4'], 'predict_batch_size', 4),
    (['--adapter_id', 'adapter_a'], 'adapter_id', 'adapter_a'),
    (['--load_checkpoint', 'ckpt/x.ckpt'], 'load_checkpoint', 'ckpt/x.ckpt'),
    (['--src_strategy_path_or_dir', 'strategy/'], 'src_strategy_path_or_dir', 'strategy/'),
    (['--auto_trans_ckpt', 'TRUE'], 'auto_trans_ckpt', True),
    (['--transform_process_num', '2'], 'transform_process_num', 2),
    (['--only_save_strategy', 'true'], 'only_save_strategy', True),
    (['--resume_training', 'false'], 'resume_training', False),
    (['--resume_training', 'llama_rank_0-3_100.ckpt'], 'resume_training', 'llama_rank_0-3_100.ckpt'),
    (['--strategy_load_checkpoint', 'strategy.ckpt'], 'parallel.strategy_ckpt_load_file', 'strategy.ckpt'),
    (['--remote_save_url', 'obs://bucket/run'], 'remote_save_url', 'obs://bucket/run'),
    (['--seed', '1234'], 'seed', 1234),
    (['--use_parallel', 'true'], 'use_parallel', True),
    (['--profile', 'true'], 'profile', True),
    (['--options', 'model.model_config.hidden_size=64', 'runner_config.sink_mode=true'],
     'model.model_config.hidden_size', 64),
    (['--epochs', '7'], 'runner_config.epochs', 7),
    (['--batch_size', '8'], 'runner_config.batch_size', 8),
    (['--gradient_accumulation_steps', '4'], 'runner_config.gradient_accumulation_steps', 4),
    (['--sink_mode', 'true'], 'runner_config.sink_mode', True),
    (['--output_dir', 'my_output'], 'output_dir', 'my_output'),
    (['--do_sample', 'true'], 'model.model_config.do_sample', True),
    (['--trust_remote_code', 'true'], 'trust_remote_code', True),
])
def test_flag_lands_on_its_target_key(yaml_path, argv, key, expected):
    config = load(yaml_path, *argv)
    node = config
    for part in key.split('.'):
        node = node[part]
    assert node == expected


def test_flag_changes_only_its_target_key(yaml_path):
    config = load(yaml_path, '--batch_size', '8').to_dict()
    reference = run_mindformer.MindFormerConfig(yaml_path).to_dict()
    reference['runner_config']['batch_size'] = 8
    assert config == reference


def test_num_samples_sets_both_dataset_sections(yaml_path):
    config = load(yaml_path, '--num_samples', '16')
    assert config.train_dataset.data_loader.num_samples == 16
    assert config.eval_dataset.data_loader.num_samples == 16


def test_num_samples_skips_a_missing_eval_section(tmp_path):
    path = tmp_path / 'train_only.yaml'
    path.write_text('run_mode: train\ntrain_dataset:\n  data_loader:\n    type: MindDataset\n', encoding='utf-8')
    config = load(str(path), '--num_samples', '5')
    assert config.train_dataset.data_loader.num_samples == 5
    assert config.eval_dataset is None


def test_flag_creates_a_missing_section(tmp_path):
    path = tmp_path / 'bare.yaml'
    path.write_text('run_mode: train\n', encoding='utf-8')
    config = load(str(path), '--epochs', '3', '--mode', '1')
    assert config.runner_config.epochs == 3
    assert config.context.mode == 1


def test_dataset_dir_without_dataset_section_is_an_error(tmp_path):
    path = tmp_path / 'bare.yaml'
    path.write_text('run_mode: train\n', encoding='utf-8')
    with pytest.raises(ConfigError, match=r'--train_dataset_dir .*train_dataset\.data_loader'):
        load(str(path), '--train_dataset_dir', '/data')


def test_options_win_over_flags_applied_before_them(yaml_path):
    config = load(yaml_path, '--seed', '1', '--run_mode', 'eval', '--options', 'seed=2', 'run_mode=predict')
    assert config.seed == 2
    assert config.run_mode == 'predict'


def test_runner_flags_win_over_options(yaml_path):
    config = load(yaml_path, '--options', 'runner_config.batch_size=2', 'output_dir=a', '--batch_size', '6',
                  '--output_dir', 'b')
    assert config.runner_config.batch_size == 6
    assert config.output_dir == 'b'


def test_leftover_overrides_win_over_options_and_flags(yaml_path):
    config = load(yaml_path, '--options', 'runner_config.batch_size=2', 'model.model_config.hidden_size=48',
                  '--batch_size', '6', '--runner_config.batch_size', '9', '--model.model_config.hidden_size=64')
    assert config.runner_config.batch_size == 9
    assert config.model.model_config.hidden_size == 64


def test_leftover_override_values_are_parsed(yaml_path):
    config = load(yaml_path, '--model.model_config.hidden_size', '64', '--runner_config.sink_mode=true',
                  '--model.model_config.rms_norm_eps', '1e-5', '--model.model_config.layers=[1, 2]',
                  '--model.arch.type', 'GPT2LMHeadModel', '--model.model_config.offset', '-1',
                  '--model.model_config.name=a=b')
    model_config = config.model.model_config
    assert model_config.hidden_size == 64
    assert config.runner_config.sink_mode is True
    assert model_config.rms_norm_eps == 1e-5
    assert model_config.layers == [1, 2]
    assert config.model.arch.type == 'GPT2LMHeadModel'
    assert model_config.offset == -1
    assert model_config.name == 'a=b'


def test_leftover_override_addresses_list_items_by_index(yaml_path):
    config = load(yaml_path, '--callbacks.1.keep_checkpoint_max', '5')
    assert config.callbacks[1] == {'type': 'CheckpointMonitor', 'keep_checkpoint_max': 5}


@pytest.mark.parametrize('text', ['input_ids', '[input_ids]', 'input_ids,labels'])
def test_a_string_where_the_yaml_has_a_list_is_one_error_not_split_into_characters(tmp_path, text):
    path = tmp_path / 'columns.yaml'
    path.write_text(TINY_YAML + 'train_dataset:\n  input_columns: ["input_ids"]\n', encoding='utf-8')
    with pytest.raises(ConfigError) as error:
        load(str(path), '--train_dataset.input_columns', text)
    assert str(error.value) == (f"override --train_dataset.input_columns: expects a list like '[\"input_ids\"]', "
                                f"got {text!r}; write the list as JSON (quote it in the shell)")
    assert load(str(path), '--train_dataset.input_columns', '["input_ids", "labels"]').train_dataset.input_columns \
        == ['input_ids', 'labels']


def test_leftover_override_missing_parent_is_an_error(yaml_path):
    with pytest.raises(ConfigError) as error:
        load(yaml_path, '--model.no_such_section.value', '1')
    assert str(error.value) == ("override --model.no_such_section.value: key 'model.no_such_section' "
                                "does not exist in the config")


def test_leftover_override_through_a_scalar_is_an_error(yaml_path):
    with pytest.raises(ConfigError, match=r"override --seed\.value: 'seed' is int 0, not a section"):
        load(yaml_path, '--seed.value', '1')


@pytest.mark.parametrize('argv, message', [
    (['--model.model_config.hidden_size'], 'has no value'),
    (['--model.model_config.hidden_size', '--runner_config.epochs', '2'], 'has no value'),
    (['--model.model_config.hidden_size', '64', 'stray'], "unrecognized argument 'stray'"),
    (['--model..hidden_size', '64'], 'malformed key'),
])
def test_malformed_leftovers_are_errors(yaml_path, argv, message):
    with pytest.raises(ConfigError, match=message):
        load(yaml_path, *argv)


def test_new_top_level_override_key_warns(yaml_path, warnings):
    config = load(yaml_path, '--train_data', '/data')
    assert config.train_data == '/data'
    assert warnings == ["override --train_data: 'train_data' is a new top-level key (not in the YAML); "
                        "check its spelling"]


def test_flag_spelling_is_exact_not_abbreviated(yaml_path):
    config = load(yaml_path, '--epoch', '5')
    assert config.runner_config.epochs == 1
    assert config.epoch == 5


def test_unknown_run_mode_names_value_and_allowed_ones(yaml_path):
    with pytest.raises(ConfigError) as error:
        load(yaml_path, '--run_mode', 'export')
    assert str(error.value) == "run_mode 'export' is not supported; use one of train, finetune, eval, predict"


def test_unknown_run_mode_from_options_is_an_error(yaml_path):
    with pytest.raises(ConfigError, match="run_mode 'pretrain'"):
        load(yaml_path, '--options', 'run_mode=pretrain')


def test_missing_run_mode_is_an_error(tmp_path):
    path = tmp_path / 'no_mode.yaml'
    path.write_text('seed: 0\n', encoding='utf-8')
    with pytest.raises(ConfigError, match='run_mode is not set'):
        load(str(path))


def test_single_predict_data_is_unwrapped_and_newlines_decoded(yaml_path):
    config = load(yaml_path, '--run_mode', 'predict', '--predict_data', r'I love Beijing,\nbecause')
    assert config.input_data == 'I love Beijing,\nbecause'


def test_several_predict_data_stay_a_list(yaml_path):
    config = load(yaml_path, '--predict_data', 'first prompt', r'second\nprompt')
    assert config.input_data == ['first prompt', 'second\nprompt']


def test_predict_data_txt_file_stays_a_path(yaml_path, tmp_path):
    (tmp_path / 'prompts.txt').write_text('a\nb\n', encoding='utf-8')
    config = load(yaml_path, '--predict_data', 'prompts.txt')
    assert config.input_data == 'prompts.txt'


def test_predict_data_missing_txt_file_is_an_error(yaml_path):
    with pytest.raises(ConfigError, match='prompt file not found: missing.txt'):
        load(yaml_path, '--predict_data', 'missing.txt')


def test_predict_data_directory_expands_to_sorted_images(yaml_path, tmp_path):
    images = tmp_path / 'images'
    (images / 'sub').mkdir(parents=True)
    for name in ('b.png', 'a.JPG', 'sub/c.bmp', 'notes.md'):
        (images / name).write_bytes(b'')
    config = load(yaml_path, '--predict_data', str(images))
    assert config.input_data == [str(images / 'a.JPG'), str(images / 'b.png'), str(images / 'sub' / 'c.bmp')]


def test_modal_type_pairs_each_predict_value(yaml_path, tmp_path, warnings):
    (tmp_path / 'cat.jpg').write_bytes(b'')
    config = load(yaml_path, '--predict_data', 'cat.jpg', r'what\nis it', '--modal_type', 'image', 'text')
    assert config.input_data == [[{'image': 'cat.jpg'}, {'text': 'what\nis it'}]]
    assert len([m for m in warnings if m.startswith('--modal_type: ')]) == 1


def test_modal_type_count_must_match_predict_data(yaml_path):
    with pytest.raises(ConfigError, match='--modal_type has 1 values but --predict_data has 2'):
        load(yaml_path, '--predict_data', 'a', 'b', '--modal_type', 'text')


def test_config_path_resolves_against_cwd_then_script_dir(tmp_path, monkeypatch):
    (tmp_path / 'cwd.yaml').write_text('run_mode: eval\n', encoding='utf-8')
    assert load('cwd.yaml').run_mode == 'eval'
    monkeypatch.setattr(run_mindformer, 'SCRIPT_DIR', str(tmp_path / 'script_dir'))
    (tmp_path / 'script_dir' / 'configs').mkdir(parents=True)
    (tmp_path / 'script_dir' / 'configs' / 'beside.yaml').write_text('run_mode: predict\n', encoding='utf-8')
    assert load(os.path.join('configs', 'beside.yaml')).run_mode == 'predict'


def test_missing_config_names_where_it_looked(tmp_path):
    with pytest.raises(ConfigError, match=f'config file not found: nope.yaml \\(looked in {tmp_path}'):
        load('nope.yaml')


def test_register_path_is_exported_absolute_and_on_sys_path(yaml_path, tmp_path):
    (tmp_path / 'research' / 'my_model').mkdir(parents=True)
    (tmp_path / 'research' / 'my_model' / 'my_model_tokenizer.py').write_text('X = 1\n')
    load(yaml_path, '--register_path', os.path.join('research', 'my_model'))
    expected = str(tmp_path / 'research' / 'my_model')
    assert os.environ['REGISTER_PATH'] == expected
    assert expected in sys.path


def test_missing_register_path_is_an_error(yaml_path):
    with pytest.raises(ConfigError, match='--register_path not found: no_such_dir'):
        load(yaml_path, '--register_path', 'no_such_dir')


def test_strategy_directory_resolves_to_its_first_ckpt(yaml_path, tmp_path):
    strategy_dir = tmp_path / 'strategy'
    strategy_dir.mkdir()
    for name in ('ckpt_strategy_rank_1.ckpt', 'ckpt_strategy_rank_0.ckpt', 'readme.txt'):
        (strategy_dir / name).write_bytes(b'')
    config = load(yaml_path, '--strategy_load_checkpoint', str(strategy_dir))
    assert config.parallel.strategy_ckpt_load_file == str(strategy_dir / 'ckpt_strategy_rank_0.ckpt')


def test_unavailable_features_warn_once_each(yaml_path, warnings):
    load(yaml_path, '--auto_trans_ckpt', 'true', '--src_strategy_path_or_dir', 's', '--transform_process_num', '2',
         '--only_save_strategy', 'true', '--strategy_load_checkpoint', 's.ckpt', '--remote_save_url', 'obs://x',
         '--profile', 'true', '--adapter_id', 'a')
    flags = ['strategy_load_checkpoint', 'remote_save_url', 'adapter_id']   # the others work
    assert warnings == [f'--{flag}: {run_mindformer.NOT_AVAILABLE_YET[flag]}' for flag in flags]
    assert warnings[0] == ('--strategy_load_checkpoint: loading a parallel strategy file is not available yet '
                           '(semi/auto parallel does not run on CPU); parallel.strategy_ckpt_load_file is set but '
                           'not used')


def test_profile_warns_only_where_no_training_runs(yaml_path, warnings):
    load(yaml_path, '--profile', 'true', '--run_mode', 'finetune')
    assert warnings == []
    load(yaml_path, '--profile', 'true', '--run_mode', 'eval')
    assert warnings == ['profile: the profiler traces training steps; run_mode eval runs without it']
    load(yaml_path, '--only_save_strategy', 'true', '--run_mode', 'predict')
    assert warnings[-1] == ('only_save_strategy: strategy files are written by train/finetune runs; run_mode predict '
                            'runs as usual')


def test_unavailable_boolean_features_set_false_do_not_warn(yaml_path, warnings):
    config = load(yaml_path, '--auto_trans_ckpt', 'false', '--only_save_strategy', 'FALSE', '--profile', 'false')
    assert config.auto_trans_ckpt is False
    assert warnings == []


@pytest.mark.parametrize('flag', ['--do_eval', '--auto_trans_ckpt', '--only_save_strategy', '--use_parallel',
                                  '--profile', '--sink_mode', '--do_sample', '--trust_remote_code'])
def test_boolean_flag_rejects_non_boolean_naming_the_flag(yaml_path, flag, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_mindformer.get_parser().parse_known_args(['--config', yaml_path, flag, '1'])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == f"run_mindformer.py: error: argument {flag}: expected true or false, got '1'\n"


def test_positive_int_flag_rejects_zero(yaml_path, capsys):
    with pytest.raises(SystemExit):
        run_mindformer.get_parser().parse_known_args(['--config', yaml_path, '--batch_size', '0'])
    assert capsys.readouterr().err == ("run_mindformer.py: error: argument --batch_size: "
                                       "expected a positive integer, got '0'\n")


def test_every_flag_defaults_to_none(yaml_path):
    args = run_mindformer.get_parser().parse_args(['--config', yaml_path])
    assert {name for name, value in vars(args).items() if value is not None} == {'config'}


def test_help_exits_zero_and_documents_every_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_mindformer.get_parser().parse_args(['--help'])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    flags = ['--config', '--mode', '--device_id', '--device_target', '--run_mode', '--do_eval',
             '--train_dataset_dir', '--eval_dataset_dir', '--predict_data', '--modal_type', '--predict_batch_size',
             '--adapter_id', '--load_checkpoint', '--src_strategy_path_or_dir', '--auto_trans_ckpt',
             '--transform_process_num', '--only_save_strategy', '--resume_training', '--strategy_load_checkpoint',
             '--remote_save_url', '--seed', '--use_parallel', '--profile', '--options', '--epochs', '--batch_size',
             '--gradient_accumulation_steps', '--sink_mode', '--num_samples', '--output_dir', '--register_path',
             '--do_sample', '--trust_remote_code']
    missing = [flag for flag in flags if f'  {flag} ' not in text]
    assert missing == []
    assert 'runner_config.gradient_accumulation_steps' in text
    assert 'parallel.strategy_ckpt_load_file' in text


# Each fails before main(), so no MindSpore work happens: run in-process through cli(), the script's entry point,
# except the last, which runs the real script.

def test_script_bad_boolean_exits_2_with_one_line(yaml_path, tmp_path, run_in_process):
    result = run_in_process('--config', yaml_path, '--use_parallel', 'yes', cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "run_mindformer.py: error: argument --use_parallel: expected true or false, got 'yes'\n"


def test_script_missing_config_exits_2_without_traceback(tmp_path, run_in_process):
    result = run_in_process('--config', 'missing.yaml', cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count('\n') == 1
    assert result.stderr.startswith('run_mindformer.py: error: config file not found: missing.yaml')


def test_script_yaml_syntax_error_names_file_and_line(tmp_path, run_in_process):
    (tmp_path / 'broken.yaml').write_text('run_mode: train\nmodel:\n  arch: [1,\n', encoding='utf-8')
    result = run_in_process('--config', 'broken.yaml', cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count('\n') == 1
    assert f"{tmp_path / 'broken.yaml'} at line 4" in result.stderr


def test_script_unknown_run_mode_exits_2(yaml_path, tmp_path, run_in_process):
    result = run_in_process('--config', yaml_path, '--run_mode', 'pretrain', cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ("run_mindformer.py: error: run_mode 'pretrain' is not supported; "
                             "use one of train, finetune, eval, predict\n")


def test_script_override_with_missing_parent_exits_2(yaml_path, tmp_path, run_in_process):
    result = run_in_process('--config', yaml_path, '--a.b', '1', cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "run_mindformer.py: error: override --a.b: key 'a' does not exist in the config\n"


def test_script_without_config_exits_2_with_one_line(tmp_path):
    result = run_script(cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == 'run_mindformer.py: error: the following arguments are required: --config\n'
