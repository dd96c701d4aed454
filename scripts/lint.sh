#!/usr/bin/env bash
# Lint, format and type checks of every package and the tests (scripts/test.sh runs it first).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy  # the packages and tests listed in pyproject.toml's [tool.mypy] files
