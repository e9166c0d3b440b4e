"""The catalog path of this package's Kedro datasets: ``airflow_kedro_azureml.datasets.X``.

Catalogs name ``airflow_kedro_azureml.datasets.AzureMLPipelineDataset``; the
classes live in ``compute/datasets.py`` (what travels to compute) and are the
same objects here. This module travels in the code snapshot too.
"""

from airflow_kedro_azureml.compute.datasets import (
    AzureMLAssetDataset,
    AzureMLPipelineDataset,
    FolderPickleDataset,
)

__all__ = ["AzureMLAssetDataset", "AzureMLPipelineDataset", "FolderPickleDataset"]
