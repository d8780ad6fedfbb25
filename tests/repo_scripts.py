"""Load a repository script (scripts/..., a data tool) as a module, as the tests that call its functions do."""
import importlib.util
import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_script(relative_path, module_name):
    spec = importlib.util.spec_from_file_location(module_name, os.path.join(REPO_ROOT, relative_path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
