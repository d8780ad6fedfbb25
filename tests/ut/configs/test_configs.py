"""Packaged YAMLs: every file loads, every book name points at one, model sizes match the released models.

Only config objects are built (sizes are computed, never allocated), so the whole file runs in seconds.
"""
import glob
import os

import pytest

import mindformers  # noqa: F401  (registers every component class)
from mindformers.mindformer_book import MindFormerBook, _TRAINER_SUPPORT_TASKS_LIST
from mindformers.models.base_config import BaseConfig
from mindformers.models.build_config import build_model_config
from mindformers.models.llama.llama_config import LlamaConfig
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerConfig, MindFormerModuleType, MindFormerRegister

PROJECT = MindFormerBook.get_project_path()
CONFIG_DIR = os.path.join(PROJECT, 'configs')
ALL_YAMLS = sorted(os.path.relpath(p, PROJECT)
                   for p in glob.glob(os.path.join(CONFIG_DIR, '**', '*.yaml'), recursive=True))
TINY_DIR = os.path.join(CONFIG_DIR, 'llama2')
REAL_SIZES = ('7b', '13b', '70b')
LLAMA2_VARIANTS = ('pretrain', 'finetune', 'predict', 'lora')
LORA_CONFIG = {'pet_type': 'lora', 'lora_rank': 16, 'lora_alpha': 16, 'lora_dropout': 0.05,
               'target_modules': '.*wq|.*wk|.*wv|.*wo'}
# architecture keys that must agree between the variants of one model size
ARCH_KEYS = ('seq_length', 'hidden_size', 'num_layers', 'num_heads', 'n_kv_heads', 'vocab_size', 'multiple_of',
             'ffn_dim_multiplier', 'rms_norm_eps', 'ffn_hidden_size')


def _load(rel_path):
    return MindFormerConfig(os.path.join(PROJECT, rel_path))


def _model_config(rel_path):
    return build_model_config(_load(rel_path).model.model_config)


def _book_path(name):
    task = next(task for task, names in _TRAINER_SUPPORT_TASKS_LIST.items() if name in names)
    return os.path.join(PROJECT, _TRAINER_SUPPORT_TASKS_LIST[task][name])


def _arch(model_config):
    return {key: getattr(model_config, key) for key in ARCH_KEYS}


def test_configs_folder_holds_the_llama_family():
    expected = {f'configs/llama/run_llama_{s}.yaml' for s in ('7b', '13b', '65b', '7b_lora')}
    expected |= {f'configs/llama2/{v}_llama2_{s}.yaml' for v in LLAMA2_VARIANTS for s in REAL_SIZES + ('tiny',)}
    expected.add('configs/general/run_general_task.yaml')
    assert expected <= set(ALL_YAMLS)


@pytest.mark.parametrize('rel_path', ALL_YAMLS)
def test_every_yaml_loads_with_the_upstream_top_level_keys(rel_path):
    config = _load(rel_path)
    assert config.run_mode in ('train', 'finetune', 'eval', 'predict')
    keys = ['trainer', 'runner_config', 'context', 'parallel', 'parallel_config', 'model', 'train_dataset',
            'train_dataset_task', 'optimizer', 'lr_schedule', 'runner_wrapper', 'callbacks', 'processor']
    for key in keys:
        assert config.get(key) is not None, f"{rel_path} has no top-level '{key}'"
    model_class = MindFormerRegister.get_cls(MindFormerModuleType.MODELS, config.model.arch.type)
    assert model_class.config_class.__name__ == config.model.model_config.type
    assert 'base_config' not in config


@pytest.mark.parametrize('rel_path', ALL_YAMLS)
def test_every_model_config_builds_and_validates(rel_path):
    model_config = _model_config(rel_path)
    assert isinstance(model_config, BaseConfig)
    model_config.validate()
    assert model_config.num_parameters() > 0


