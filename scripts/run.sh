#!/usr/bin/env bash
# The main job on a fresh machine: set up (idempotent), then run CardTwin's default job (a city day).
# Extra arguments go to that job, e.g. `scripts/run.sh --seed 3`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/cardtwin run "$@"
