"""Untrusted input never runs code: YAML Python tags are refused, command-line values are literals, Hugging Face
directories are read without pickle, and a user folder's code is imported only through --register_path."""
import importlib.util
import os
import pickle
import subprocess
import sys

import pytest

from mindformers.tools.errors import CheckpointError, ConfigError
from mindformers.tools.register import MindFormerConfig
from mindformers.tools.utils import parse_value

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(REPO_ROOT, 'run_mindformer.py')
TINY = os.path.join(REPO_ROOT, 'configs', 'gpt2', 'run_gpt2_tiny.yaml')

_spec = importlib.util.spec_from_file_location('run_mindformer_untrusted', SCRIPT)
run_mindformer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_mindformer)


def payload(marker):
    """Python source that leaves a file behind if anything evaluates it."""
    return f"__import__('os').system('touch {marker}')"


class _Exploit:
    """Unpickling this runs `touch <marker>`."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def run_cli(*argv, cwd):
    return subprocess.run([sys.executable, SCRIPT, *map(str, argv)], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False, env=dict(os.environ, PYTHONPATH=REPO_ROOT, GLOG_v='3'))


@pytest.mark.parametrize('tag', ['!!python/object/apply:os.system', '!!python/name:os.system',
                                 '!!python/object/new:os.system'])
def test_yaml_python_tags_are_refused_and_never_run(tmp_path, tag):
    marker = tmp_path / 'ran'
    path = tmp_path / 'evil.yaml'
    path.write_text(f'seed: 0\nrun_mode: {tag} ["touch {marker}"]\n', encoding='utf-8')
    with pytest.raises(ConfigError, match=r'evil\.yaml at line 2, column 11: .*configs are loaded safely'):
        MindFormerConfig(str(path))
    result = run_cli('--config', path, cwd=tmp_path)
    assert result.returncode == 2 and 'configs are loaded safely' in result.stderr.strip().splitlines()[-1]
    assert not marker.exists()


def test_override_values_are_literals_not_code(tmp_path):
    marker = tmp_path / 'ran'
    text = payload(marker)
    assert parse_value(text) == text
    args, unknown = run_mindformer.get_parser().parse_known_args(
        ['--config', TINY, '--options', f'model.model_config.top_k={text}',
         '--processor.tokenizer.type', text])
    config = run_mindformer.load_config(args, unknown)
    # --options drops spaces inside values, as upstream's ActionDict does; either way a plain string
    assert config.model.model_config.top_k == text.replace(' ', '') and config.processor.tokenizer.type == text
    # the whole run: the strings reach the builders as names, which are unknown, and nothing executes
    result = run_cli('--config', TINY, '--run_mode', 'predict', '--predict_data', 'hi',
                     '--processor.tokenizer.type', text, cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert not marker.exists()


def test_pickle_weights_in_a_hugging_face_directory_are_not_read(tmp_path):
    from mindformers import AutoModel  # pylint: disable=import-outside-toplevel
    marker = tmp_path / 'ran'
    model_dir = tmp_path / 'hf'
    model_dir.mkdir()
    (model_dir / 'config.json').write_text('{"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], '
                                           '"n_embd": 32, "n_layer": 1, "n_head": 4, "vocab_size": 64, '
                                           '"n_positions": 16}', encoding='utf-8')
    with open(model_dir / 'pytorch_model.bin', 'wb') as stream:
        pickle.dump(_Exploit(marker), stream)
    with pytest.raises(CheckpointError, match=r'pytorch_model\.bin is a pickle, which is not loaded'):
        AutoModel.from_pretrained(str(model_dir))
    result = subprocess.run([sys.executable, os.path.join(REPO_ROOT, 'convert_weight.py'), '--model', 'gpt2',
                             '--input_path', str(model_dir), '--output_path', str(tmp_path / 'out.ckpt')],
                            capture_output=True, text=True, timeout=120, check=False,
                            env=dict(os.environ, PYTHONPATH=REPO_ROOT, GLOG_v='3'))
    assert result.returncode == 2 and 'is a pickle, which is not loaded' in result.stderr.strip().splitlines()[-1], \
        result.stderr
    assert not marker.exists() and not (tmp_path / 'out.ckpt').exists()


def test_user_code_is_imported_only_through_register_path(tmp_path):
    marker = tmp_path / 'ran'
    plugin = tmp_path / 'plugin'
    plugin.mkdir()
    (plugin / 'my_model.py').write_text(f"{payload(marker)}\n", encoding='utf-8')
    path = tmp_path / 'uses_plugin.yaml'
    path.write_text(open(TINY, encoding='utf-8').read().replace(
        '    type: GPT2LMHeadModel', '    type: MyModel\n    auto_register: my_model.MyModel'), encoding='utf-8')
    result = run_cli('--config', path, '--run_mode', 'predict', '--predict_data', 'hi', cwd=plugin)
    assert result.returncode == 2 and '--register_path' in result.stderr.strip().splitlines()[-1], result.stderr
    assert not marker.exists()   # not imported from the working directory, which holds the module
