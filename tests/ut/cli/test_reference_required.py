"""`make test` (MF_REQUIRE_REFERENCE=1) fails at once, naming the package, when a parity reference cannot import."""
import os
import subprocess
import sys

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_pytest_with_broken_transformers(tmp_path, require):
    shadow = tmp_path / 'shadow'
    shadow.mkdir()
    (shadow / 'transformers.py').write_text("raise ImportError('planted: transformers is broken')\n")
    env = dict(os.environ, PYTHONPATH=str(shadow), MF_REQUIRE_REFERENCE=require)
    return subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--co',
                           os.path.join(TESTS, 'conftest.py')], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


def test_missing_reference_is_an_error_under_make_test(tmp_path):
    result = run_pytest_with_broken_transformers(tmp_path, '1')
    assert result.returncode != 0
    assert "the parity tests cannot run" in result.stdout + result.stderr
    assert "transformers (ImportError: planted: transformers is broken" in result.stdout + result.stderr


def test_without_the_flag_a_missing_reference_only_skips(tmp_path):
    result = run_pytest_with_broken_transformers(tmp_path, '0')
    assert "the parity tests cannot run" not in result.stdout + result.stderr
    assert result.returncode in (0, 5), result.stdout + result.stderr   # 5: nothing collected
