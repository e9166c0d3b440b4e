"""Run the hello_kedro project as one Azure ML pipeline job (or on the local backend).

The `azure_ml_default` connection decides where: its `backend` extra set to `local`
runs the steps on this machine; otherwise they run in the Azure ML workspace the
connection names.
"""

from __future__ import annotations

# --8<-- [start:dag]
from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator

PROJECT_PATH = Path(__file__).parents[1] / "hello_kedro"  # the folder holding pyproject.toml

with DAG(
    dag_id="hello_kedro",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    KedroAzureMLPipelineOperator(
        task_id="run_hello",
        project_path=str(PROJECT_PATH),
        pipeline="hello",
        kedro_params={"factor": 3},
        azureml_conn_id="azure_ml_default",
    )
# --8<-- [end:dag]
