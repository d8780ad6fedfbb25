"""LlamaProcessor and the builders: text -> [batch, max_length] ids; YAML `processor` sections -> objects."""
import numpy as np
import pytest

from mindformers.models import build_processor, build_tokenizer
from mindformers.models.llama import LlamaProcessor, LlamaTokenizer
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerConfig, MindFormerModuleType, MindFormerRegister


def test_llama_processor_is_registered_under_processor():
    assert MindFormerRegister.get_cls(MindFormerModuleType.PROCESSOR, 'LlamaProcessor') is LlamaProcessor


def test_one_string_gives_a_1_by_max_length_int32_tensor(tiny_model_file):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    tokenizer = LlamaTokenizer(tiny_model_file)
    processor = LlamaProcessor(tokenizer=tokenizer)
    out = processor("What color is the zorb?")
    assert list(out) == ['text']
    assert out['text'].shape == (1, 128)
    assert out['text'].dtype == ms.int32
    ids = tokenizer.encode("What color is the zorb?")
    assert out['text'].asnumpy()[0].tolist() == ids + [0] * (128 - len(ids))


def test_a_list_gives_one_row_per_string(tiny_model_file):
    processor = LlamaProcessor(tokenizer=LlamaTokenizer(tiny_model_file), max_length=16, return_tensors='np')
    assert processor(["a", "b c"])['text'].shape == (2, 16)
    assert processor() == {}


def test_processor_without_tokenizer_is_a_config_error():
    with pytest.raises(ConfigError, match='has no tokenizer'):
        LlamaProcessor()("text")


def test_build_processor_builds_the_tokenizer_section_first(tiny_model_file):
    assert build_processor() is None
    config = MindFormerConfig(processor={
        'type': 'LlamaProcessor', 'return_tensors': 'ms', 'max_length': 32,
        'tokenizer': {'type': 'LlamaTokenizer', 'vocab_file': tiny_model_file, 'pad_token': '<unk>'}})
    processor = build_processor(config.processor)
    assert isinstance(processor, LlamaProcessor)
    assert isinstance(processor.tokenizer, LlamaTokenizer)
    assert processor("hello")['text'].shape == (1, 32)
    # the caller's config is left as it was
    assert isinstance(config.processor.tokenizer, dict)


def test_build_processor_from_a_plain_dict_and_class_name(tiny_model_file):
    tokenizer = build_tokenizer({'type': 'LlamaTokenizer', 'vocab_file': tiny_model_file})
    processor = build_processor({'type': 'LlamaProcessor', 'max_length': 8}, default_args={'tokenizer': tokenizer})
    assert processor.tokenizer is tokenizer
    processor = build_processor(class_name='LlamaProcessor', tokenizer=tokenizer, max_length=4)
    assert processor.max_length == 4


def test_processor_save_pretrained_round_trips(tiny_model_file, tmp_path):
    processor = LlamaProcessor(tokenizer=LlamaTokenizer(tiny_model_file), max_length=24, padding='max_length',
                               return_tensors='np')
    processor.save_pretrained(str(tmp_path / 'saved'))
    loaded = LlamaProcessor.from_pretrained(str(tmp_path / 'saved'))
    assert (loaded.max_length, loaded.padding, loaded.return_tensors) == (24, 'max_length', 'np')
    text = ['hello world', 'a b c']
    np.testing.assert_array_equal(loaded(text)['text'], processor(text)['text'])
