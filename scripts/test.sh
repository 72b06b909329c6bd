#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up (idempotent), lint, type-check, test.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k tear`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
