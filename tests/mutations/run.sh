#!/bin/bash
# Plant each known bug in a copy of the tree and run the tests that must catch it (not part of `make test`).
#   bash tests/mutations/run.sh            # every mutation
#   bash tests/mutations/run.sh --only lora-scaling-dropped
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
exec "${PYTHON:-python3}" tests/mutations/mutate.py "$@"
