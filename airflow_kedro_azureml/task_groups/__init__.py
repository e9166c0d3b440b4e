"""Task groups: a Kedro pipeline drawn as Airflow tasks, run as one Azure ML job."""

from airflow_kedro_azureml.task_groups.kedro_pipeline import KedroAzureMLTaskGroup

__all__ = ["KedroAzureMLTaskGroup"]
