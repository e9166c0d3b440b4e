#!/usr/bin/env bash
# Install, then run the example DAG once with `airflow dags test` on the local backend (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
source scripts/env.sh
# The connection selects the local backend: steps run as processes on this machine.
export AIRFLOW_CONN_AZURE_ML_DEFAULT='{"conn_type": "azure_ml", "extra": {"backend": "local"}}'
mkdir -p "$AIRFLOW_HOME"
.venv/bin/airflow db migrate > "$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
log="$AIRFLOW_HOME/example-run.log"
.venv/bin/airflow dags test demand_forecasting_monthly "${1:-2026-01-10T06:00:00+00:00}" 2>&1 | tee "$log"
# Where this run is: its run id, run folder, step logs and the outputs it wrote (the task
# logged them; final outputs are kept in the run folder as Azure ML keeps them with the job).
echo
echo "This run:"
grep -oE "Job [^ ]+: (run id|run folder|step logs|output)[: ].*" "$log" | sed 's/ \[airflow.*$//' | awk '!seen[$0]++'
grep -q "state=success" "$log"
