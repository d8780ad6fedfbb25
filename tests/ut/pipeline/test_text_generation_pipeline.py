"""pipeline('text_generation'): strings and lists in, [{'text_generation_text': [...]}] out, kwargs to generate."""
import os
import shutil

import pytest
import mindspore as ms

from mindformers import pipeline, BPETokenizer, LlamaConfig, LlamaForCausalLM
from mindformers.tools.errors import ConfigError, NotAvailableError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GPT2_DIR = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'tokenizers', 'gpt2')


@pytest.fixture(scope='module', name='parts')
def fixture_parts():
    if not os.path.isdir(GPT2_DIR):
        pytest.skip(f"the real GPT-2 vocabulary (../shared/data/tokenizers/gpt2) is not at {GPT2_DIR}")
    previous = ms.get_context('mode')
    ms.set_context(mode=ms.PYNATIVE_MODE)
    ms.set_seed(0)
    tokenizer = BPETokenizer.from_pretrained(GPT2_DIR)
    config = LlamaConfig(seq_length=24, hidden_size=32, num_layers=1, num_heads=4, vocab_size=50257,
                         intermediate_size=32, compute_dtype='float32', param_init_type='float32',
                         pad_token_id=50256, eos_token_id=50256, bos_token_id=50256)
    model = LlamaForCausalLM(config)
    model.set_train(False)
    yield model, tokenizer
    ms.set_context(mode=previous)


def test_string_input_gives_one_text_that_extends_the_prompt(parts):
    model, tokenizer = parts
    generator = pipeline(task='text_generation', model=model, tokenizer=tokenizer, max_length=12)
    out = generator("I love Beijing, because", do_sample=False)
    ids = tokenizer("I love Beijing, because")['input_ids']
    expected = tokenizer.decode(model.generate(ids, max_length=12, do_sample=False)[0], skip_special_tokens=True)
    assert out == [{'text_generation_text': [expected]}]
    assert expected.startswith("I love Beijing, because")


def test_list_input_is_batched_by_batch_size_with_generation_kwargs(parts):
    model, tokenizer = parts
    generator = pipeline(task='text_generation', model=model, tokenizer=tokenizer, max_length=10)
    out = generator(["a b", "hello there", "one", "two three"], batch_size=2, top_k=3, do_sample=True)
    assert len(out) == 2 and all(len(chunk['text_generation_text']) == 2 for chunk in out)
    assert out[1]['text_generation_text'][0].startswith('one')


def test_list_not_a_multiple_of_batch_size_is_an_error(parts):
    model, tokenizer = parts
    with pytest.raises(ConfigError, match="3 inputs are not a multiple of batch_size 2"):
        pipeline(task='text_generation', model=model, tokenizer=tokenizer)(["a", "b", "c"], batch_size=2)


def test_task_errors():
    with pytest.raises(NotAvailableError, match="pipeline task 'segment_anything' is an upstream task"):
        pipeline(task='segment_anything', model='sam_vit_b')
    with pytest.raises(ConfigError, match=r"unknown pipeline task 'text_generate'; did you mean \['text_generation'"):
        pipeline(task='text_generate', model='llama2_7b')
    with pytest.raises(ConfigError, match="model 'llama2_7c' is not supported for this task; did you mean"):
        pipeline(task='text_generation', model='llama2_7c')


def test_model_name_uses_weights_and_tokenizer_placed_in_checkpoint_download(tmp_path, monkeypatch):
    spm = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'tokenizers', 'llama_style_spm', 'tokenizer.model')
    if not os.path.isfile(spm):
        pytest.skip(f"{spm} missing")
    from mindformers import AutoConfig, AutoModel  # pylint: disable=import-outside-toplevel
    monkeypatch.setenv('CHECKPOINT_DOWNLOAD_FOLDER', str(tmp_path))
    model = AutoModel.from_config(AutoConfig.from_pretrained('llama2_tiny', seq_length=16))
    ms.save_checkpoint(model, str(tmp_path / 'llama2' / 'llama2_tiny.ckpt'))
    shutil.copyfile(spm, tmp_path / 'llama2' / 'tokenizer.model')
    generator = pipeline(task='text_generation', model='llama2_tiny', seq_length=16, max_length=10)
    out = generator("I love Beijing, because", do_sample=False)
    ids = generator.tokenizer("I love Beijing, because")['input_ids']
    model.set_train(False)
    expected = generator.tokenizer.decode(model.generate(ids, max_length=10, do_sample=False)[0],
                                          skip_special_tokens=True)
    assert out == [{'text_generation_text': [expected]}]