@pytest.mark.parametrize('rel_path', ALL_YAMLS)
def test_every_component_type_is_registered(rel_path):
    config = _load(rel_path)
    wanted = [(MindFormerModuleType.TRAINER, config.trainer.type),
              (MindFormerModuleType.OPTIMIZER, config.optimizer.type),
              (MindFormerModuleType.LR, config.lr_schedule.type),
              (MindFormerModuleType.WRAPPER, config.runner_wrapper.type),
              (MindFormerModuleType.DATASET, config.train_dataset_task.type),
              (MindFormerModuleType.DATASET_LOADER, config.train_dataset.data_loader.type),
              (MindFormerModuleType.MODELS, config.model.arch.type),
              (MindFormerModuleType.CONFIG, config.model.model_config.type),
              (MindFormerModuleType.PROCESSOR, config.processor.type)]
    if config.metric is not None:     # pre-training tasks without an evaluation (MAE) have no metric
        wanted.append((MindFormerModuleType.METRIC, config.metric.type))
    # text models name a tokenizer, image models an image processor
    if config.processor.image_processor is not None:
        wanted.append((MindFormerModuleType.PROCESSOR, config.processor.image_processor.type))
    else:
        wanted.append((MindFormerModuleType.TOKENIZER, config.processor.tokenizer.type))
    dataset_tokenizer = (config.train_dataset.get('tokenizer') or {}).get('type')
    # upstream's T5 YAMLs name the dataset tokenizer by a model name (`type: t5_small`), read by AutoTokenizer
    if dataset_tokenizer and dataset_tokenizer not in MindFormerBook.get_model_name_support_list():
        wanted.append((MindFormerModuleType.TOKENIZER, dataset_tokenizer))
    wanted += [(MindFormerModuleType.CALLBACK, cb['type']) for cb in config.callbacks + (config.eval_callbacks or [])]
    if isinstance(config.runner_wrapper.scale_sense, dict):
        wanted.append((MindFormerModuleType.WRAPPER, config.runner_wrapper.scale_sense.type))
    missing = [(kind, name) for kind, name in wanted if not MindFormerRegister.is_exist(kind, name)]
    assert not missing, f"{rel_path} names unregistered components {missing}"


@pytest.mark.parametrize('task, name', [(task, name) for task, names in _TRAINER_SUPPORT_TASKS_LIST.items()
                                        for name in names])
def test_every_book_entry_points_to_an_existing_yaml(task, name):
    path = MindFormerBook.get_task_config_path(task, name)
    assert os.path.isfile(path), f"{task}/{name} -> {path} does not exist"
    MindFormerConfig(path)


def test_book_lists_the_upstream_llama_names():
    names = set(_TRAINER_SUPPORT_TASKS_LIST['text_generation'])
    assert {'llama_7b', 'llama_13b', 'llama_65b', 'llama_7b_lora', 'llama2_7b', 'llama2_13b', 'llama2_70b'} <= names
    assert _TRAINER_SUPPORT_TASKS_LIST['general'] == {'common': 'configs/general/run_general_task.yaml'}


@pytest.mark.parametrize('name, expected, tolerance', [
    ('llama2_7b', 6.74e9, 0.005),
    ('llama2_13b', 13.0e9, 0.01),
    ('llama2_70b', 69.0e9, 0.01),
    ('llama_7b', 6.74e9, 0.01),
    ('llama_13b', 13.0e9, 0.01),
    ('llama_65b', 65.3e9, 0.01),
    ('gpt2', 124.44e6, 0.001),
    ('gpt2_xl', 1557.6e6, 0.001),
    ('gpt2_13b', 12.85e9, 0.01),
    ('gpt2_52b', 51.9e9, 0.01),
    ('bloom_560m', 559.2e6, 0.001),
    ('bloom_7.1b', 7069.0e6, 0.001),
    ('bloom_176b', 176.2e9, 0.005),
    ('glm2_6b', 6243584000, 1e-9),   # ChatGLM2-6B as released: 6,243,584,000
    # GLM-6B: 6.17e9 with the output layer counted as the embedding table (the model card's "6.2B"); upstream's
    # GLMHead holds its own (vocab, hidden) weight, as here, which adds 0.53e9
    ('glm_6b', 6173286400 + 130528 * 4096, 1e-9),
    ('pangualpha_2_6b', 2.6e9, 0.01),
    ('pangualpha_13b', 13.1e9, 0.025),   # the paper's 13.1B; its sizes (40 x 5120, FFN 20480) give 12.8B
    ('t5_small', 60506624, 1e-9),        # t5-small as released
])
def test_num_parameters_matches_the_released_model(name, expected, tolerance):
    count = build_model_config(MindFormerConfig(_book_path(name)).model.model_config).num_parameters()
    assert abs(count - expected) / expected < tolerance, f"{name}: {count:,} parameters"


