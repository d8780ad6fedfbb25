"""AutoConfig / AutoModel / AutoTokenizer / AutoProcessor, MindFormerBook names and named-weight resolution."""
import os
import shutil
import urllib.request

import numpy as np
import pytest
import mindspore as ms

from mindformers import (AutoConfig, AutoModel, AutoTokenizer, AutoProcessor, BPETokenizer, LlamaConfig,
                         LlamaForCausalLM, MindFormerBook)
from mindformers import mindformer_book
from mindformers.tools import download
from mindformers.tools.errors import CheckpointError, ConfigError, NotAvailableError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SHARED = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'tokenizers')
GPT2_DIR = os.path.join(SHARED, 'gpt2')
SPM = os.path.join(SHARED, 'llama_style_spm', 'tokenizer.model')
SMALL = dict(seq_length=16, hidden_size=32, num_heads=4, n_kv_heads=2, vocab_size=64, multiple_of=16)
TOKENS = ms.Tensor([[5, 6, 7, 8, 9]], ms.int32)


@pytest.fixture(autouse=True)
def _download_folder(tmp_path, monkeypatch):
    previous = ms.get_context('mode')
    ms.set_context(mode=ms.PYNATIVE_MODE)
    monkeypatch.setenv('CHECKPOINT_DOWNLOAD_FOLDER', str(tmp_path / 'checkpoint_download'))
    yield
    ms.set_context(mode=previous)


def no_network(*args, **kwargs):
    raise AssertionError(f"network access attempted: {args}")


def logits(model):
    model.set_train(False)
    return model(TOKENS)[0].asnumpy()


def test_auto_config_from_name_caches_yaml_under_checkpoint_download(tmp_path):
    config = AutoConfig.from_pretrained('llama2_tiny', seq_length=16)
    assert isinstance(config, LlamaConfig)
    assert (config.seq_length, config.hidden_size, config.num_layers) == (16, 128, 2)
    assert os.path.isfile(tmp_path / 'checkpoint_download' / 'llama2' / 'llama2_tiny.yaml')


def test_auto_config_from_yaml_path_and_directory(tmp_path):
    yaml_path = os.path.join(ROOT, 'configs', 'llama2', 'pretrain_llama2_7b.yaml')
    assert AutoConfig.from_pretrained(yaml_path).hidden_size == 4096
    LlamaConfig(**SMALL).save_pretrained(str(tmp_path / 'saved'))
    assert AutoConfig.from_pretrained(str(tmp_path / 'saved')).hidden_size == 32


def test_saved_model_and_tokenizer_load_back_identical(tmp_path):
    if not os.path.isdir(GPT2_DIR):
        pytest.skip(f"the real GPT-2 vocabulary (../shared/data/tokenizers/gpt2) is not at {GPT2_DIR}")
    model = AutoModel.from_config(AutoConfig.from_pretrained('llama2_tiny', **SMALL))
    tokenizer = BPETokenizer.from_pretrained(GPT2_DIR)
    model.save_pretrained(str(tmp_path / 'saved'))
    tokenizer.save_pretrained(str(tmp_path / 'saved'))
    loaded = AutoModel.from_pretrained(str(tmp_path / 'saved'))
    assert np.array_equal(logits(loaded), logits(model))
    assert np.array_equal(logits(LlamaForCausalLM.from_pretrained(str(tmp_path / 'saved'))), logits(model))
    loaded_tokenizer = AutoTokenizer.from_pretrained(str(tmp_path / 'saved'))
    assert isinstance(loaded_tokenizer, BPETokenizer)
    text = "Hello world, it's 2024!"
    assert loaded_tokenizer.encode(text) == tokenizer.encode(text) == [15496, 995, 11, 340, 338, 48609, 0]


def test_named_checkpoint_at_its_path_is_loaded_without_network(tmp_path, monkeypatch):
    model = AutoModel.from_config(AutoConfig.from_pretrained('llama2_tiny', **SMALL))
    place = tmp_path / 'checkpoint_download' / 'llama2' / 'llama2_tiny.ckpt'
    ms.save_checkpoint(model, str(place))
    monkeypatch.setattr(urllib.request, 'urlopen', no_network)
    loaded = AutoModel.from_pretrained('llama2_tiny', **SMALL)
    assert np.array_equal(logits(loaded), logits(model))


