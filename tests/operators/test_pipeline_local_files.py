"""A project with only local files runs on Azure ML with no catalog edit (upload_local_files).

Two pipelines, as in the spaceflights starter: ``data_processing`` reads a raw local file and
writes ``model_input_table`` to a local path; ``data_science`` reads it and writes a model and
metrics to local paths. With ``execution.upload_local_files: true`` they run as two operator
tasks (two jobs): the raw file is uploaded as a data asset, ``model_input_table`` reaches the
second job as the asset version the first job wrote, and a second run uploads nothing new.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_AZUREML
from tests.operators.task_thread import DagRunStub, TaskInstanceStub, operator_for, use_emulator

NODES = """
import pandas as pd
from kedro.pipeline import Pipeline, node


def clean(raw):
    return raw.dropna().reset_index(drop=True)


def table(cleaned):
    return cleaned.assign(double=cleaned["value"] * 2)


def train(model_input_table, factor):
    return {"weight": float(model_input_table["value"].sum()) * factor}


def evaluate(regressor, model_input_table):
    return {"score": regressor["weight"] / len(model_input_table)}
"""
REGISTRY = """
from kedro.pipeline import Pipeline, node
from {package}.nodes import clean, evaluate, table, train


def register_pipelines():
    processing = Pipeline([
        node(clean, "raw", "cleaned", name="clean"),
        node(table, "cleaned", "model_input_table", name="table"),
    ])
    science = Pipeline([
        node(train, ["model_input_table", "params:factor"], "regressor", name="train"),
        node(evaluate, ["regressor", "model_input_table"], "metrics", name="evaluate"),
    ])
    return {{
        "__default__": processing + science,
        "data_processing": processing,
        "data_science": science,
    }}
"""
CATALOG = {  # plain local files, as the spaceflights starter writes them
    "raw": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/raw.csv"},
    "cleaned": {
        "type": "pandas.ParquetDataset",
        "filepath": "data/02_intermediate/cleaned.parquet",
    },
    "model_input_table": {
        "type": "pandas.ParquetDataset",
        "filepath": "data/03_primary/model_input_table.parquet",
    },
    "regressor": {"type": "pickle.PickleDataset", "filepath": "data/06_models/regressor.pickle"},
    "metrics": {
        "type": "json.JSONDataset",
        "filepath": "data/08_reporting/metrics.json",
        "versioned": True,
    },
}
RAW_CSV = "value,label\n1,a\n,b\n2,c\n3,d\n"  # one row without a value
RUNS = ("2026-11-10T06.00.00.000Z", "2026-12-10T06.00.00.000Z")


def local_files_project(make_project) -> Path:
    """The two-pipeline project, its raw file on disk, with upload_local_files on."""
    azureml = {**DEFAULT_AZUREML, "execution": {**DEFAULT_AZUREML["execution"]}}
    azureml["execution"]["upload_local_files"] = True
    azureml["compute"] = {"__default__": {"cluster_name": "cpu-cluster"}}
    project = make_project(
        nodes=NODES, registry=REGISTRY, catalog=CATALOG, azureml=azureml, parameters={"factor": 2}
    )
    (project / "data" / "01_raw").mkdir(parents=True, exist_ok=True)
    (project / "data" / "01_raw" / "raw.csv").write_text(RAW_CSV)
    return project


def run(project: Path, pipeline: str, run_id: str) -> str:
    operator = operator_for(project, pipeline, run_id=run_id, poll_interval=0.2)
    ti = TaskInstanceStub(run_id=f"manual__{pipeline}_{run_id}")
    return operator.execute({"ti": ti, "dag_run": DagRunStub(run_id=ti.run_id)})  # type: ignore[arg-type]


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.azureml_emulator(computes=["cpu-cluster"])
def test_two_pipelines_of_local_files_run_as_two_jobs(
    azureml_emulator, make_project, monkeypatch
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    project = local_files_project(make_project)
    package = project.name
    # Uploads of local inputs (the job's written assets are PUT again, to be tagged).
    data_put = rf"/data/kedro_{package}_raw/versions/[^/]+$"

    first = run(project, "data_processing", RUNS[0])
    assert azureml_emulator.wait_for_job(first, timeout=120) == "Completed"
    (upload,) = azureml_emulator.requests(method="PUT", path_regex=data_put)
    assert f"/data/kedro_{package}_raw/versions/c" in upload.path
    table = azureml_emulator.ml_client().data.get(f"kedro_{package}_model_input_table", RUNS[0])
    assert table.version == RUNS[0]
    assert table.tags["kedro_run_id"] == RUNS[0]  # tagged with the task that wrote it

    second = run(project, "data_science", RUNS[0])
    assert azureml_emulator.wait_for_job(second, timeout=120) == "Completed", (
        azureml_emulator.job_log(second)
    )
    job = azureml_emulator.job(second)["properties"]["jobs"]["train"]["inputs"]
    assert job["model_input_table"]["uri"].endswith(
        f"kedro_{package}_model_input_table/versions/{RUNS[0]}"
    )
    metrics = azureml_emulator.ml_client().data.get(f"kedro_{package}_metrics", RUNS[0])
    assert metrics.version == RUNS[0]

    # A local run in between leaves the code as it was: the next submission is warm.
    from tests.test_cli import kedro

    local = kedro(project, "azureml", "run-local", "-p", "data_processing", "--run-id", RUNS[1])
    assert local.returncode == 0, local.stderr[-3000:]
    azureml_emulator.reset_requests()
    again = run(project, "data_processing", RUNS[1])
    assert azureml_emulator.wait_for_job(again, timeout=120) == "Completed"
    assert azureml_emulator.requests(method="PUT", path_regex=data_put) == []  # nothing new
    assert azureml_emulator.requests(method="PUT", path_regex=r"/components/") == []
    assert azureml_emulator.requests(method="PUT", path_regex=r"^/emulatorstorage/") == []


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_the_local_backend_passes_them_through_its_local_asset_folder(make_project) -> None:
    from tests.test_cli import kedro

    project = local_files_project(make_project)
    for pipeline in ("data_processing", "data_science"):
        result = kedro(project, "azureml", "run-local", "-p", pipeline, "--run-id", RUNS[0])
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "would be missing or lost" not in result.stderr
    assets = project / ".azureml-local" / "assets"
    table = assets / f"kedro_{project.name}_model_input_table" / RUNS[0]
    assert (table / "model_input_table.parquet").is_file()
    metrics = assets / f"kedro_{project.name}_metrics" / RUNS[0] / "metrics.json" / RUNS[0]
    assert json.loads((metrics / "metrics.json").read_text()) == {"score": 4.0}
    assert not (project / "data" / "03_primary").exists()  # kept as assets, as on Azure ML
