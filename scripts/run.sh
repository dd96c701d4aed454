#!/usr/bin/env bash
# Installs fotorobot into ./.venv (once) and runs the bot. Extra arguments go to `fotorobot run`.
# Needs TELEGRAM_BOT_TOKEN in the environment or in ./.env; without one it explains how to get one.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# torch first and pinned: any looser requirement pulls several GB of CUDA wheels.
.venv/bin/pip install -q --disable-pip-version-check torch==2.13.0
.venv/bin/pip install -q --disable-pip-version-check -e .
exec .venv/bin/fotorobot run "$@"
