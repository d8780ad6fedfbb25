"""MindFormerRegister / MindFormerModuleType: registration, lookup, building from a `type:` dict."""
import textwrap

import pytest

import mindformers  # noqa: F401  (importing the package registers every built-in component)
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerConfig, MindFormerModuleType, MindFormerRegister

# a module type of our own so that the tests never disturb the real sections
TEST_TYPE = 'unit_test_section'


@pytest.fixture(autouse=True, name="clean_test_section")
def fixture_clean_test_section():
    MindFormerRegister.registry.pop(TEST_TYPE, None)
    yield
    MindFormerRegister.registry.pop(TEST_TYPE, None)


class Box:
    def __init__(self, size=1, color='red'):
        self.size = size
        self.color = color


class TwoArgError(Exception):
    """An exception whose constructor does not take a single message."""

    def __init__(self, code, detail):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


class Fails:
    def __init__(self, kind='value'):
        if kind == 'value':
            raise ValueError("size must be positive")
        if kind == 'config':
            raise ConfigError("bad size")
        if kind == 'named':
            raise ConfigError("Fails: already names itself")
        raise TwoArgError(7, "two-argument failure")


def test_module_type_constants_are_the_upstream_strings():
    expected = {
        'TRAINER': 'trainer', 'PIPELINE': 'pipeline', 'PROCESSOR': 'processor', 'TOKENIZER': 'tokenizer',
        'DATASET': 'dataset', 'MASK_POLICY': 'mask_policy', 'DATASET_LOADER': 'dataset_loader',
        'DATASET_SAMPLER': 'dataset_sampler', 'TRANSFORMS': 'transforms', 'ENCODER': 'encoder', 'MODELS': 'models',
        'MODULES': 'modules', 'TRANSFORMER': 'transformer', 'BASE_LAYER': 'base_layer', 'CORE': 'core',
        'HEAD': 'head', 'LOSS': 'loss', 'LR': 'lr', 'OPTIMIZER': 'optimizer', 'CONTEXT': 'context',
        'CALLBACK': 'callback', 'WRAPPER': 'wrapper', 'METRIC': 'metric', 'CONFIG': 'config', 'TOOLS': 'tools',
        'FEATURE_EXTRACTOR': 'feature_extractor', 'DATA_HANDLER': 'data_handler',
    }
    actual = {k: v for k, v in vars(MindFormerModuleType).items() if not k.startswith('_')}
    assert actual == expected


def test_register_decorator_uses_class_name_and_returns_the_class():
    @MindFormerRegister.register(TEST_TYPE)
    class Widget:
        pass

    assert Widget.__name__ == 'Widget'  # the decorator returns the class itself
    assert MindFormerRegister.is_exist(TEST_TYPE)
    assert MindFormerRegister.is_exist(TEST_TYPE, 'Widget')
    assert MindFormerRegister.get_cls(TEST_TYPE, 'Widget') is Widget


def test_register_with_alias_registers_only_the_alias():
    @MindFormerRegister.register(TEST_TYPE, alias='widget_alias')
    class Widget:
        pass

    assert MindFormerRegister.get_cls(TEST_TYPE, 'widget_alias') is Widget
    assert not MindFormerRegister.is_exist(TEST_TYPE, 'Widget')


def test_register_default_module_type_is_tools():
    class ToolForRegisterTest:
        pass

    try:
        MindFormerRegister.register_cls(ToolForRegisterTest)
        assert MindFormerRegister.get_cls(MindFormerModuleType.TOOLS, 'ToolForRegisterTest') is ToolForRegisterTest
    finally:
        MindFormerRegister.registry[MindFormerModuleType.TOOLS].pop('ToolForRegisterTest')


def test_reregistering_a_name_replaces_the_earlier_class():
    class First:
        pass

    class Second:
        pass

    MindFormerRegister.register_cls(First, TEST_TYPE, alias='thing')
    MindFormerRegister.register_cls(Second, TEST_TYPE, alias='thing')
    assert MindFormerRegister.get_cls(TEST_TYPE, 'thing') is Second


def test_is_exist_is_false_for_unknown_type_and_name():
    assert not MindFormerRegister.is_exist(TEST_TYPE)
    assert not MindFormerRegister.is_exist(TEST_TYPE, 'Box')
    MindFormerRegister.register_cls(Box, TEST_TYPE)
    assert not MindFormerRegister.is_exist(TEST_TYPE, 'Crate')


def test_get_cls_unknown_module_type_raises_value_error_naming_it():
    with pytest.raises(ValueError, match=TEST_TYPE):
        MindFormerRegister.get_cls(TEST_TYPE, 'Box')


def test_get_cls_unknown_name_raises_value_error_listing_registered_names():
    MindFormerRegister.register_cls(Box, TEST_TYPE)
    with pytest.raises(ValueError) as info:
        MindFormerRegister.get_cls(TEST_TYPE, 'Crate')
    message = str(info.value)
    assert 'Crate' in message and 'Box' in message


def test_get_instance_from_cfg_builds_type_with_remaining_keys():
    MindFormerRegister.register_cls(Box, TEST_TYPE)
    cfg = {'type': 'Box', 'size': 3}
    box = MindFormerRegister.get_instance_from_cfg(cfg, TEST_TYPE)
    assert isinstance(box, Box)
    assert (box.size, box.color) == (3, 'red')
    assert cfg == {'type': 'Box', 'size': 3}  # the caller's dict is not consumed


def test_get_instance_from_cfg_accepts_mindformer_config():
    MindFormerRegister.register_cls(Box, TEST_TYPE)
    box = MindFormerRegister.get_instance_from_cfg(MindFormerConfig(type='Box', color='blue'), TEST_TYPE)
    assert (box.size, box.color) == (1, 'blue')


