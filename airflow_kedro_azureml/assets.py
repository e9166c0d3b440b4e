"""Airflow Assets for the data assets a pipeline's job writes, so DAGs can be scheduled on them.

A Kedro dataset wrapped in ``AzureMLAssetDataset`` that no step of the job reads is
registered by Azure ML as a new version of its data asset, numbered by the Kedro run
id. When the job completes, the operator tags that version with the Airflow task try
that made it and emits an Airflow asset event for it, through the ``AssetAlias`` every
operator task declares as an outlet (``kedro_azureml/<dag_id>/<task_id>``). A DAG
scheduled on the asset's URI runs after each new version::

    from airflow_kedro_azureml.assets import data_asset

    forecast = data_asset("forecast", "<subscription>", "<resource group>", "<workspace>")
    with DAG("publish_forecast", schedule=[forecast], ...):
        ...

The URI is ``azureml://subscriptions/<s>/resourcegroups/<rg>/workspaces/<w>/data/<name>``
(the version is in each event's extra); on the local backend it is the ``file://`` URI
of the asset's local folder. This module imports neither kedro nor azure.ai.ml.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_kedro_azureml.compiler.spec import CompiledPipeline
    from airflow_kedro_azureml.connection import WorkspaceRef

ALIAS_PREFIX = "kedro_azureml"


@dataclass(frozen=True)
class WrittenAsset:
    """A data asset version a job wrote: its name, version and Airflow asset URI."""

    name: str
    version: str
    uri: str

    def to_dict(self) -> dict[str, str]:
        """Plain data (for XCom and deferral)."""
        return asdict(self)


def data_asset_uri(
    name: str, subscription_id: str, resource_group: str, workspace_name: str
) -> str:
    """The Airflow asset URI of Azure ML data asset ``name`` of a workspace (any version)."""
    return (
        f"azureml://subscriptions/{subscription_id}/resourcegroups/{resource_group}"
        f"/workspaces/{workspace_name}/data/{name}"
    )


def data_asset(name: str, subscription_id: str, resource_group: str, workspace_name: str) -> Any:
    """The Airflow ``Asset`` of Azure ML data asset ``name``, to schedule a DAG on."""
    from airflow.sdk import Asset

    return Asset(uri=data_asset_uri(name, subscription_id, resource_group, workspace_name))


def written_assets(
    compiled: CompiledPipeline, workspace: WorkspaceRef | None, job_name: str
) -> list[WrittenAsset]:
    """The data asset versions a completed job of ``compiled`` registered.

    With ``workspace`` (Azure ML): version the run id, URI the workspace's. Without
    (the local backend): the local version folder's name and the asset folder's URI.
    """
    version = compiled.written_asset_version(job_name)
    found: dict[str, WrittenAsset] = {}
    for step in compiled.steps:
        for binding in step.asset_outputs:
            if workspace is not None:
                uri = data_asset_uri(
                    binding.asset_name,
                    str(workspace.subscription_id),
                    str(workspace.resource_group),
                    str(workspace.workspace_name),
                )
            elif binding.local_root is not None:
                uri = (binding.local_root / binding.asset_name).resolve().as_uri()
            else:
                continue
            found[binding.asset_name] = WrittenAsset(binding.asset_name, version, uri)
    return [found[name] for name in sorted(found)]


def alias_name(dag_id: str | None, task_id: str) -> str:
    """The name of the ``AssetAlias`` an operator task emits its data asset events through."""
    return f"{ALIAS_PREFIX}/{dag_id or '_'}/{task_id}"


def emit_asset_events(
    context: Any, alias: str, written: list[WrittenAsset], extra: dict[str, str]
) -> int:
    """Emit an asset event per written data asset through ``alias``; how many were emitted.

    Nothing is emitted where the task runs without outlet events (an older runner).
    """
    from airflow.sdk import Asset, AssetAlias

    events = context.get("outlet_events")
    if events is None or not written:
        return 0
    accessor = events[AssetAlias(name=alias)]
    for asset in written:
        accessor.add(Asset(uri=asset.uri), extra={**extra, "version": asset.version})
    return len(written)
