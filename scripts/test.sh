#!/usr/bin/env bash
# Install, lint, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
source scripts/env.sh
.venv/bin/ruff check airflow_kedro_azureml tests dags_examples benchmarks
.venv/bin/ruff format --check airflow_kedro_azureml tests dags_examples benchmarks
.venv/bin/python -m pytest "$@"
