"""Any JSON value reaches the node byte for byte, on both backends, through real Airflow.

The toy pipeline writes its ``label`` param into report.json; the DAG passes an
awkward label through ``kedro_params``; the node's output must hold it exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.airflow_cli import dags_test, dags_test_on_emulator
from tests.catalogs import pipeline_dataset
from tests.operators.task_thread import use_emulator

AWKWARD = (
    "CRLF\r\nLF\nCR\rtrailing newline\n"
    "${HOME} ${oc.env:HOME} \\${x} tab\there \x01\x1f ünï \"quotes' `ticks` $(echo no)\n"
)
# About 1 MB: too long for a step's command line, so it travels as the params_file input.
LARGE = AWKWARD + "0123456789abcdef" * 65_536
TEMPLATED = "{{ ds }}"

PARAMS_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator

with DAG("params_dag", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    KedroAzureMLPipelineOperator(
        task_id="run", project_path={project!r}, pipeline="toy",
        kedro_params={{"label": {label!r}, "factor": {factor!r}}}, poll_interval=0.5,
    )
"""


def write_dag(tmp_path: Path, project: Path, label: str, factor: object) -> Path:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "params_dag.py").write_text(
        PARAMS_DAG.format(project=str(project), label=label, factor=factor)
    )
    return dags


def report_of(folder: Path) -> dict:
    (report,) = [path for path in folder.rglob("report.json") if path.is_file()]
    return json.loads(report.read_text(encoding="utf-8"))


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.parametrize("label", [AWKWARD, LARGE], ids=["awkward", "awkward-1MB"])
def test_awkward_params_reach_the_node_intact_on_the_local_backend(
    airflow_home: Path, make_project, tmp_path: Path, label: str
) -> None:
    project = make_project()
    dags = write_dag(tmp_path, project, label, 3)
    result = dags_test(
        airflow_home, dags, "params_dag", "2026-01-01T00:00:00+00:00", {"backend": "local"}
    )
    output = result.stdout + result.stderr
    assert "state=success" in output, output[-5000:]
    report = report_of(project / "data" / "report.json")
    assert report["label"] == label
    assert report["total"] == 18  # factor 3 reached the node too


@pytest.mark.e2e
@pytest.mark.timeout(900)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
@pytest.mark.parametrize("label", [AWKWARD, LARGE], ids=["awkward", "awkward-1MB"])
def test_awkward_params_reach_the_node_intact_on_azure_ml(
    airflow_home: Path, azureml_emulator, make_project, monkeypatch, tmp_path: Path, label: str
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    catalog = {
        "raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"},
        "report": pipeline_dataset("report.json"),
    }
    project = make_project(catalog=catalog)
    dags = write_dag(tmp_path, project, label, 3)
    output = dags_test_on_emulator(airflow_home, dags, "params_dag", azureml_emulator)
    assert "state=success" in output, output[-5000:]
    (job,) = azureml_emulator.jobs()
    report = report_of(azureml_emulator.job_run_dir(job))
    assert report["label"] == label
    params_file = azureml_emulator.job(job)["properties"]["inputs"].get("params_file")
    if label is LARGE:  # uploaded with the job as a file, not put on 128 KiB command lines
        assert params_file["jobInputType"] == "uri_file", params_file
        assert "/LocalUpload/" in params_file["uri"], params_file
        assert label[:1000] not in output
    else:
        assert params_file is None


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_templates_in_params_are_rendered(airflow_home: Path, make_project, tmp_path: Path) -> None:
    project = make_project()
    dags = write_dag(tmp_path, project, TEMPLATED + "\n", 2)
    result = dags_test(
        airflow_home, dags, "params_dag", "2026-01-01T00:00:00+00:00", {"backend": "local"}
    )
    output = result.stdout + result.stderr
    assert "state=success" in output, output[-5000:]
    assert report_of(project / "data" / "report.json")["label"] == "2026-01-01"
