"""Project pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from demand_forecasting.pipelines import data_processing, forecasting, training


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        ``data_processing``, ``training`` and ``forecasting``, plus ``__default__``
        which runs all three.
    """
    pipelines = {
        "data_processing": data_processing.create_pipeline(),
        "training": training.create_pipeline(),
        "forecasting": forecasting.create_pipeline(),
    }
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines
