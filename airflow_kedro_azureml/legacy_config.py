"""``azureml.yml`` files of the other Kedro plugins, read as they are.

- kedro-azureml (getindata) keeps everything under ``azure:`` (subscription, resource
  group, workspace, experiment, computes, environment, code directory) and a
  ``docker:`` section; ``translate_kedro_azureml`` maps it to this package's layout.
- kedro-azureml-pipeline's layout (``workspace``, ``compute``, ``execution``,
  ``schedules``, ``jobs``) is this package's own; a few of its fields are read but
  have no effect here.

``accepted_but_unused`` names what a file sets that does nothing here, for the one
warning the loader logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT = "__default__"

# kedro-azureml fields that have no counterpart here, and why.
_DROPPED_AZURE_FIELDS = {
    "temporary_storage": "data between steps travels as step outputs, not through a blob container",
    "pipeline_data_passing": "data between steps always travels as step outputs",
    "working_directory": "steps run in the code snapshot's folder",
}


def is_kedro_azureml_layout(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` is a kedro-azureml (getindata) ``azureml.yml``: ``azure:`` on top."""
    return isinstance(data.get("azure"), Mapping) and "compute" not in data


def translate_kedro_azureml(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """This package's layout for a kedro-azureml file, and what of it is dropped (and why)."""
    azure = dict(data.get("azure") or {})
    docker = dict(data.get("docker") or {})
    dropped = [
        f"azure.{field} ({why})" for field, why in _DROPPED_AZURE_FIELDS.items() if field in azure
    ]
    workspace = {
        "subscription_id": azure.get("subscription_id"),
        "resource_group": azure.get("resource_group"),
        "name": azure.get("workspace_name"),
    }
    execution: dict[str, Any] = {}
    for source, target in (
        ("environment_name", "environment"),
        ("code_directory", "code_directory"),
        ("experiment_name", "experiment_name"),
    ):
        if azure.get(source) is not None:
            execution[target] = azure[source]
    if docker.get("image"):
        if "environment" in execution:
            dropped.append(
                "docker.image (azure.environment_name is set; steps run in that environment)"
            )
        else:
            execution["image"] = docker["image"]
    translated: dict[str, Any] = {
        "workspace": {DEFAULT: workspace},
        "compute": azure.get("compute") or {},
        "execution": execution,
    }
    for key in data:
        if key not in ("azure", "docker"):
            translated[key] = data[key]
    return translated, dropped


def accepted_but_unused(data: Mapping[str, Any]) -> list[str]:
    """Fields of a kedro-azureml-pipeline layout that load but change nothing here."""
    unused = []
    execution = data.get("execution")
    if isinstance(execution, Mapping) and execution.get("working_directory") is not None:
        unused.append("execution.working_directory")
    for name, job in (data.get("jobs") or {}).items():
        if not isinstance(job, Mapping):
            continue
        for field in ("workspace", "compute", "limits", "retry", "notifications"):
            if job.get(field) is not None:
                unused.append(f"jobs.{name}.{field}")
    return unused
