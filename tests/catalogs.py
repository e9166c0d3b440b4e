"""Catalog entries the tests' throw-away projects use."""

from __future__ import annotations

PIPELINE_DATASET = "airflow_kedro_azureml.datasets.AzureMLPipelineDataset"


def pipeline_dataset(
    filepath: str,
    root_dir: str = "data",
    dataset_type: str = "json.JSONDataset",
    versioned: bool = False,
) -> dict:
    """An ``AzureMLPipelineDataset`` entry: a file kept in a step's managed output folder."""
    entry: dict = {
        "type": PIPELINE_DATASET,
        "root_dir": root_dir,
        "dataset": {"type": dataset_type, "filepath": filepath},
    }
    if versioned:
        entry["versioned"] = True
    return entry