@pytest.mark.parametrize('name, ffn, kv_heads, eps', [
    ('llama_7b', 11008, 32, 1e-6), ('llama_13b', 13824, 40, 1e-6), ('llama_65b', 22016, 64, 1e-6),
    ('llama2_7b', 11008, 32, 1e-5), ('llama2_13b', 13824, 40, 1e-5), ('llama2_70b', 28672, 8, 1e-5),
])
def test_ffn_width_kv_heads_and_norm_eps_are_the_released_ones(name, ffn, kv_heads, eps):
    model_config = build_model_config(MindFormerConfig(_book_path(name)).model.model_config)
    assert model_config.ffn_hidden_size == ffn
    assert (model_config.n_kv_heads or model_config.num_heads) == kv_heads
    assert model_config.rms_norm_eps == eps


@pytest.mark.parametrize('size', REAL_SIZES)
def test_llama2_variants_of_one_size_share_the_architecture(size):
    archs = {variant: _arch(_model_config(f'configs/llama2/{variant}_llama2_{size}.yaml'))
             for variant in LLAMA2_VARIANTS}
    assert all(arch == archs['pretrain'] for arch in archs.values()), archs
    assert archs['pretrain']['seq_length'] == 4096


def test_llama_7b_lora_has_the_llama_7b_architecture():
    assert _arch(_model_config('configs/llama/run_llama_7b_lora.yaml')) == \
        _arch(_model_config('configs/llama/run_llama_7b.yaml'))


@pytest.mark.parametrize('size', REAL_SIZES)
def test_llama2_run_modes_columns_and_pet_config(size):
    pretrain, finetune, predict, lora = (_load(f'configs/llama2/{v}_llama2_{size}.yaml') for v in LLAMA2_VARIANTS)
    assert (pretrain.run_mode, finetune.run_mode, predict.run_mode, lora.run_mode) == \
        ('train', 'finetune', 'predict', 'finetune')
    assert pretrain.train_dataset.input_columns == ['input_ids']
    for config in (finetune, lora):
        assert config.train_dataset.input_columns == ['input_ids', 'labels']
        assert config.train_dataset_task.dataset_config.input_columns == ['input_ids', 'labels']
    assert predict.model.model_config.use_past is True
    assert predict.model.model_config.batch_size == 1 and predict.runner_config.batch_size == 1
    assert lora.model.model_config.pet_config.to_dict() == LORA_CONFIG
    assert lora.trainer.model_name == f'llama2_{size}_lora'
    assert pretrain.model.model_config.pet_config is None


REAL_SIZE_YAMLS = [p for p in ALL_YAMLS if not any(k in p for k in ('tiny', 'general', 'quickstart'))]


@pytest.mark.parametrize('rel_path', REAL_SIZE_YAMLS)
def test_real_size_configs_keep_the_ascend_settings(rel_path):
    config = _load(rel_path)
    assert config.context.device_target == 'Ascend'
    # upstream's token classification, question answering, T5 and vision YAMLs compute in float32
    model_config = config.model.model_config
    assert (model_config.compute_dtype or model_config.dtype) in (
        ('float32',) if any(k in rel_path for k in ('tokcls', '/qa/', '/t5/', '/vit/', '/swin/', '/mae/'))
        else ('float16', 'bfloat16'))
    assert config.runner_wrapper.type == 'MFTrainOneStepCell'
    assert [cb['type'] for cb in config.callbacks][:2] == ['MFLossMonitor', 'CheckpointMonitor']
    assert config.recompute_config.recompute in (True, False)
    if config.model.model_config.type == 'LlamaConfig':
        assert config.optimizer.type == 'FP32StateAdamWeightDecay'
        assert config.lr_schedule.type == 'CosineWithWarmUpLR'
        if config.use_parallel:
            assert config.parallel.parallel_mode == 1


