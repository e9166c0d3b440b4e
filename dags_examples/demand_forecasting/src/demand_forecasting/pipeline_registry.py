"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    ``find_pipelines`` builds ``data_processing``, ``training`` and ``forecasting`` from
    ``demand_forecasting.pipelines``; when Kedro asks for one pipeline only, it imports
    only that one's modules. ``__default__`` runs all three.
    """
    pipelines = find_pipelines()
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines
