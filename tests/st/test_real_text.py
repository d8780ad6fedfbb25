"""Pre-training on real English text (Jane Austen) with the real LLaMA-style tokenizer: the loss falls."""
import os
import subprocess
import sys

import numpy as np

from conftest import ROOT, run_cli, losses, write_yaml


def test_pretrain_loss_falls_on_austen(tmp_path, shared_dir):
    text = os.path.join(shared_dir, 'data', 'text', 'austen', 'prideprejudice.txt')
    tokenizer = os.path.join(shared_dir, 'data', 'tokenizers', 'llama_style_spm', 'tokenizer.model')
    excerpt = tmp_path / 'pride.txt'
    with open(text, encoding='utf-8') as stream:
        excerpt.write_text(''.join(stream.readlines()[:6000]))
    data = tmp_path / 'pride.mindrecord'
    prep = subprocess.run([sys.executable, os.path.join(ROOT, 'mindformers', 'tools', 'dataset_preprocess', 'llama',
                                                        'llama_preprocess.py'), '--dataset_type', 'wiki',
                           '--input_glob', str(excerpt), '--model_file', tokenizer, '--seq_length', '64',
                           '--output_file', str(data)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert prep.returncode == 0, prep.stderr[-2000:]
    assert 'Transformed' in prep.stdout
    config = write_yaml(tmp_path / 'austen.yaml', epochs=1, batch_size=8, seq_length=64, vocab_size=32000,
                        save_steps=1000, keep_max=1)
    result = run_cli(['--config', config, '--train_dataset_dir', str(data), '--runner_config.stop_step', '60',
                      '--optimizer.learning_rate', '3.e-3', '--lr_schedule.learning_rate', '3.e-3',
                      '--lr_schedule.lr_end', '1.e-3', '--lr_schedule.warmup_ratio', '0.02'], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    values = losses(result.stdout)
    assert len(values) == 60
    start, end = np.mean(values[:10]), np.mean(values[-10:])
    assert start > 9.0  # about ln(32000) = 10.4 at random init
    assert end < start - 3.0, (start, end)   # measured 10.2 -> 6.6 at step 60 (AMD EPYC)
