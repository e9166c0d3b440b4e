"""Kedro pipeline -> compiled pipeline job: pure, offline, deterministic.

Nothing here knows Airflow, azure.ai.ml or the local backend: ``spec`` (the
compiled job, standard library only) is what the backends read. The main entry
points are importable from here; they load Kedro and pydantic only when used::

    from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
    from airflow_kedro_azureml.compiler.kedro_project import open_project

    compiled = compile_pipeline(open_project("."), CompileOptions(pipeline_name="training"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_kedro_azureml.compiler.job_compiler import (
        CompileOptions,
        compile_pipeline,
        compile_selected,
    )

__all__ = ["CompileOptions", "compile_pipeline", "compile_selected"]


def __getattr__(name: str) -> Any:
    """Import the compiler on first use, so importing ``compiler.spec`` stays light."""
    if name in __all__:
        from airflow_kedro_azureml.compiler import job_compiler

        return getattr(job_compiler, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
