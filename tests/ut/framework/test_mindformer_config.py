"""MindFormerConfig: attribute access, base_config inheritance, merge_from_dict, YAML anchors, ActionDict."""
import argparse
import copy
import pickle
import textwrap

import pytest

from mindformers.tools.errors import ConfigError
from mindformers.tools.register import ActionDict, MindFormerConfig
from mindformers.tools.register.config import ordered_yaml_dump, ordered_yaml_load


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding='utf-8')
    return str(path)


BASE_YAML = """
    seed: 0
    output_dir: './output'
    runner_config:
      epochs: 3
      batch_size: 2
      sink_mode: false
    model:
      arch:
        type: LlamaForCausalLM
      model_config:
        type: LlamaConfig
        hidden_size: 32
        num_layers: 2
    optimizer:
      type: adamw
      learning_rate: 1e-5
      betas: [0.9, 0.95]
"""


# ---------------------------------------------------------------- attribute access


def test_attribute_and_item_access_read_the_same_nested_value():
    cfg = MindFormerConfig({'model': {'model_config': {'hidden_size': 32}}})
    assert cfg.model.model_config.hidden_size == 32
    assert cfg['model']['model_config']['hidden_size'] == 32
    assert isinstance(cfg.model, MindFormerConfig)
    assert isinstance(cfg.model.model_config, MindFormerConfig)
    assert isinstance(cfg, dict)


def test_missing_attribute_reads_as_none_at_every_level():
    cfg = MindFormerConfig({'runner_config': {'epochs': 1}})
    assert cfg.does_not_exist is None
    assert cfg.runner_config.batch_size is None
    assert 'does_not_exist' not in cfg  # reading did not create the key


def test_dunder_lookups_still_raise_attribute_error():
    cfg = MindFormerConfig()
    with pytest.raises(AttributeError):
        cfg.__no_such_dunder__  # pylint: disable=pointless-statement


def test_setattr_converts_dicts_and_delattr_removes_the_key():
    cfg = MindFormerConfig()
    cfg.runner_config = {'epochs': 2}
    assert cfg['runner_config'].epochs == 2
    del cfg.runner_config
    assert 'runner_config' not in cfg and cfg.runner_config is None


def test_keyword_arguments_are_applied_over_positional_dicts():
    cfg = MindFormerConfig({'run_mode': 'train', 'seed': 1}, run_mode='predict')
    assert (cfg.run_mode, cfg.seed) == ('predict', 1)


def test_lists_stay_plain_lists_of_plain_dicts():
    cfg = MindFormerConfig({'callbacks': [{'type': 'MFLossMonitor'}, {'type': 'CheckpointMonitor'}]})
    assert isinstance(cfg.callbacks, list)
    assert all(type(item) is dict for item in cfg.callbacks)  # pylint: disable=unidiomatic-typecheck
    assert cfg.callbacks[1]['type'] == 'CheckpointMonitor'


def test_deepcopy_is_independent_and_keeps_the_class():
    cfg = MindFormerConfig({'model': {'model_config': {'hidden_size': 32}}, 'list': [1, 2]})
    clone = copy.deepcopy(cfg)
    clone.model.model_config.hidden_size = 64
    clone.list.append(3)
    assert cfg.model.model_config.hidden_size == 32 and cfg.list == [1, 2]
    assert isinstance(clone, MindFormerConfig) and isinstance(clone.model, MindFormerConfig)


def test_pickle_round_trip_keeps_values_and_attribute_access():
    cfg = MindFormerConfig({'model': {'arch': {'type': 'LlamaForCausalLM'}}})
    restored = pickle.loads(pickle.dumps(cfg))
    assert restored == cfg and restored.model.arch.type == 'LlamaForCausalLM'


def test_to_dict_returns_plain_nested_dicts():
    plain = MindFormerConfig({'a': {'b': {'c': 1}}}).to_dict()
    assert plain == {'a': {'b': {'c': 1}}}
    assert type(plain['a']) is dict and type(plain['a']['b']) is dict  # pylint: disable=unidiomatic-typecheck


def test_non_yaml_path_and_non_dict_argument_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match='yaml'):
        MindFormerConfig(str(tmp_path / 'run.json'))
    with pytest.raises(ConfigError):
        MindFormerConfig(42)


# ---------------------------------------------------------------- YAML loading


def test_yaml_file_loads_values_with_types(tmp_path):
    cfg = MindFormerConfig(write(tmp_path / 'run.yaml', BASE_YAML))
    assert cfg.seed == 0
    assert cfg.runner_config.sink_mode is False
    assert cfg.optimizer.learning_rate == pytest.approx(1e-5)  # YAML 1.1 would read '1e-5' as a string
    assert isinstance(cfg.optimizer.learning_rate, float)
    assert cfg.optimizer.betas == [0.9, 0.95]
    assert list(cfg) == ['seed', 'output_dir', 'runner_config', 'model', 'optimizer']  # file order kept