def test_get_instance_from_cfg_default_args_override_cfg_keys():
    MindFormerRegister.register_cls(Box, TEST_TYPE)
    box = MindFormerRegister.get_instance_from_cfg({'type': 'Box', 'size': 3, 'color': 'blue'}, TEST_TYPE,
                                                   default_args={'size': 9})
    assert (box.size, box.color) == (9, 'blue')


def test_get_instance_from_cfg_accepts_a_class_as_type():
    box = MindFormerRegister.get_instance_from_cfg({'type': Box, 'size': 5}, TEST_TYPE)
    assert isinstance(box, Box) and box.size == 5


def test_get_instance_from_cfg_without_type_raises_key_error():
    with pytest.raises(KeyError, match='type'):
        MindFormerRegister.get_instance_from_cfg({'size': 3}, TEST_TYPE)


def test_get_instance_from_cfg_non_dict_raises_type_error():
    with pytest.raises(TypeError):
        MindFormerRegister.get_instance_from_cfg(['Box'], TEST_TYPE)


def test_get_instance_from_cfg_unknown_type_raises_value_error():
    MindFormerRegister.register_cls(Box, TEST_TYPE)
    with pytest.raises(ValueError, match='Crate'):
        MindFormerRegister.get_instance_from_cfg({'type': 'Crate'}, TEST_TYPE)


def test_constructor_error_keeps_its_type_and_gets_the_class_name_prefix():
    MindFormerRegister.register_cls(Fails, TEST_TYPE)
    with pytest.raises(ValueError, match=r'^Fails: size must be positive$'):
        MindFormerRegister.get_instance_from_cfg({'type': 'Fails'}, TEST_TYPE)
    with pytest.raises(ConfigError, match=r'^Fails: bad size$'):
        MindFormerRegister.get_instance_from_cfg({'type': 'Fails', 'kind': 'config'}, TEST_TYPE)
    with pytest.raises(ConfigError, match=r'^Fails: already names itself$'):   # not "Fails: Fails: ..."
        MindFormerRegister.get_instance_from_cfg({'type': 'Fails', 'kind': 'named'}, TEST_TYPE)


def test_constructor_error_with_multi_argument_exception_is_not_masked():
    MindFormerRegister.register_cls(Fails, TEST_TYPE)
    with pytest.raises(TwoArgError) as info:
        MindFormerRegister.get_instance_from_cfg({'type': 'Fails', 'kind': 'two'}, TEST_TYPE)
    assert info.value.code == 7


def test_get_instance_builds_named_class_with_kwargs():
    MindFormerRegister.register_cls(Box, TEST_TYPE)
    box = MindFormerRegister.get_instance(TEST_TYPE, 'Box', size=4)
    assert box.size == 4


def test_get_instance_without_class_name_raises():
    with pytest.raises(ValueError):
        MindFormerRegister.get_instance(TEST_TYPE)


def test_auto_register_loads_class_from_register_path(tmp_path, monkeypatch):
    (tmp_path / 'my_unit_test_plugin.py').write_text(textwrap.dedent("""
        class PluginBox:
            def __init__(self, size=1):
                self.size = size
    """))
    monkeypatch.setenv('REGISTER_PATH', str(tmp_path))
    monkeypatch.setattr('sys.path', list(__import__('sys').path))
    obj = MindFormerRegister.get_instance_from_cfg(
        {'type': 'PluginBox', 'auto_register': 'my_unit_test_plugin.PluginBox', 'size': 6}, TEST_TYPE)
    assert type(obj).__name__ == 'PluginBox' and obj.size == 6
    assert MindFormerRegister.is_exist(TEST_TYPE, 'PluginBox')
    __import__('sys').modules.pop('my_unit_test_plugin', None)


def test_auto_register_without_register_path_names_the_class(monkeypatch):
    monkeypatch.delenv('REGISTER_PATH', raising=False)
    with pytest.raises(ValueError, match='plugin.Thing'):
        MindFormerRegister.get_instance_from_cfg({'type': 'Thing', 'auto_register': 'plugin.Thing'}, TEST_TYPE)


@pytest.mark.parametrize('module_type, name', [
    (MindFormerModuleType.MODELS, 'LlamaForCausalLM'),
    (MindFormerModuleType.CONFIG, 'LlamaConfig'),
    (MindFormerModuleType.CALLBACK, 'MFLossMonitor'),
    (MindFormerModuleType.CALLBACK, 'CheckpointMonitor'),
    (MindFormerModuleType.CALLBACK, 'CheckpointMointor'),
    (MindFormerModuleType.METRIC, 'PerplexityMetric'),
    (MindFormerModuleType.WRAPPER, 'MFTrainOneStepCell'),
    (MindFormerModuleType.WRAPPER, 'mf_wrapper'),
    (MindFormerModuleType.WRAPPER, 'wrapper'),
    (MindFormerModuleType.WRAPPER, 'loss_scale_wrapper'),
    (MindFormerModuleType.LOSS, 'CrossEntropyLoss'),
    (MindFormerModuleType.LR, 'constant_with_warmup'),
    (MindFormerModuleType.LR, 'linear'),
    (MindFormerModuleType.LR, 'cosine'),
    (MindFormerModuleType.LR, 'cosine_with_restarts'),
    (MindFormerModuleType.LR, 'polynomial'),
    (MindFormerModuleType.OPTIMIZER, 'adamw'),
    (MindFormerModuleType.OPTIMIZER, 'fused_adamw'),
    (MindFormerModuleType.OPTIMIZER, 'fp32_adamw'),
    (MindFormerModuleType.OPTIMIZER, 'sgd'),
])
def test_builtin_components_are_registered_under_upstream_names(module_type, name):
    assert MindFormerRegister.is_exist(module_type, name)
