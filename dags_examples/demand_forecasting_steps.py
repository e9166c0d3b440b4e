"""Demand forecasting with every Kedro step as an Airflow task, run as ONE Azure ML job.

The task group draws the compiled steps of the project's pipeline from the
manifest next to this file (written by ``kedro azureml compile --manifest``), so
parsing this file reads one JSON file and imports neither kedro nor azure.ai.ml.
Its ``submit`` task compiles the project, checks the manifest still matches, and
runs the whole pipeline as one Azure ML pipeline job; each step task waits
(deferred) for its step and succeeds or fails with it. Clearing a failed step task
with its downstream tasks runs the pipeline again from that step: Azure ML reuses
the steps that completed.

Refresh the manifest after changing the pipeline (the submit task refuses a stale
one and prints this command), in ``demand_forecasting/``::

    kedro azureml compile --manifest ../demand_forecasting_manifest.json
"""

from __future__ import annotations

# --8<-- [start:dag]
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_kedro_azureml.task_groups import KedroAzureMLTaskGroup

HERE = Path(__file__).parent

with DAG(
    dag_id="demand_forecasting_steps",
    description="The sell-in forecast pipeline, a task per Kedro step, as one Azure ML job",
    schedule="0 6 10 * *",
    start_date=pendulum.datetime(2026, 1, 10, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["kedro", "azureml", "forecasting"],
) as dag:
    # --8<-- [start:group]
    KedroAzureMLTaskGroup(
        group_id="demand_forecasting",
        manifest=HERE / "demand_forecasting_manifest.json",
        project_path=HERE / "demand_forecasting",
        kedro_params={
            "training": {
                "window_end": "{{ logical_date.subtract(months=1).strftime('%Y-%m') }}",
            },
        },
        azureml_conn_id="azure_ml_default",
        timeout=timedelta(hours=6),
        step_kwargs={"retries": 1, "retry_delay": timedelta(minutes=5)},
    )
    # --8<-- [end:group]
# --8<-- [end:dag]
