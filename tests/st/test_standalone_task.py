"""scripts/examples/standalone_task.py (the upstream single-card Trainer example) as a user types it, on the tiny
GPT-2 and real English text: train, eval, LoRA fine-tune and predict, each checked against numbers computed here
from the checkpoint the run wrote."""
import ast
import os
import re
import shutil

import numpy as np
import pytest

from conftest import ROOT, SHARED, losses, run_script

SCRIPT = os.path.join(ROOT, 'scripts', 'examples', 'standalone_task.py')
TOOL = os.path.join(ROOT, 'mindformers', 'tools', 'dataset_preprocess', 'gpt2', 'wikitext2_data_process.py')
TINY = os.path.join(ROOT, 'configs', 'gpt2', 'run_gpt2_tiny.yaml')
GPT2_VOCAB = os.path.join(SHARED, 'data', 'tokenizers', 'gpt2')
AUSTEN = os.path.join(SHARED, 'data', 'text', 'austen', 'persuasion.txt')
LR_RE = re.compile(r'step:\[\s*(\d+)/\s*\d+\], loss:\[[^]]*\], per_step_time: \d+ms, lr: ([0-9.e+-]+)')


def gpt2_user_folder(work, splits, max_length):
    """A user's folder: the GPT-2 vocabulary in checkpoint_download/gpt2/ and, for each {name: (first, last)} line
    range of Persuasion, ./<name>/wiki.mindrecord from the wikitext2 tool (rows of max_length tokens)."""
    if not os.path.isdir(GPT2_VOCAB) or not os.path.isfile(AUSTEN):
        pytest.skip("needs ../shared/data (GPT-2 vocabulary and the Austen texts)")
    shutil.copytree(GPT2_VOCAB, work / 'checkpoint_download' / 'gpt2')
    with open(AUSTEN, encoding='utf-8') as stream:
        lines = stream.readlines()
    for name, (first, last) in splits.items():
        (work / f'{name}.txt').write_text(''.join(lines[first:last]), encoding='utf-8')
        (work / name).mkdir()
        result = run_script(TOOL, ['--input_file', f'{name}.txt', '--output_file', f'{name}/wiki.mindrecord',
                                   '--max_length', max_length], work)
        assert result.returncode == 0, result.stderr[-2000:]
    return work


@pytest.fixture(name='work', scope='module')
def fixture_work(tmp_path_factory):
    """./train and ./eval of 129-token rows, for the tiny GPT-2's seq_length 128."""
    return gpt2_user_folder(tmp_path_factory.mktemp('standalone'), {'train': (0, 2100), 'eval': (4000, 4200)}, 129)


def standalone(work, *args):
    return run_script(SCRIPT, ['--task', 'text_generation', '--model_type', 'gpt2_tiny'] + list(args), work,
                      timeout=900)


@pytest.fixture(name='trained', scope='module')
def fixture_trained(work):
    result = standalone(work, '--train_dataset', './train', '--run_mode', 'train')
    assert result.returncode == 0, result.stderr[-3000:]
    folder = work / 'output' / 'checkpoint' / 'rank_0'
    final = max(folder.glob('gpt2_tiny_rank_0-*.ckpt'), key=lambda p: int(p.stem.rsplit('_', 1)[1]))
    return result.stderr + result.stdout, final


def tiny_model(checkpoint):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers.models.build_model import build_network  # pylint: disable=import-outside-toplevel
    from mindformers.tools.register import MindFormerConfig  # pylint: disable=import-outside-toplevel
    config = MindFormerConfig(TINY)
    config.model.model_config.checkpoint_name_or_path = str(checkpoint)
    previous = ms.get_context('mode')
    ms.set_context(mode=ms.PYNATIVE_MODE)
    model = build_network(config.model)
    model.set_train(False)
    return model, previous


def test_train_uses_the_training_arguments_and_learns_persuasion(trained):
    log, final = trained
    steps = {int(step): float(lr) for step, lr in LR_RE.findall(log)}
    total = max(steps)
    assert total >= 100 and final.stem.endswith(f'-1_{total}')   # one epoch of batch 2, one checkpoint at the end
    # TrainingArguments(learning_rate=0.001, warmup_steps=100): a linear warm-up to 1e-3 at step 100
    assert steps[51] == pytest.approx(0.001 * 50 / 100, rel=1e-3)
    assert steps[total] < steps[100] <= 0.001
    values = losses(log)
    assert np.mean(values[:5]) > 10.0 and np.mean(values[-10:]) < 8.0  # from ln(50257) = 10.8 on real text