def test_offline_named_checkpoint_is_one_error_naming_url_and_path(tmp_path, monkeypatch):
    url = 'http://127.0.0.1:9/MindFormers/llama2/llama2_7b.ckpt'  # the discard port: refused at once
    monkeypatch.setitem(mindformer_book._MODEL_CKPT_URL_LIST, 'llama2_7b', [url])  # pylint: disable=W0212
    place = tmp_path / 'checkpoint_download' / 'llama2' / 'llama2_7b.ckpt'
    with pytest.raises(CheckpointError) as error:
        AutoModel.from_pretrained('llama2_7b')
    assert str(error.value).startswith(f"cannot download {url} (")
    assert str(error.value).endswith(f"download it yourself and place it at {place}")
    assert os.listdir(place.parent) == ['llama2_7b.yaml']   # nothing half-written


def test_download_with_progress_bar_fetches_the_file(tmp_path):
    source = tmp_path / 'remote.bin'
    source.write_bytes(b'x' * 3000)
    target = tmp_path / 'cache' / 'llama2' / 'got.ckpt'
    download.download_with_progress_bar(source.as_uri(), str(target))
    assert target.read_bytes() == b'x' * 3000


def test_unknown_model_name_lists_close_matches():
    with pytest.raises(ConfigError, match=r"unknown model name 'llama2_7c'; did you mean \['llama2_7b'"):
        AutoModel.from_pretrained('llama2_7c')


def test_name_of_a_family_not_built_yet_is_not_available():
    with pytest.raises(NotAvailableError, match="model 'sam_vit_b' .*not available yet"):
        AutoConfig.from_pretrained('sam_vit_b')


def test_unbuilt_name_of_a_built_family_names_what_the_family_has(monkeypatch):
    import mindformers.mindformer_book as book  # pylint: disable=import-outside-toplevel
    monkeypatch.setitem(book._MODEL_SUPPORT_LIST, 'glm2', ['glm2_6b', 'glm2_12b', 'glm2_tiny'])   # glm2_12b: no YAML
    with pytest.raises(NotAvailableError, match=r"model 'glm2_12b' \(family 'glm2'\) is not available yet in "
                                                r"this build; its family has: \['glm2_6b', 'glm2_tiny'\]"):
        AutoConfig.from_pretrained('glm2_12b')
    config = AutoConfig.from_pretrained('glm2_6b')
    assert type(config).__name__ == 'ChatGLM2Config' and config.num_layers == 28 and config.seq_length == 193


def test_a_name_whose_yaml_has_a_base_config_is_cached_merged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = AutoConfig.from_pretrained('glm2_tiny_lora')
    assert type(config).__name__ == 'ChatGLM2Config' and config.num_layers == 2
    assert config.pet_config['lora_rank'] == 8


def test_directory_with_neither_layout_is_an_error(tmp_path):
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(CheckpointError, match=r"holds neither \*\.yaml \+ \*\.ckpt nor config\.json \+ "
                                              r"\*\.safetensors"):
        AutoModel.from_pretrained(str(tmp_path))


def test_auto_processor_from_yaml_returns_text_tensor(tmp_path):
    if not os.path.isfile(SPM):
        pytest.skip(f"{SPM} missing")
    yaml_path = tmp_path / 'run.yaml'
    yaml_path.write_text(f"processor:\n  type: LlamaProcessor\n  max_length: 12\n  tokenizer:\n"
                         f"    type: LlamaTokenizer\n    vocab_file: {SPM}\n")
    processor = AutoProcessor.from_pretrained(str(yaml_path))
    out = processor("hello world")
    assert list(out) == ['text'] and out['text'].shape == (1, 12)
    assert type(AutoTokenizer.from_pretrained(str(yaml_path))).__name__ == 'LlamaTokenizer'


def test_book_tables_and_support_lists():
    assert 'llama2_7b' in MindFormerBook.get_model_ckpt_url_list()
    assert MindFormerBook.get_model_ckpt_url_list()['llama2_7b'][0].endswith('/llama2/llama2_7b.ckpt')
    assert 'text_generation' in MindFormerBook.get_pipeline_support_task_list()
    assert 'llama2_7b' in LlamaForCausalLM.get_support_list()
    assert 'glm2' in MindFormerBook.get_model_support_list()