@pytest.mark.parametrize('rel_path', [p for p in REAL_SIZE_YAMLS if p.startswith('configs/bloom/')])
def test_bloom_configs_keep_upstream_hyperparameters(rel_path):
    config = _load(rel_path)
    assert config.optimizer.to_dict() == {'type': 'FP32StateAdamWeightDecay', 'beta1': 0.9, 'beta2': 0.95,
                                          'eps': 1e-8, 'weight_decay': 0.1}
    assert (config.lr_schedule.type, config.lr_schedule.learning_rate, config.lr_schedule.warmup_steps) == \
        ('cosine', 1e-6, 1000)
    model_config = config.model.model_config
    assert (model_config.vocab_size, model_config.seq_length, model_config.eos_token_id) == (250880, 2048, 2)
    assert model_config.hidden_act == ('gelu' if model_config.hidden_size == 1024 else 'fast_gelu')
    assert config.train_dataset.input_columns == ['input_ids']
    assert config.processor.type == 'BloomProcessor' and config.processor.tokenizer.type == 'BloomTokenizer'


@pytest.mark.parametrize('rel_path', [p for p in REAL_SIZE_YAMLS if p.startswith('configs/gpt2/')])
def test_gpt2_configs_keep_upstream_hyperparameters(rel_path):
    config = _load(rel_path)
    assert config.optimizer.to_dict() == {'type': 'FusedAdamWeightDecay', 'beta1': 0.9, 'beta2': 0.95, 'eps': 1e-8,
                                          'weight_decay': 0.1}
    assert config.lr_schedule.type == 'polynomial'
    assert config.runner_wrapper.scale_sense.loss_scale_value == 4294967296
    model_config = config.model.model_config
    assert (model_config.vocab_size, model_config.expand_ratio, model_config.hidden_dropout_rate) == (50257, 4, 0.1)
    assert config.processor.type == 'GPT2Processor' and config.processor.tokenizer.type == 'GPT2Tokenizer'
    small = model_config.hidden_size == 768
    assert model_config.hidden_act == ('gelu' if small else 'fast_gelu')
    if model_config.pet_config is not None:
        assert model_config.pet_config.to_dict() == {'pet_type': 'lora', 'lora_rank': 64, 'lora_alpha': 128,
                                                     'lora_dropout': 0.1, 'target_modules': '.*dense1.*|.*dense3.*'}
        assert config.run_mode == 'finetune'
    if model_config.num_labels is not None:   # run_gpt2_txtcls.yaml: fine-tunes a classifier from the `gpt2` LM
        assert (config.trainer.type, config.model.arch.type) == ('TextClassificationTrainer',
                                                                 'GPT2ForSequenceClassification')
        assert (model_config.num_labels, model_config.checkpoint_name_or_path, config.runner_config.batch_size,
                config.lr_schedule.learning_rate, config.metric.type) == (2, 'gpt2', 16, 1e-4, 'Accuracy')
        assert config.train_dataset.input_columns == ['input_ids', 'attention_mask', 'labels']
        assert config.train_dataset_task.type == config.eval_dataset_task.type == 'TextClassificationDataset'


