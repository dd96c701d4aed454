#!/usr/bin/env bash
# Installs fotorobot with its development extras into ./.venv (once), then runs everything CI
# runs: ruff check, ruff format --check, mypy (scripts/lint.sh), and the offline test suite.
# Arguments go to pytest (e.g. `-m "not slow"` for the quick loop).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# torch first and pinned: any looser requirement pulls several GB of CUDA wheels.
.venv/bin/pip install -q --disable-pip-version-check torch==2.13.0
.venv/bin/pip install -q --disable-pip-version-check -e ".[dev]"
bash scripts/lint.sh
exec .venv/bin/python -m pytest -q "$@"
