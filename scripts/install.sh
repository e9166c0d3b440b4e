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
