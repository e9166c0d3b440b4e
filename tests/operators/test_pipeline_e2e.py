"""End to end: the example DAG through `airflow dags test` on the local backend."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.airflow_cli import dags_test

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
LOCAL = {"backend": "local"}
VERSION = re.compile(r"^2026-01-10T06\.00\.00\.000Z-[0-9a-f]{6}$")

FAILING_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator

with DAG("toy_failing", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    KedroAzureMLPipelineOperator(task_id="run", project_path="{project}", pipeline="{pipeline}")
"""


@pytest.fixture
def dags_folder(tmp_path: Path) -> Path:
    """A copy of dags_examples without outputs of earlier runs."""
    target = tmp_path / "dags"
    shutil.copytree(
        EXAMPLES,
        target,
        ignore=shutil.ignore_patterns("__pycache__", ".azureml-local", "0[2-8]_*", "sessions"),
    )
    return target


def _versions(folder: Path) -> set[str]:
    return {path.parent.name for path in folder.rglob("*") if path.is_file()}


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_example_dag_runs_the_whole_pipeline_locally(airflow_home: Path, dags_folder: Path) -> None:
    result = dags_test(
        airflow_home, dags_folder, "demand_forecasting_monthly", "2026-01-10T06:00:00+00:00", LOCAL
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert "state=success" in output
    assert "Compiled pipeline '__default__' into" in output
    # each step's log lines reach the task log, prefixed by the step name
    assert "[fit_final_model]" in output
    project = dags_folder / "demand_forecasting"
    runs = project / ".azureml-local" / "runs"
    # final outputs are kept as the steps' outputs, in the run folder, as on Azure ML
    forecasts = sorted(path for path in runs.rglob("forecast.csv/*/forecast.csv"))
    assert len(forecasts) == 1
    header, *rows = forecasts[0].read_text().splitlines()
    assert header.split(",")[:4] == ["country", "sku", "month", "forecast_units"]
    assert len(rows) > 100
    assert {row.split(",")[2] for row in rows} == {"2026-01", "2026-02", "2026-03"}
    # every versioned output of the run carries the one run id
    metrics = list(runs.rglob("metrics.json/*/metrics.json"))
    models = list(runs.rglob("model.pkl/*/model.pkl"))
    versions = {path.parent.name for path in [*forecasts, *metrics, *models]}
    assert len(metrics) == 1
    assert len(models) == 1
    assert len(versions) == 1, versions
    assert VERSION.match(versions.pop())


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_failing_node_fails_the_task_naming_step_and_node(
    airflow_home: Path, make_project, tmp_path: Path
) -> None:
    project = make_project()
    dags = tmp_path / "failing_dags"
    dags.mkdir()
    (dags / "toy_failing.py").write_text(FAILING_DAG.format(project=project, pipeline="failing"))
    result = dags_test(airflow_home, dags, "toy_failing", "2026-01-01T00:00:00+00:00", LOCAL)
    output = result.stdout + result.stderr
    assert "state=failed" in output, output[-5000:]
    assert "step 'failing_node' failed" in output
    assert "Node 'failing_node' failed" in output
    assert "boom: the toy node failed on purpose" in output
    # progress in the same words as on Azure ML, and the node's error logged as an error
    assert "steps completed, failed: failing_node" in output
    assert any(
        "error" in line.lower().split("[failing_node]")[0]
        for line in output.splitlines()
        if "[failing_node]" in line and "Node 'failing_node' failed" in line
    )


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_bad_input_fails_before_anything_runs(
    airflow_home: Path, make_project, tmp_path: Path
) -> None:
    project = make_project()
    dags = tmp_path / "bad_dags"
    dags.mkdir()
    (dags / "toy_failing.py").write_text(FAILING_DAG.format(project=project, pipeline="nope"))
    result = dags_test(airflow_home, dags, "toy_failing", "2026-01-01T00:00:00+00:00", LOCAL)
    output = result.stdout + result.stderr
    assert "state=failed" in output, output[-5000:]
    assert "pipeline 'nope' is not registered" in output
    assert "AirflowFailException" in output
    assert not (project / ".azureml-local").exists()
    # the extra link of a task that never had a job adds no error of its own
    assert "XCom not found" not in output
    assert "Failed to push an xcom for task operator extra link" not in output