@pytest.mark.parametrize('rel_path', REAL_SIZE_YAMLS)
def test_parallel_layout_divides_the_model(rel_path):
    config = _load(rel_path)
    layout = config.parallel_config
    model_config = _model_config(rel_path)
    if type(model_config).__name__ in ("BertConfig", "ViTConfig", "ViTMAEConfig"):   # Hugging Face field names
        assert model_config.num_attention_heads % layout.model_parallel == 0
        assert model_config.intermediate_size % layout.model_parallel == 0
        return
    if type(model_config).__name__ == "CLIPConfig":   # two encoders
        for section in (model_config.text_config, model_config.vision_config):
            assert section.num_attention_heads % layout.model_parallel == 0
        return
    if type(model_config).__name__ == "SwinConfig":   # one head count per stage
        assert all(heads % layout.model_parallel == 0 for heads in model_config.num_heads)
        return
    if type(model_config).__name__ == "T5Config":
        assert model_config.num_heads % layout.model_parallel == 0
        assert model_config.d_ff % layout.model_parallel == 0
        return
    assert model_config.num_heads % layout.model_parallel == 0
    assert (getattr(model_config, 'n_kv_heads', None) or model_config.num_heads) % layout.model_parallel == 0
    assert model_config.ffn_hidden_size % layout.model_parallel == 0
    assert model_config.num_layers >= layout.pipeline_stage  # uneven stages are allowed (BLOOM 65B: 80 on 12)
    assert layout.micro_batch_num >= layout.pipeline_stage


def test_pretrain_llama2_7b_uses_dynamic_loss_scale():
    scale_sense = _load('configs/llama2/pretrain_llama2_7b.yaml').runner_wrapper.scale_sense
    assert scale_sense.to_dict() == {'type': 'DynamicLossScaleUpdateCell', 'loss_scale_value': 65536,
                                     'scale_factor': 2, 'scale_window': 1000}


# ------------------------------------------------------------------ tiny CPU siblings
def _tiny(variant):
    return _load(f'configs/llama2/{variant}_llama2_tiny.yaml')


def test_tiny_siblings_have_the_pretrain_tiny_model():
    base = _tiny('pretrain').model.model_config.to_dict()
    for variant in ('finetune', 'predict', 'lora'):
        model_config = _tiny(variant).model.model_config.to_dict()
        model_config.pop('pet_config', None)
        differing = {k for k in set(base) | set(model_config) if base.get(k) != model_config.get(k)}
        assert differing <= {'use_past', 'batch_size', 'max_decode_length', 'do_sample'}, (variant, differing)
        assert _model_config(f'configs/llama2/{variant}_llama2_tiny.yaml').num_parameters() == \
            _model_config('configs/llama2/pretrain_llama2_tiny.yaml').num_parameters()


def test_tiny_siblings_inherit_cpu_settings_from_pretrain_tiny():
    base = _tiny('pretrain')
    for variant in ('finetune', 'predict', 'lora'):
        config = _tiny(variant)
        assert config.context.to_dict() == base.context.to_dict()
        assert config.parallel.to_dict() == base.parallel.to_dict()
        assert config.parallel_config.to_dict() == base.parallel_config.to_dict()
        assert config.train_dataset.data_loader.to_dict() == base.train_dataset.data_loader.to_dict()
        assert config.model.model_config.seq_length == 128


def test_finetune_tiny_reads_labels_in_both_dataset_sections():
    config = _tiny('finetune')
    assert config.run_mode == 'finetune'
    assert config.train_dataset.input_columns == ['input_ids', 'labels']
    assert config.train_dataset_task.dataset_config.input_columns == ['input_ids', 'labels']
    assert config.train_dataset.batch_size == _tiny('pretrain').train_dataset.batch_size
    assert config.eval_dataset.input_columns == ['input_ids']


def test_predict_tiny_turns_on_the_kv_cache():
    config = _tiny('predict')
    assert config.run_mode == 'predict'
    assert config.model.model_config.use_past is True
    assert config.model.model_config.batch_size == 1
    assert config.runner_config.batch_size == 1


def test_lora_tiny_inherits_finetune_tiny_and_adds_pet_config():
    config = _tiny('lora')
    assert config.run_mode == 'finetune'
    assert config.train_dataset.input_columns == ['input_ids', 'labels']
    assert config.model.model_config.pet_config.to_dict() == LORA_CONFIG
    assert config.callbacks[1]['prefix'] == 'llama2_tiny_lora'


