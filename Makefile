# `make test` installs everything a fresh Python 3.11 machine needs, then runs the whole test suite.
# `make quickstart` installs, then runs the README demo (data -> tokenizer -> preprocess -> finetune -> predict).
PYTHON ?= python3

.PHONY: install test quickstart

install:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'

test: install
	$(PYTHON) -m pytest tests -q -p no:cacheprovider

quickstart: install
	bash scripts/quickstart/run_quickstart.sh
