"""Tests for submission: components registered once per content, code uploaded once, over HTTPS."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_kedro_azureml.azure.code_snapshot import build_snapshot
from airflow_kedro_azureml.azure.pipeline_job import JobIdentity
from airflow_kedro_azureml.azure.submission import component_name, snapshot_hash, submit_compiled
from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
from airflow_kedro_azureml.compiler.kedro_project import open_project

RUN_ID = "2026-11-10T06.00.00.000Z"
CATALOG = {"raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"}}


def submit(emulator, project: Path, tmp_path: Path, name: str):
    from azure.ai.ml.entities import Environment

    emulator.ml_client().environments.create_or_update(
        Environment(name="kedro-env", version="1", image="python:3.11-slim")
    )
    compiled = compile_pipeline(
        open_project(project), CompileOptions(pipeline_name="toy", run_id=RUN_ID)
    )
    code = tmp_path / name
    code.mkdir()
    build_snapshot(project, code)
    emulator.reset_requests()
    job = submit_compiled(
        emulator.hook(), compiled, JobIdentity(name=name), code, computes_checked=True
    )
    return compiled, job


@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"], execute_jobs=False)
def test_warm_submission_sends_no_component_and_no_code(
    azureml_emulator, make_project: Callable[..., Path], tmp_path: Path
) -> None:
    project = make_project(catalog=CATALOG)
    compiled, first = submit(azureml_emulator, project, tmp_path, "job_cold")
    assert first.name == "job_cold"
    assert len(azureml_emulator.requests(method="PUT", path_regex=r"/components/")) == 3
    assert azureml_emulator.requests(method="PUT", path_regex=r"^/emulatorstorage/")
    _, second = submit(azureml_emulator, project, tmp_path, "job_warm")
    assert second.name == "job_warm"
    assert azureml_emulator.requests(method="PUT", path_regex=r"/components/") == []
    assert azureml_emulator.requests(path_regex=r"^/emulatorstorage/") == []
    assert azureml_emulator.requests(path_regex=r"/codes/") == []
    assert len(azureml_emulator.requests()) <= 6
    body = azureml_emulator.requests(method="PUT", path_regex=r"/jobs/job_warm$")[0].json
    name = component_name(compiled)
    assert all(name in step["componentId"] for step in body["properties"]["jobs"].values())
    # The project is in no git repository: the job says so, and carries nothing about the
    # repository the submitting process runs in (this test runs inside one).
    git = {k: v for k, v in body["properties"]["properties"].items() if "git" in k}
    assert set(git.values()) == {""} and "mlflow.source.git.commit" in git


@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"], execute_jobs=False)
def test_changed_code_registers_new_versions(
    azureml_emulator, make_project: Callable[..., Path], tmp_path: Path
) -> None:
    project = make_project(catalog=CATALOG)
    submit(azureml_emulator, project, tmp_path, "job_one")
    nodes = next((project / "src").glob("*/nodes.py"))
    nodes.write_text(nodes.read_text() + "\n# changed\n")
    submit(azureml_emulator, project, tmp_path, "job_two")
    assert len(azureml_emulator.requests(method="PUT", path_regex=r"/components/")) == 3
    assert azureml_emulator.requests(method="PUT", path_regex=r"^/emulatorstorage/")


def test_snapshot_hash_follows_content(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1")
    first = snapshot_hash(tmp_path)
    assert snapshot_hash(tmp_path) == first
    (tmp_path / "a.py").write_text("x = 2")
    assert snapshot_hash(tmp_path) != first


ASSET_NODES = """
from kedro.pipeline import Pipeline, node


def make(values):
    return [value * 10 for value in values]


def total(values):
    return {"total": sum(values)}


def toy_pipeline():
    return Pipeline([node(make, "raw", "numbers", name="make_node")])


double = fail = make
"""

ASSET_REGISTRY = """
from kedro.pipeline import Pipeline, node
from {package}.nodes import make, toy_pipeline, total


def register_pipelines():
    consume = Pipeline([node(total, "numbers", "result", name="total_node")])
    return {{"__default__": toy_pipeline(), "toy": toy_pipeline(), "consume": consume}}