def test_general_task_config_is_the_tiny_llama_on_cpu():
    config = _load('configs/general/run_general_task.yaml')
    assert config.trainer.model_name == 'common'
    assert config.context.device_target == 'CPU'
    assert _arch(_model_config('configs/general/run_general_task.yaml')) == \
        _arch(_model_config('configs/llama2/pretrain_llama2_tiny.yaml'))


# ------------------------------------------------------------------ bad inputs
def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / 'broken.yaml'
    path.write_text("seed: 0\nmodel:\n  model_config:\n    hidden_size: [128\n    num_layers: 2\n",
                    encoding='utf-8')
    with pytest.raises(ConfigError) as info:
        MindFormerConfig(str(path))
    message = str(info.value)
    assert str(path) in message
    assert 'line 5' in message


def test_missing_base_config_is_a_config_error_naming_it(tmp_path):
    path = tmp_path / 'child.yaml'
    path.write_text("base_config: no_such_base.yaml\nseed: 1\n", encoding='utf-8')
    with pytest.raises(ConfigError, match='no_such_base.yaml'):
        MindFormerConfig(str(path))


def test_base_config_cycle_is_a_config_error(tmp_path):
    (tmp_path / 'a.yaml').write_text("base_config: b.yaml\nx: 1\n", encoding='utf-8')
    (tmp_path / 'b.yaml').write_text("base_config: a.yaml\ny: 2\n", encoding='utf-8')
    with pytest.raises(ConfigError, match='cycle'):
        MindFormerConfig(str(tmp_path / 'a.yaml'))


def test_base_config_deep_merges_and_child_lists_replace(tmp_path):
    (tmp_path / 'base.yaml').write_text(
        "model:\n  model_config:\n    type: LlamaConfig\n    hidden_size: 64\n    num_heads: 4\n"
        "train_dataset:\n  input_columns: [input_ids]\n  batch_size: 4\n", encoding='utf-8')
    (tmp_path / 'child.yaml').write_text(
        "base_config: base.yaml\nmodel:\n  model_config:\n    num_heads: 8\n"
        "train_dataset:\n  input_columns: [input_ids, labels]\n", encoding='utf-8')
    config = MindFormerConfig(str(tmp_path / 'child.yaml'))
    assert config.model.model_config.to_dict() == {'type': 'LlamaConfig', 'hidden_size': 64, 'num_heads': 8}
    assert config.train_dataset.to_dict() == {'input_columns': ['input_ids', 'labels'], 'batch_size': 4}


def test_invalid_model_config_in_yaml_is_a_config_error(tmp_path):
    path = tmp_path / 'bad_heads.yaml'
    path.write_text(f"base_config: {os.path.join(TINY_DIR, 'pretrain_llama2_tiny.yaml')}\n"
                    "model:\n  model_config:\n    num_heads: 3\n", encoding='utf-8')
    with pytest.raises(ConfigError, match='num_heads'):
        build_model_config(MindFormerConfig(str(path)).model.model_config)


@pytest.mark.parametrize('bad, message', [
    ({'multiple_of': 0}, 'multiple_of'),
    ({'n_kv_heads': -8}, 'n_kv_heads'),
    ({'n_kv_heads': 0}, 'n_kv_heads'),
    ({'intermediate_size': -5}, 'intermediate_size'),
    ({'ffn_dim_multiplier': '1.3'}, 'ffn_dim_multiplier'),
    ({'n_kv_heads': 3}, 'n_kv_heads'),
])
def test_llama_config_rejects_bad_ffn_and_kv_sizes(bad, message):
    with pytest.raises(ConfigError, match=message):
        LlamaConfig(**bad)


@pytest.mark.parametrize('rel_path', ALL_YAMLS)
def test_full_batch_only_with_semi_auto_parallel(rel_path):
    """MindSpore refuses full_batch under data parallel at compile time: a packaged YAML that runs data parallel
    (or is a CPU sibling meant to be launched with --use_parallel True) must not set it."""
    config = _load(rel_path)
    data_parallel = config.parallel.parallel_mode in (0, 'data_parallel')
    if data_parallel and (config.use_parallel or config.context.device_target == 'CPU'):
        assert config.parallel.full_batch is False, rel_path