def test_eval_prints_the_perplexity_of_the_trained_checkpoint(work, trained):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    import mindspore.dataset as ds  # pylint: disable=import-outside-toplevel
    _, final = trained
    result = standalone(work, '--eval_dataset', './eval', '--run_mode', 'eval', '--checkpoint', str(final))
    assert result.returncode == 0, result.stderr[-3000:]
    printed = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    model, previous = tiny_model(final)
    try:
        batch_losses = []
        rows = [r['input_ids'] for r in ds.MindDataset(str(work / 'eval' / 'wiki.mindrecord'), shuffle=False)
                .create_dict_iterator(output_numpy=True)]
        for start in range(0, len(rows), 2):   # batch 2 as TrainingArguments(batch_size=2), the last may be short
            tokens = np.stack(rows[start:start + 2]).astype(np.int32)
            logits = model(ms.Tensor(tokens))[0].asnumpy().astype(np.float64)
            log_z = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)
            picked = np.take_along_axis(logits, tokens[:, 1:, None], -1)[..., 0]
            batch_losses.append(float((log_z - picked).mean()))
    finally:
        ms.set_context(mode=previous)
    assert printed['loss'] == pytest.approx(np.mean(batch_losses), rel=1e-4)
    assert printed['PPL'] == pytest.approx(np.exp(np.mean(batch_losses)), rel=1e-3)
    assert printed['PPL'] < 2000   # a random GPT-2 tiny sits near the vocabulary size, 50257


def test_lora_finetune_starts_from_the_checkpoint_and_trains_only_lora(work, trained):
    from mindformers.tools.checkpoint import read_checkpoint  # pylint: disable=import-outside-toplevel
    train_log, final = trained
    result = standalone(work, '--train_dataset', './train', '--pet_method', 'lora', '--run_mode', 'finetune',
                        '--checkpoint', str(final))
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stderr + result.stdout
    assert 'LoRA: 4096 trainable of' in log   # rank 8 on dense1/dense3 (wq, wv) of 2 layers of width 64
    # the base weights were loaded: the first loss is that of the trained model (~7), not of a random one (10.8)
    assert losses(log)[0] < np.mean(losses(train_log)[-20:]) + 1.5 < 9.5
    # CheckpointMonitor(save_trainable_params: True) of run_gpt2_lora_tiny.yaml: the LoRA weights alone
    saved = work / 'output' / 'checkpoint_trainable' / 'rank_0' / 'gpt2_tiny_lora_rank_0-trainable_params.ckpt'
    weights = read_checkpoint(str(saved))
    assert len(weights) == 8 and all('mindpet_delta_lora' in k for k in weights), sorted(weights)
    assert any(np.abs(np.asarray(v)).max() > 0 for k, v in weights.items() if 'lora_b' in k)  # B starts at 0
    full = read_checkpoint(str(max((work / 'output' / 'checkpoint' / 'rank_0').glob('gpt2_tiny_lora_rank_0-*.ckpt'),
                                   key=os.path.getmtime)))
    base = read_checkpoint(str(final))
    frozen = [k for k in full if k.startswith('model.') and 'lora' not in k]
    assert len(frozen) == 36 and all(np.array_equal(full[k].asnumpy(), base[k].asnumpy()) for k in frozen)


def test_finetune_without_weights_is_one_line_exit_2(work):
    result = standalone(work, '--train_dataset', './train', '--pet_method', 'lora', '--run_mode', 'finetune')
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if 'error' in line]
    assert lines == ["standalone_task.py: error: finetune needs pretrained weights: give "
                     "finetune_checkpoint=<.ckpt file or checkpoint folder> (command line: --load_checkpoint) or set "
                     "load_checkpoint (or model.model_config.checkpoint_name_or_path) in the YAML"]


def test_predict_prints_the_greedy_continuation_of_the_checkpoint(work, trained):
    from mindformers import AutoTokenizer  # pylint: disable=import-outside-toplevel
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    _, final = trained
    result = standalone(work, '--predict_data', 'hello!', '--run_mode', 'predict', '--checkpoint', str(final))
    assert result.returncode == 0, result.stderr[-3000:]
    printed = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    assert printed == ast.literal_eval((work / 'text_generation_result.txt').read_text(encoding='utf-8'))
    cwd = os.getcwd()
    os.chdir(work)   # the tokenizer files of 'gpt2_tiny' are in ./checkpoint_download/gpt2/
    try:
        tokenizer = AutoTokenizer.from_pretrained('gpt2_tiny')
    finally:
        os.chdir(cwd)
    model, previous = tiny_model(final)
    try:
        ids = model.generate(tokenizer('hello!')['input_ids'], do_sample=False, max_length=40,
                             eos_token_id=tokenizer.eos_token_id)[0]
    finally:
        ms.set_context(mode=previous)
    expected = tokenizer.decode(ids.tolist(), skip_special_tokens=True)
    text = printed[0]['text_generation_text'][0]
    assert text.startswith('hello!') and len(expected) > len('hello!') and text.startswith(expected)
