"""A data asset the job writes: tagged with the task try that made it, announced to Airflow.

The job registers ``numbers`` (an ``AzureMLAssetDataset`` no step reads) as a new
version named by the run id; the operator tags that version with the Airflow identity
and emits an asset event through the task's ``AssetAlias`` outlet, in worker mode, after
deferral, and on the local backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import Asset, AssetAlias
from airflow.sdk.exceptions import TaskDeferred
from airflow.sdk.execution_time.context import OutletEventAccessors

from airflow_kedro_azureml.assets import data_asset, data_asset_uri
from tests.azure.test_submission import ASSET_NODES, ASSET_REGISTRY
from tests.operators.task_thread import (
    DagRunStub,
    TaskInstanceStub,
    operator_for,
    use_emulator,
    use_local_backend,
)

CATALOG = {
    "raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"},
    "numbers": {
        "type": "airflow_kedro_azureml.datasets.AzureMLAssetDataset",
        "azureml_dataset": "numbers",
        "root_dir": "data/assets",
        "dataset": {"type": "json.JSONDataset", "filepath": "numbers.json"},
    },
}


@pytest.fixture
def asset_project(make_project: Any) -> Path:
    return make_project(catalog=CATALOG, nodes=ASSET_NODES, registry=ASSET_REGISTRY)


def alias_events(operator: Any, outlet_events: OutletEventAccessors) -> list[Any]:
    assert AssetAlias(name=operator.data_asset_alias) in operator.outlets
    return outlet_events[AssetAlias(name=operator.data_asset_alias)].asset_alias_events


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_a_written_data_asset_is_tagged_and_announced(
    azureml_emulator, asset_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    operator = operator_for(asset_project, "toy", poll_interval=0.2)
    ti, events = TaskInstanceStub(try_number=2), OutletEventAccessors()

    operator.execute({"ti": ti, "dag_run": DagRunStub(), "outlet_events": events})  # type: ignore[arg-type]

    run_id = ti.xcoms["kedro_run_id"]
    version = azureml_emulator.ml_client().data.get("numbers", version=run_id)
    assert version.tags["airflow_dag_id"] == "in_process"
    assert version.tags["airflow_task_id"] == "run"
    assert version.tags["airflow_try_number"] == "2"
    assert version.tags["kedro_run_id"] == run_id
    assert version.path.endswith("/make_node/numbers/")  # the data is untouched
    (event,) = alias_events(operator, events)
    uri = data_asset_uri(
        "numbers",
        azureml_emulator.subscription_id,
        azureml_emulator.resource_group,
        azureml_emulator.workspace_name,
    )
    assert event.dest_asset_key.uri == uri
    assert Asset(uri=uri) == data_asset(
        "numbers",
        azureml_emulator.subscription_id,
        azureml_emulator.resource_group,
        azureml_emulator.workspace_name,
    )
    assert event.extra["version"] == run_id
    assert event.extra["kedro_run_id"] == run_id


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_after_deferral_the_data_asset_is_announced_too(
    azureml_emulator, asset_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    operator = operator_for(asset_project, "toy", poll_interval=0.2, deferrable=True)
    ti = TaskInstanceStub()
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({"ti": ti, "dag_run": DagRunStub()})  # type: ignore[arg-type]
    job = ti.xcoms["azureml_job_name"]
    assert azureml_emulator.wait_for_job(job, timeout=120) == "Completed"

    events = OutletEventAccessors()
    resumed = operator_for(asset_project, "toy", poll_interval=0.2, deferrable=True)
    resumed.execute_complete(
        {"ti": ti, "dag_run": DagRunStub(), "outlet_events": events},  # type: ignore[arg-type]
        {"status": "success", "job_name": job},
        **(deferred.value.kwargs or {}),
    )
    (event,) = alias_events(resumed, events)
    assert event.extra["version"] == ti.xcoms["kedro_run_id"]
    tags = azureml_emulator.ml_client().data.get("numbers", version=ti.xcoms["kedro_run_id"]).tags
    assert tags["airflow_task_id"] == "run"


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_on_the_local_backend_the_event_names_the_local_asset_folder(
    asset_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_local_backend(monkeypatch)
    operator = operator_for(asset_project, "toy", poll_interval=0.2)
    ti, events = TaskInstanceStub(), OutletEventAccessors()

    operator.execute({"ti": ti, "dag_run": DagRunStub(), "outlet_events": events})  # type: ignore[arg-type]

    (event,) = alias_events(operator, events)
    folder = asset_project / "data" / "assets" / "numbers"
    assert event.dest_asset_key.uri == folder.resolve().as_uri()
    assert (folder / event.extra["version"]).is_dir()