"""


@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(computes=["cpu-cluster"])
def test_a_job_writes_a_data_asset_that_the_next_job_reads(
    azureml_emulator, make_project: Callable[..., Path], tmp_path: Path
) -> None:
    catalog = {
        "raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"},
        "numbers": {
            "type": "airflow_kedro_azureml.datasets.AzureMLAssetDataset",
            "azureml_dataset": "numbers",
            "dataset": {"type": "json.JSONDataset", "filepath": "numbers.json"},
        },
        "result": {"type": "json.JSONDataset", "filepath": "data/result.json"},
    }
    project = make_project(catalog=catalog, nodes=ASSET_NODES, registry=ASSET_REGISTRY)
    submit(azureml_emulator, project, tmp_path, "job_produce")
    assert azureml_emulator.wait_for_job("job_produce", timeout=120) == "Completed"
    asset = azureml_emulator.ml_client().data.get("numbers", version=RUN_ID)
    assert asset.path.endswith("/job_produce/make_node/numbers/")

    compiled = compile_pipeline(
        open_project(project), CompileOptions(pipeline_name="consume", run_id=RUN_ID)
    )
    code = tmp_path / "consume_code"
    code.mkdir()
    build_snapshot(project, code)
    consume = compiled.steps[0]
    assert consume.asset_inputs[0].asset_version is None  # latest
    azureml_emulator.reset_requests()
    submit_compiled(
        azureml_emulator.hook(),
        compiled,
        JobIdentity(name="job_consume"),
        code,
        computes_checked=True,
    )
    assert azureml_emulator.wait_for_job("job_consume", timeout=120) == "Completed", (
        azureml_emulator.job_log("job_consume")
    )
    result = azureml_emulator.job_code_dir("job_consume") / "data" / "result.json"
    assert json.loads(result.read_text()) == {"total": 60}
    job_put = azureml_emulator.requests(method="PUT", path_regex=r"/jobs/job_consume$")[0]
    inputs = job_put.json["properties"]["jobs"]["total_node"]["inputs"]
    assert inputs["numbers"]["uri"].endswith(f"numbers/versions/{RUN_ID}")  # pinned, not @latest
    # One request found the latest version: the asset's container, not the version too.
    assert [
        r.path.rsplit("/", 2)[-2:] for r in azureml_emulator.requests(path_regex=r"/data/")
    ] == [["data", "numbers"]]


@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_local_files_that_cross_steps_travel_between_steps_on_azure_ml(
    azureml_emulator, make_project: Callable[..., Path], tmp_path: Path
) -> None:
    catalog = {
        **CATALOG,
        "doubled": {
            "type": "json.JSONDataset",
            "filepath": "data/02_intermediate/doubled.json",
            "versioned": True,
        },
        "summed": {"type": "pickle.PickleDataset", "filepath": "data/03_primary/summed.pkl"},
        "report": {"type": "json.JSONDataset", "filepath": "data/report.json"},
    }
    project = make_project(catalog=catalog)
    compiled, _ = submit(azureml_emulator, project, tmp_path, "job_promoted")
    assert compiled.promoted == ("doubled", "summed")
    assert azureml_emulator.wait_for_job("job_promoted", timeout=120) == "Completed", (
        azureml_emulator.job_log("job_promoted")
    )
    run_dir = azureml_emulator.job_run_dir("job_promoted")
    written = run_dir / "double_node" / "outputs" / "doubled" / "doubled.json" / RUN_ID
    assert json.loads((written / "doubled.json").read_text()) == [2, 4, 6]
    assert (run_dir / "total_node" / "outputs" / "summed" / "summed.pkl").is_file()
    report = azureml_emulator.job_code_dir("job_promoted") / "data" / "report.json"
    assert json.loads(report.read_text())["total"] == 12


@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"], execute_jobs=False)
def test_the_project_environment_is_registered_once_and_then_found(
    azureml_emulator, make_project: Callable[..., Path], tmp_path: Path
) -> None:
    from tests.conftest import DEFAULT_AZUREML

    project = make_project(catalog=CATALOG, azureml={**DEFAULT_AZUREML, "execution": {}})
    (project / "requirements.txt").write_text("pandas>=2.2\nairflow-kedro-azureml\n")
    compiled, _ = submit(azureml_emulator, project, tmp_path, "job_env_cold")
    built = compiled.project_environment
    assert built is not None
    path = rf"/environments/{built.name}/versions/{built.version}$"
    (put,) = azureml_emulator.requests(method="PUT", path_regex=path)
    assert "airflow" not in put.json["properties"]["condaFile"]
    components = azureml_emulator.requests(method="PUT", path_regex=r"/components/")
    environments = {c.json["properties"]["componentSpec"]["environment"] for c in components}
    assert len(components) == 3
    suffix = f"/environments/{built.name}/versions/{built.version}"
    assert len(environments) == 1 and environments.pop().endswith(suffix)
    submit(azureml_emulator, project, tmp_path, "job_env_warm")
    assert azureml_emulator.requests(method="PUT", path_regex=path) == []
    assert len(azureml_emulator.requests(method="GET", path_regex=path)) == 1