def test_missing_file_is_a_config_error_naming_the_path(tmp_path):
    missing = str(tmp_path / 'nope.yaml')
    with pytest.raises(ConfigError, match='nope.yaml'):
        MindFormerConfig(missing)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path / 'bad.yaml', "seed: 0\nmodel:\n  a: [1, 2\n  b: 3\n")
    with pytest.raises(ConfigError, match=r'bad\.yaml.*line'):
        MindFormerConfig(path)


def test_empty_yaml_gives_empty_config(tmp_path):
    assert MindFormerConfig(write(tmp_path / 'empty.yaml', "")) == {}


def test_yaml_anchors_are_resolved_into_independent_copies(tmp_path):
    path = write(tmp_path / 'anchors.yaml', """
        train_dataset: &train_dataset
          data_loader:
            type: MindDataset
            dataset_dir: "/data/wiki"
          batch_size: 4
        train_dataset_task:
          type: CausalLanguageModelDataset
          dataset_config: *train_dataset
        eval_dataset:
          <<: *train_dataset
          batch_size: 1
    """)
    cfg = MindFormerConfig(path)
    assert cfg.train_dataset_task.dataset_config.data_loader.dataset_dir == '/data/wiki'
    assert cfg.train_dataset_task.dataset_config == cfg.train_dataset
    assert cfg.eval_dataset.batch_size == 1 and cfg.eval_dataset.data_loader.type == 'MindDataset'
    cfg.train_dataset.batch_size = 16
    assert cfg.train_dataset_task.dataset_config.batch_size == 4  # upstream: copies, re-linked later


def test_ordered_yaml_dump_round_trips(tmp_path):
    cfg = MindFormerConfig(write(tmp_path / 'run.yaml', BASE_YAML))
    text = ordered_yaml_dump(cfg)
    assert '!!' not in text  # plain mappings, no python tags
    assert MindFormerConfig(ordered_yaml_load(text)) == cfg


# ---------------------------------------------------------------- base_config inheritance


def test_base_config_child_values_deep_merge_over_base(tmp_path):
    write(tmp_path / 'base.yaml', BASE_YAML)
    child = write(tmp_path / 'child.yaml', """
        base_config: base.yaml
        runner_config:
          batch_size: 8
        model:
          model_config:
            num_layers: 4
        optimizer:
          betas: [0.8, 0.9]
        callbacks:
          - type: MFLossMonitor
    """)
    cfg = MindFormerConfig(child)
    assert 'base_config' not in cfg
    assert cfg.runner_config.to_dict() == {'epochs': 3, 'batch_size': 8, 'sink_mode': False}
    assert cfg.model.model_config.to_dict() == {'type': 'LlamaConfig', 'hidden_size': 32, 'num_layers': 4}
    assert cfg.model.arch.type == 'LlamaForCausalLM'
    assert cfg.optimizer.betas == [0.8, 0.9]  # lists replace, they are not merged
    assert cfg.optimizer.type == 'adamw'
    assert cfg.callbacks == [{'type': 'MFLossMonitor'}]


def test_base_config_paths_are_relative_to_each_yaml_and_recursive(tmp_path):
    write(tmp_path / 'common' / 'grand.yaml', "a: 1\nb: 1\nc: 1\n")
    write(tmp_path / 'common' / 'parent.yaml', "base_config: grand.yaml\nb: 2\n")
    child = write(tmp_path / 'configs' / 'child.yaml', "base_config: ../common/parent.yaml\nc: 3\n")
    cfg = MindFormerConfig(child)
    assert cfg.to_dict() == {'a': 1, 'b': 2, 'c': 3}


def test_base_config_list_later_bases_override_earlier_ones_shallowly(tmp_path):
    write(tmp_path / 'one.yaml', "x: 1\nsection:\n  p: 1\n  q: 1\n")
    write(tmp_path / 'two.yaml', "y: 2\nsection:\n  q: 2\n")
    child = write(tmp_path / 'child.yaml', "base_config: [one.yaml, two.yaml]\nz: 3\n")
    cfg = MindFormerConfig(child)
    assert (cfg.x, cfg.y, cfg.z) == (1, 2, 3)
    assert cfg.section.to_dict() == {'q': 2}  # bases combine with a shallow update, as upstream


