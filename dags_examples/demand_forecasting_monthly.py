"""Monthly demand-forecasting retraining: on the 10th of each month, train and forecast.

The whole Kedro pipeline (data processing, training, forecasting) runs as ONE
Azure ML pipeline job. The training window ends with the month before the run,
so the run on 2026-11-10 trains on data up to 2026-10. Every step of the run
shares one run id, so the model, metrics and forecast it writes carry the same
version, traceable to this DAG run.

On Azure ML the task defers while the job runs (no worker slot held for hours)
and is retried twice: a retry re-attaches to a job that is still running, and
submits a new job after one that failed. (On the local backend the steps run in
the worker.) `azureml_job_watch.py` shows the sensor.

Parsing this file imports neither kedro nor azure.ai.ml.
"""

from __future__ import annotations

# --8<-- [start:dag]
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator

PROJECT_PATH = Path(__file__).parent / "demand_forecasting"

with DAG(
    dag_id="demand_forecasting_monthly",
    description="Retrain the sell-in forecast on the 10th of each month and forecast ahead",
    schedule="0 6 10 * *",
    start_date=pendulum.datetime(2026, 1, 10, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["kedro", "azureml", "forecasting"],
) as dag:
    # --8<-- [start:operator]
    KedroAzureMLPipelineOperator(
        task_id="train_and_forecast",
        project_path=str(PROJECT_PATH),
        pipeline="__default__",
        kedro_params={
            "training": {
                # The last full month before this run, e.g. "2026-10" for the run of 2026-11-10.
                "window_end": "{{ logical_date.subtract(months=1).strftime('%Y-%m') }}",
            },
        },
        azureml_conn_id="azure_ml_default",
        job_tags={"use_case": "demand_forecasting"},
        deferrable=True,
        timeout=timedelta(hours=6),
        retries=2,
        retry_delay=timedelta(minutes=5),
    )
    # --8<-- [end:operator]
# --8<-- [end:dag]
