"""The GLM-6B, ChatGLM2 and PanGu-Alpha names through the user entry points: `pipeline('text_generation',
model=<name>)` loads the weights and tokenizer placed in checkpoint_download/<family>/ and answers what the model's
own greedy generate answers; `Trainer(model=<name>)` resolves the upstream YAML without allocating."""
import random

import pytest
import mindspore as ms

from mindformers import AutoConfig, AutoModel, Trainer, TrainingArguments, pipeline
from adgen_data import adgen_rows, train_chatglm_tokenizer, train_pangu_tokenizer

pytestmark = pytest.mark.usefixtures("pynative")


def _place(tmp_path, monkeypatch, name, tokenizer_file, train_tokenizer, **overrides):
    """Random weights of `name` and a trained tokenizer where a user (or the downloader) puts them."""
    monkeypatch.setenv('CHECKPOINT_DOWNLOAD_FOLDER', str(tmp_path))
    folder = tmp_path / name.split('_')[0]
    folder.mkdir(parents=True, exist_ok=True)
    train_tokenizer(folder / tokenizer_file)
    ms.set_seed(0)
    model = AutoModel.from_config(AutoConfig.from_pretrained(name, **overrides))
    ms.save_checkpoint(model, str(folder / f'{name}.ckpt'))
    model.set_train(False)
    return model


@pytest.mark.parametrize('name, tokenizer_file, prompt', [
    ('glm_tiny_chat', 'ice_text.model', '类型#裙*颜色#蓝色'),
    ('pangualpha_tiny', 'vocab.model', '这是关于体育的文章：'),
])
def test_pipeline_by_name_answers_the_greedy_generate_of_the_placed_weights(tmp_path, monkeypatch, name,
                                                                              tokenizer_file, prompt):
    if name.startswith('glm'):
        def train(path):
            train_chatglm_tokenizer(path, adgen_rows(50, 0))
    else:
        def train(path):    # random CJK lines: enough pieces for the tiny config's 600 ids
            rng = random.Random(0)
            chars = [chr(0x4e00 + 7 * i) for i in range(120)]
            lines = [''.join(rng.choice(chars) for _ in range(16)) for _ in range(400)]
            train_pangu_tokenizer(path, lines + [prompt + '足球和篮球的冠军新闻'] * 20, vocab_size=600)
    model = _place(tmp_path, monkeypatch, name, tokenizer_file, train, seq_length=32)
    generator = pipeline(task='text_generation', model=name, seq_length=32, max_length=24)
    ids = generator.tokenizer(prompt)['input_ids']
    assert ids and generator.network.config.seq_length == 32
    out = generator(prompt, do_sample=False)
    expected = generator.tokenizer.decode(model.generate(ids, max_length=24, do_sample=False)[0],
                                          skip_special_tokens=True)
    assert out == [{'text_generation_text': [expected]}]
    assert len(generator.tokenizer.decode(ids, skip_special_tokens=True)) <= len(expected)


@pytest.mark.parametrize('name, config_class, model_type, sizes', [
    ('glm_6b', 'GLMConfig', 'GLMForPreTraining', (4096, 28)),
    ('glm_6b_lora', 'GLMConfig', 'GLMForPreTrainingWithLora', (4096, 28)),
    ('glm2_6b', 'ChatGLM2Config', 'ChatGLM2ForConditionalGeneration', (4096, 28)),
    ('glm2_6b_ptuning2', 'ChatGLM2Config', 'ChatGLM2WithPtuning2', (4096, 28)),
    ('pangualpha_2_6b', 'PanguAlphaConfig', 'PanguAlphaHeadModel', (2560, 32)),
    ('pangualpha_13b', 'PanguAlphaConfig', 'PanguAlphaHeadModel', (5120, 40)),
])
def test_trainer_by_name_resolves_the_upstream_yaml_without_allocating(name, config_class, model_type, sizes):
    trainer = Trainer(task='text_generation', model=name, args=TrainingArguments(use_parallel=False))
    model_config = trainer.config.model.model_config
    assert (model_config.type, trainer.config.model.arch.type) == (config_class, model_type)
    assert (model_config.hidden_size, model_config.num_layers) == sizes
    assert trainer.network is None
