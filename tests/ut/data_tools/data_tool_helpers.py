"""Helpers for the data-tool tests: load repository scripts as modules, run them as a user would."""
import os
import subprocess
import sys

from repo_scripts import load_script  # noqa: F401  (the data-tool tests import it from here)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PREPROCESS = 'mindformers/tools/dataset_preprocess/llama/llama_preprocess.py'
CONVERTER = 'mindformers/tools/dataset_preprocess/llama/alpaca_converter.py'


def run_script(relative_path, *args, cwd=None):
    """Run a repository script as a user would (`python <path> ...` from the repository root)."""
    env = dict(os.environ, PYTHONPATH='')  # the script must find the package by itself
    return subprocess.run([sys.executable, relative_path, *map(str, args)], cwd=cwd or REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
