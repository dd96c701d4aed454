#!/usr/bin/env bash
# Installs fotorobot into ./.venv (once) and runs the bot.
# With TELEGRAM_BOT_TOKEN (in the environment or in ./.env) it talks to Telegram: `fotorobot run`.
# Without one it starts the local emulator (`fotorobot try`): open the printed address and chat.
# Extra arguments go to the command.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# torch first and pinned: any looser requirement pulls several GB of CUDA wheels.
.venv/bin/pip install -q --disable-pip-version-check torch==2.13.0
.venv/bin/pip install -q --disable-pip-version-check -e .
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ] || grep -Eqs '^[[:space:]]*(export[[:space:]]+)?TELEGRAM_BOT_TOKEN=.+' .env; then
  exec .venv/bin/fotorobot run "$@"
fi
echo "No TELEGRAM_BOT_TOKEN set: starting the local emulator (docs/bot.md tells how to get a token)."
exec .venv/bin/fotorobot try "$@"
