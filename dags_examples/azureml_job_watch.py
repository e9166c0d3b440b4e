"""Wait for an Azure ML job that something else submitted, then go on: the job sensor.

Trigger it with the job's name (`airflow dags trigger azureml_job_watch --conf
'{"job_name": "..."}'`, or the UI's trigger form). The sensor waits in the
triggerer (no worker slot held), succeeds when the job completes, and fails
naming the failed steps and their errors when it does not. It never cancels
the job it watches. For a job of a KedroAzureMLPipelineOperator task, template
the name from that task's XCom instead:
``{{ ti.xcom_pull(task_ids='train', key='azureml_job_name') }}``.

Parsing this file imports neither kedro nor azure.ai.ml.
"""

from __future__ import annotations

# --8<-- [start:dag]
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from airflow_kedro_azureml.sensors.azureml_job import AzureMLJobSensor

with DAG(
    dag_id="azureml_job_watch",
    description="Wait for an Azure ML job by name",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"job_name": Param("", type="string", description="the Azure ML job to wait for")},
    tags=["azureml", "sensor"],
) as dag:
    # --8<-- [start:sensor]
    AzureMLJobSensor(
        task_id="wait_for_job",
        job_name="{{ params.job_name }}",
        azureml_conn_id="azure_ml_default",
        deferrable=True,
        poke_interval=60,
        timeout=timedelta(hours=12).total_seconds(),
    )
    # --8<-- [end:sensor]
# --8<-- [end:dag]
