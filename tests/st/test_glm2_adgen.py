"""ChatGLM2 on ADGEN-style data from the commands a user types: run_glm2_tiny.yaml reads the JSON lines through
ADGenDataLoader + KeyWordGenDataset with a ChatGLM2Tokenizer, fine-tunes until the loss falls, and `--run_mode eval`
scores the generated answers with ADGENMetric (ROUGE / BLEU): high after training, near zero before; `model.chat()`
on the trained checkpoint answers as the evaluation generated."""
import ast
import glob
import os
import re
import shutil

import numpy as np

from adgen_data import adgen_rows, train_glm_tokenizer, write_adgen
from conftest import ROOT, losses, run_cli

TINY = os.path.join(ROOT, 'configs', 'glm2', 'run_glm2_tiny.yaml')
RESULT_RE = re.compile(r"ADGENMetric = (\{[^}]*\})")
PREDICTION_RE = re.compile(r"pred is:\n(.*)\nlabel is:\n(.*)\n")


def _scores(stdout):
    found = RESULT_RE.findall(stdout)
    assert found, stdout[-3000:]
    return ast.literal_eval(found[-1])


def test_finetune_on_adgen_then_eval_scores_the_generated_answers(tmp_path, pynative):  # pylint: disable=unused-argument
    train_rows = adgen_rows(256, 0)
    train = write_adgen(tmp_path / 'train.json', train_rows)
    dev_rows = adgen_rows(8, 1)
    dev = write_adgen(tmp_path / 'dev.json', dev_rows)
    vocab = train_glm_tokenizer(tmp_path / 'tokenizer.model', train_rows)
    common = ['--config', TINY, '--model.model_config.padded_vocab_size', '365',
              '--train_dataset.tokenizer.vocab_file', vocab, '--eval_dataset.tokenizer.vocab_file', vocab,
              '--processor.tokenizer.vocab_file', vocab]
    for folder in ('before', 'after'):
        (tmp_path / folder).mkdir()

    before = run_cli(common + ['--run_mode', 'eval', '--eval_dataset_dir', dev], tmp_path / 'before')
    assert before.returncode == 0, before.stderr[-3000:]
    untrained = _scores(before.stdout)

    trained_run = run_cli(common + ['--run_mode', 'train', '--train_dataset_dir', train, '--runner_config.epochs', '3'],
                          tmp_path)
    assert trained_run.returncode == 0, trained_run.stderr[-3000:]
    values = losses(trained_run.stdout)
    assert len(values) == 192 and values[0] > 5.0        # 3 epochs of 256 rows / batch 4; ln(365) = 5.9
    assert np.mean(values[-8:]) < 1.0, values[-8:]       # measured 0.69 (AMD EPYC)

    checkpoint = os.path.join(tmp_path, 'output', 'checkpoint', 'rank_0')
    after = run_cli(common + ['--run_mode', 'eval', '--eval_dataset_dir', dev, '--load_checkpoint', checkpoint],
                    tmp_path / 'after')
    assert after.returncode == 0, after.stderr[-3000:]
    trained = _scores(after.stdout)
    assert 'rouge-1:' in after.stdout and 'bleu-4:' in after.stdout
    # measured: trained rouge-1 92.3 / bleu-4 83.6, untrained 7.5 / 1.1 (AMD EPYC)
    assert trained['rouge-1'] > 80 and trained['bleu-4'] > 70, trained
    assert untrained['rouge-1'] < 20 and untrained['bleu-4'] < 10, untrained

    # chat() on the trained checkpoint: the same prompt and greedy decoding as the evaluation
    from mindformers import AutoModel, ChatGLM2Tokenizer  # pylint: disable=import-outside-toplevel
    generated = PREDICTION_RE.findall(after.stdout)
    assert [label for _, label in generated] == [row['summary'] for row in dev_rows]
    model_dir = tmp_path / 'model'
    model_dir.mkdir()
    shutil.copy(TINY, model_dir)
    shutil.copy(sorted(glob.glob(os.path.join(checkpoint, '*.ckpt')))[-1], model_dir)
    model = AutoModel.from_pretrained(str(model_dir), padded_vocab_size=365)
    tokenizer = ChatGLM2Tokenizer(vocab)
    answers = [model.chat(tokenizer, row['content'], do_sample=False)[0] for row in dev_rows]
    assert answers == [prediction for prediction, _ in generated]
    # every answer has the summaries' form; which colour/type piece it picks is what ROUGE/BLEU above measure
    form = re.compile(r'这款(红色|白色|黑色|蓝色)(裙|裤|上衣|外套)，(简约|复古|休闲|性感)的设计，(条纹|格子|纯色|印花)图案很好看。')
    assert all(form.fullmatch(answer) for answer in answers), answers
