"""scripts/examples/distribute_task.py (the upstream multi-card Trainer example: semi-auto parallel with full_batch,
Trainer.set_parallel_config) as a user launches it with msrun_launcher.sh on 2 CPU workers and the tiny GPT-2: it
runs as data parallel (each rank its shard, one log line says so), the loss falls and both ranks end with the same
weights; model_parallel 2 stops with one line."""
import os
import re

import numpy as np
import pytest

from conftest import ROOT, losses
from test_distributed_msrun import free_port, launch, load_params
from test_standalone_task import gpt2_user_folder

SCRIPT = os.path.join(ROOT, 'scripts', 'examples', 'distribute_task.py')
TINY = os.path.join(ROOT, 'configs', 'gpt2', 'run_gpt2_tiny.yaml')


@pytest.fixture(name='work', scope='module')
def fixture_work(tmp_path_factory):
    """The GPT-2 vocabulary in checkpoint_download/gpt2/, the tiny GPT-2 YAML at seq_length 32 (a quarter of the
    compute) and ./train from the wikitext2 tool: 434 rows of 33 tokens, so each of 2 ranks has the >= 100 steps
    the example's warmup_steps=100 needs."""
    work = gpt2_user_folder(tmp_path_factory.mktemp('distribute'), {'train': (0, 1150)}, 33)
    with open(TINY, encoding='utf-8') as stream:
        text = stream.read()
    assert text.count('seq_length: 128') == 1
    (work / 'gpt2_tiny_32.yaml').write_text(text.replace('seq_length: 128', 'seq_length: 32'), encoding='utf-8')
    return work


def order(*extra):
    return ' '.join([SCRIPT, '--task', 'text_generation', '--model_type', 'gpt2_tiny_32.yaml', '--train_dataset',
                     './train', '--run_mode', 'train', '--device_target', 'CPU'] + list(extra))


def test_semi_auto_example_trains_as_data_parallel_on_two_cpu_workers(work):
    result = launch([order(), 2, free_port(), 'output/msrun_log', 'True', 300], work, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:]
    finals = []
    for rank in (0, 1):
        info = (work / 'output' / 'log' / f'rank_{rank}' / 'info.log').read_text()
        assert 'parallel_mode semi_auto_parallel runs as data_parallel on CPU' in info
        assert 'ignored: enable_parallel_optimizer, full_batch' in info
        assert 'dataset: 217 records on this rank, batch_size 2 -> 108 steps per epoch' in info
        assert 'global_batch_size = batch_size 2 x gradient_accumulation_steps 1 x data parallel 2 = 4' in info
        values = losses(info)
        assert len(values) == 108
        assert np.mean(values[-10:]) < np.mean(values[:10]) - 1.0      # measured 10.8 -> 7.1 (AMD EPYC)
        folder = work / 'output' / 'checkpoint' / f'rank_{rank}'
        final = max(folder.glob('*.ckpt'), key=lambda path: int(re.findall(r'\d+', path.name)[-1]))
        finals.append(load_params(final))
    for name, value in finals[0].items():       # data parallel: every rank applies the same averaged gradient
        if name.startswith(('model.', 'lm_head', 'backbone')):
            np.testing.assert_array_equal(value, finals[1][name], err_msg=name)


def test_model_parallel_on_cpu_stops_with_one_line(work):
    result = launch([order('--model_parallel', '2', '--data_parallel', '1'), 2, free_port(), 'output/msrun_mp',
                     'True', 15], work)
    assert result.returncode != 0
    log = (work / 'output' / 'msrun_mp' / 'worker_0.log').read_text()
    assert 'distribute_task.py: error: parallel_config.model_parallel=2, pipeline_stage=1 need semi_auto_parallel, ' \
           'which MindSpore cannot run on CPU; set both to 1 (data parallel)' in log, log[-2000:]
    assert 'Traceback' not in log
