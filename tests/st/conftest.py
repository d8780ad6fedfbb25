"""Shared fixtures for end-to-end tests: tiny YAMLs, synthetic MindRecords, running the CLI."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), 'shared')
TINY_BASE = os.path.join(ROOT, 'configs', 'llama2', 'pretrain_llama2_tiny.yaml')

TINY_YAML = """base_config: {base}
runner_config:
  epochs: {epochs}
  batch_size: {batch_size}
model:
  model_config:
    seq_length: {seq_length}
    hidden_size: 32
    num_layers: 2
    num_heads: 4
    n_kv_heads: 2
    vocab_size: {vocab_size}
    multiple_of: 16
    max_decode_length: {seq_length}
optimizer:
  learning_rate: 2.e-2
lr_schedule:
  learning_rate: 2.e-2
  lr_end: 2.e-3
  warmup_ratio: 0.0
callbacks:
  - type: MFLossMonitor
    per_print_times: 1
  - type: CheckpointMonitor
    prefix: tiny
    save_checkpoint_steps: {save_steps}
    keep_checkpoint_max: {keep_max}
"""


def write_yaml(path, epochs=1, batch_size=4, seq_length=16, vocab_size=64, save_steps=4, keep_max=3, extra=''):
    text = TINY_YAML.format(base=TINY_BASE, epochs=epochs, batch_size=batch_size, seq_length=seq_length,
                            vocab_size=vocab_size, save_steps=save_steps, keep_max=keep_max) + extra
    with open(path, 'w', encoding='utf-8') as stream:
        stream.write(text)
    return str(path)


def write_mindrecord(path, rows, columns=('input_ids',)):
    """Write int32 rows; `rows` is a list of dicts or of arrays (for a single column)."""
    from mindspore.mindrecord import FileWriter  # pylint: disable=import-outside-toplevel
    writer = FileWriter(str(path), 1)
    writer.add_schema({c: {'type': 'int32', 'shape': [-1]} for c in columns}, 'test')
    records = [{k: np.asarray(v, np.int32) for k, v in r.items()} if isinstance(r, dict)
               else {columns[0]: np.asarray(r, np.int32)} for r in rows]
    writer.write_raw_data(records)
    writer.commit()
    return str(path)


def counting_rows(num_rows, seq_length, vocab_size, seed=0):
    """Rows where each token is the previous one + 1 (mod vocab, skipping pad id 0): easy to learn."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(num_rows):
        start = rng.integers(1, vocab_size)
        rows.append([(start + i - 1) % (vocab_size - 1) + 1 for i in range(seq_length + 1)])
    return rows


def run_cli(args, cwd, timeout=600, env_extra=None):
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    env['GLOG_v'] = '3'
    env.update(env_extra or {})
    return subprocess.run([sys.executable, os.path.join(ROOT, 'run_mindformer.py')] + list(args), cwd=str(cwd),
                          capture_output=True, text=True, timeout=timeout, env=env)


LOSS_RE = re.compile(r'loss:\[\s*([0-9.]+)/')


def losses(text):
    return [float(x) for x in LOSS_RE.findall(text)]


@pytest.fixture
def shared_dir():
    if not os.path.isdir(SHARED):
        pytest.skip(f"../shared (real data for this test) is not present at {SHARED}")
    return SHARED


def run_script(script, args, cwd, timeout=600):
    """Run a project script (convert_weight.py, a data tool) as a user types it."""
    return subprocess.run([sys.executable, script] + [str(a) for a in args], cwd=str(cwd), capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, PYTHONPATH=ROOT, GLOG_v='3'))


@pytest.fixture(name='pynative')
def fixture_pynative():
    """Run in PYNATIVE_MODE and restore the previous mode afterwards."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    previous = ms.get_context('mode')
    ms.set_context(mode=ms.PYNATIVE_MODE)
    yield
    ms.set_context(mode=previous)


def ours_logits(model, tokens):
    """Eval-mode logits of one of our models, as numpy."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    model.set_train(False)
    return model(ms.Tensor(np.asarray(tokens), ms.int32))[0].asnumpy()


def hf_logits(model, tokens):
    """Logits of a transformers model on the same tokens, as numpy."""
    import torch  # pylint: disable=import-outside-toplevel
    with torch.no_grad():
        return model(torch.tensor(np.asarray(tokens))).logits.numpy()


# `make test` runs these files on two xdist workers, a whole file per worker (`--dist loadfile`, so a module fixture
# is built once) in this order (`--no-loadscope-reorder`: xdist would otherwise start with the files holding the
# most tests). Files that take minutes go first so that the two workers end close together; order measured on
# 2 AMD EPYC cores, longest first. Files not listed follow in their usual order.
LONGEST_FIRST = ('test_quickstart.py', 'test_vit_image_classification.py', 'test_clip_zero_shot.py', 'test_resume.py',
                 'test_glm2_end_to_end.py', 'test_gpt2_end_to_end.py',
                 'test_standalone_task.py', 'test_distributed_msrun.py', 'test_hf_parity.py',
                 'test_gpt2_txtcls_end_to_end.py', 'test_run_modes.py')


def pytest_collection_modifyitems(items):
    def rank(item):
        name = os.path.basename(str(item.fspath))
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank)   # stable: a file's tests keep their order


def read_records(path):
    """Every row of a MindRecord file, in file order, as dicts of NumPy arrays."""
    import mindspore.dataset as ds  # pylint: disable=import-outside-toplevel
    return list(ds.MindDataset(str(path), shuffle=False).create_dict_iterator(output_numpy=True))


def model_from_yaml(yaml_path, checkpoint, **model_config):
    """The YAML's model (its model_config updated by `model_config`) with `checkpoint` loaded, in PYNATIVE_MODE and
    eval mode (the caller restores the mode)."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers.models.build_model import build_network  # pylint: disable=import-outside-toplevel
    from mindformers.tools.register import MindFormerConfig  # pylint: disable=import-outside-toplevel
    config = MindFormerConfig(yaml_path)
    config.model.model_config.checkpoint_name_or_path = str(checkpoint)
    for key, value in model_config.items():
        config.model.model_config[key] = value
    ms.set_context(mode=ms.PYNATIVE_MODE)
    model = build_network(config.model)
    model.set_train(False)
    return model