def test_from_config_accepts_yaml_path_and_run_config():
    from mindformers import MindFormerConfig  # pylint: disable=import-outside-toplevel
    yaml_path = os.path.join(ROOT, 'configs', 'llama2', 'pretrain_llama2_tiny.yaml')
    model = AutoModel.from_config(yaml_path, **SMALL)
    assert isinstance(model, LlamaForCausalLM) and model.config.hidden_size == 32
    model = AutoModel.from_config(MindFormerConfig(yaml_path), download_checkpoint=False, **SMALL)
    assert model.config.seq_length == 16


def test_family_config_from_pretrained_accepts_a_model_name(tmp_path, monkeypatch):
    from mindformers import LlamaConfig  # pylint: disable=import-outside-toplevel
    monkeypatch.setenv('CHECKPOINT_DOWNLOAD_FOLDER', str(tmp_path))
    config = LlamaConfig.from_pretrained('llama2_7b', seq_length=512)
    assert (config.hidden_size, config.num_layers, config.seq_length) == (4096, 32, 512)
    assert (tmp_path / 'llama2' / 'llama2_7b.yaml').is_file()


def _write(folder, **files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace('__', '.')).write_text(text, encoding='utf-8')
    return str(folder)


def test_auto_tokenizer_follows_the_directory_declaration_not_a_stray_tokenizer_model(tmp_path):
    """A sentencepiece file alone used to mean LlamaTokenizer whatever tokenizer_config.json declared."""
    folder = _write(tmp_path / 'xlnet', tokenizer__model='not read',
                    tokenizer_config__json='{"tokenizer_class": "XLNetTokenizer"}')
    with pytest.raises(ConfigError) as error:
        AutoTokenizer.from_pretrained(folder)
    assert str(error.value) == (f"{folder}/tokenizer_config.json declares tokenizer_class XLNetTokenizer, which this "
                                f"build has no tokenizer for")
    folder = _write(tmp_path / 't5', tokenizer__model='not read',
                    tokenizer_config__json='{"tokenizer_class": "T5Tokenizer"}')
    with pytest.raises(ConfigError) as error:
        AutoTokenizer.from_pretrained(folder)
    assert str(error.value).startswith(f"{folder}/tokenizer_config.json declares T5Tokenizer but the directory has "
                                       f"no spiece.model")


def test_auto_tokenizer_declaration_that_the_files_contradict_is_one_error(tmp_path):
    folder = _write(tmp_path / 'llama', vocab__json='{}', merges__txt='',
                    tokenizer_config__json='{"tokenizer_class": "LlamaTokenizer"}')
    with pytest.raises(ConfigError) as error:
        AutoTokenizer.from_pretrained(folder)
    assert str(error.value) == (f"{folder}/tokenizer_config.json declares LlamaTokenizer but the directory has no "
                                f"tokenizer.model; it holds ['merges.txt', 'tokenizer_config.json', 'vocab.json']")


def test_auto_tokenizer_unreadable_tokenizer_config_is_one_error(tmp_path):
    folder = _write(tmp_path / 'broken', tokenizer__model='x', tokenizer_config__json='{"tokenizer_class": ')
    with pytest.raises(ConfigError, match=r"cannot read .*broken/tokenizer_config.json: Expecting value"):
        AutoTokenizer.from_pretrained(folder)


def test_auto_tokenizer_declared_gpt2_with_bpe_files_is_the_byte_level_bpe(tmp_path):
    if not os.path.isdir(GPT2_DIR):
        pytest.skip(f"the real GPT-2 vocabulary (../shared/data/tokenizers/gpt2) is not at {GPT2_DIR}")
    folder = tmp_path / 'gpt2'
    folder.mkdir()
    for name in ('vocab.json', 'merges.txt'):
        shutil.copyfile(os.path.join(GPT2_DIR, name), folder / name)
    (folder / 'tokenizer.model').write_text('a stray file')
    (folder / 'tokenizer_config.json').write_text('{"tokenizer_class": "GPT2Tokenizer"}')
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    assert type(tokenizer).__name__ == 'BPETokenizer' and tokenizer.encode('hello!') == [31373, 0]