def test_missing_base_config_is_a_config_error(tmp_path):
    child = write(tmp_path / 'child.yaml', "base_config: absent.yaml\n")
    with pytest.raises(ConfigError, match='absent.yaml'):
        MindFormerConfig(child)


# ---------------------------------------------------------------- merge_from_dict


def test_merge_from_dict_sets_dotted_keys_and_keeps_siblings():
    cfg = MindFormerConfig({'model': {'arch': {'type': 'A'}, 'model_config': {'hidden_size': 32, 'num_layers': 2}}})
    cfg.merge_from_dict({'model.model_config.num_layers': 4, 'model.arch.type': 'B'})
    assert cfg.model.model_config.to_dict() == {'hidden_size': 32, 'num_layers': 4}
    assert cfg.model.arch.type == 'B'


def test_merge_from_dict_creates_missing_sections():
    cfg = MindFormerConfig({'seed': 0})
    cfg.merge_from_dict({'runner_config.batch_size': 4})
    assert isinstance(cfg.runner_config, MindFormerConfig) and cfg.runner_config.batch_size == 4


def test_merge_from_dict_deep_merges_dict_values():
    cfg = MindFormerConfig({'model': {'model_config': {'hidden_size': 32, 'num_layers': 2}}})
    cfg.merge_from_dict({'model.model_config': {'num_layers': 6}})
    assert cfg.model.model_config.to_dict() == {'hidden_size': 32, 'num_layers': 6}


def test_merge_from_dict_replaces_non_dict_values_and_returns_self():
    cfg = MindFormerConfig({'optimizer': {'betas': [0.9, 0.99]}})
    assert cfg.merge_from_dict({'optimizer.betas': [0.1]}) is cfg
    assert cfg.optimizer.betas == [0.1]


# ---------------------------------------------------------------- ActionDict


def parse_options(*items):
    parser = argparse.ArgumentParser()
    parser.add_argument('--options', nargs='+', action=ActionDict)
    return parser.parse_args(['--options', *items]).options


def test_action_dict_parses_int_float_bool_none_and_str():
    opts = parse_options('a=1', 'b=0.5', 'c=true', 'd=False', 'e=none', 'f=hello', 'g=1e-4')
    assert opts == {'a': 1, 'b': 0.5, 'c': True, 'd': False, 'e': None, 'f': 'hello', 'g': 1e-4}
    assert isinstance(opts['a'], int) and isinstance(opts['b'], float)


def test_action_dict_parses_lists_tuples_and_nesting():
    opts = parse_options('a=1,2,3', 'b=[1,2]', 'c=(1,2)', 'd=[(1,2),[3,4]]', "e='[x, y]'")
    assert opts == {'a': [1, 2, 3], 'b': [1, 2], 'c': (1, 2), 'd': [(1, 2), [3, 4]], 'e': ['x', 'y']}


def test_action_dict_keeps_dotted_keys_for_merge_from_dict():
    opts = parse_options('model.model_config.num_layers=4')
    cfg = MindFormerConfig({'model': {'model_config': {'num_layers': 2}}}).merge_from_dict(opts)
    assert cfg.model.model_config.num_layers == 4


def test_action_dict_value_may_contain_equals_sign():
    assert parse_options('a=x=y') == {'a': 'x=y'}


def test_action_dict_rejects_item_without_equals():
    with pytest.raises(ConfigError, match='key=value'):
        parse_options('justakey')


def test_action_dict_rejects_unbalanced_brackets():
    with pytest.raises(ConfigError, match='unbalanced'):
        parse_options('a=[1,2')


@pytest.mark.parametrize('fields, expected', [
    ({'evaluation_strategy': 'steps', 'eval_steps': 5}, (True, 5, -1)),
    ({'evaluation_strategy': 'steps'}, (True, None, -1)),                 # the YAML's interval, else 100
    ({'evaluation_strategy': 'epoch'}, (True, -1, 1)),
    ({'evaluation_strategy': 'epoch', 'eval_epochs': 2}, (True, -1, 2)),
    ({'evaluation_strategy': 'no', 'do_eval': True}, (False, None, None)),
    ({'eval_steps': 7, 'do_eval': True}, (True, 7, None)),
])
def test_training_arguments_evaluation_strategy_sets_do_eval_and_the_intervals(fields, expected):
    from mindformers import TrainingArguments  # pylint: disable=import-outside-toplevel
    config = TrainingArguments(**fields).convert_args_to_mindformers_config(MindFormerConfig())
    assert (config.do_eval, config.eval_step_interval, config.eval_epoch_interval) == expected
    with pytest.raises(ConfigError, match="evaluation_strategy must be 'no', 'steps' or 'epoch', got 'step'"):
        TrainingArguments(evaluation_strategy='step')
