"""Monthly retraining fired by Azure ML itself: this DAG only manages the native schedule.

Run it whenever the project or the schedule changes (it has no Airflow schedule of its
own): it compiles the whole Kedro pipeline and creates, updates or leaves alone the
Azure ML schedule ``demand_forecasting_native_schedule-retrain_monthly``, which fires
one pipeline job at 06:00 Paris time on the 10th of every month. No Airflow scheduler
is needed when it fires.

Each firing gets its own run id (the firing time, as Kedro's save version) shared by
all its steps, and trains on a window that ends the month before the firing:
``training.window_end`` in conf/base/parameters_training.yml derives it from the run
time each step is given. (Templated ``kedro_params`` would be rendered once, when this
task runs, and frozen into the schedule: not what a monthly window needs.)

To pause it: ``schedule_action="disable"``; to retire it: ``schedule_action="delete"``
(removing this task alone leaves the schedule firing in Azure ML).

Parsing this file imports neither kedro nor azure.ai.ml.
"""

from __future__ import annotations

# --8<-- [start:dag]
from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator
from airflow_kedro_azureml.schedules import CronSchedule

PROJECT_PATH = Path(__file__).parent / "demand_forecasting"

with DAG(
    dag_id="demand_forecasting_native_schedule",
    description="Create or update the Azure ML schedule of the monthly retraining",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["kedro", "azureml", "forecasting", "native-schedule"],
) as dag:
    # --8<-- [start:operator]
    KedroAzureMLPipelineOperator(
        task_id="retrain_monthly",
        project_path=str(PROJECT_PATH),
        pipeline="__default__",
        azureml_schedule=CronSchedule("0 6 10 * *", time_zone="Europe/Paris"),
        azureml_conn_id="azure_ml_default",
        job_tags={"use_case": "demand_forecasting"},
    )
    # --8<-- [end:operator]
# --8<-- [end:dag]
