#!/usr/bin/env bash
# Create .venv and install the package with everything the example and tests need.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check "uv>=0.9,<1"
# Bytecode is compiled at install time: some machines set PYTHONDONTWRITEBYTECODE,
# and without .pyc files every import of airflow or azure.ai.ml costs seconds more.
.venv/bin/uv pip install --quiet --python .venv/bin/python --compile-bytecode -e ".[dev]"
# Headless Chromium for the UI tests (tests/ui): Debian's package, no browser download.
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq < /dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium < /dev/null
  command -v chromium >/dev/null 2>&1 || { echo "install.sh: could not install chromium" >&2; exit 1; }
fi
