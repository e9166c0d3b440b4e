"""Native Azure ML schedules: when they fire, checked when the DAG file is parsed.

``from airflow_kedro_azureml.schedules import CronSchedule, RecurrenceSchedule`` imports
neither kedro nor azure.ai.ml.
"""

from airflow_kedro_azureml.schedules.spec import (
    AzureMLSchedule,
    CronSchedule,
    RecurrenceSchedule,
)

__all__ = ["AzureMLSchedule", "CronSchedule", "RecurrenceSchedule"]
