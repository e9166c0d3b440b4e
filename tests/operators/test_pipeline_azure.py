"""End to end on Azure: `airflow dags test` -> operator -> azure-ai-ml over HTTPS -> emulator.

The emulator really runs each submitted job with the local backend, from the
uploaded code snapshot, so statuses move and outputs appear.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.airflow_cli import dags_test
from tests.catalogs import pipeline_dataset

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "0a1b2c3d-0000-4000-8000-00000000c11e"
SECRET = "s3cr3t-Value-That-Must-Never-Leak~42"
JOB_PUT = r"/jobs/[^/]+$"

TOY_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator

with DAG("toy_azure", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    KedroAzureMLPipelineOperator(
        task_id="run", project_path="{project}", pipeline="{pipeline}",
        kedro_params={{"label": "from airflow"}},
    )
"""


def register_environment(emulator, name: str) -> None:
    from azure.ai.ml.entities import Environment

    emulator.ml_client().environments.create_or_update(
        Environment(name=name, version="1", image="python:3.11-slim")
    )


def connection(emulator) -> dict:
    """An azure_ml connection with a service principal whose secret the emulator knows."""
    connection = emulator.airflow_connection(TENANT, CLIENT_ID, SECRET)
    connection.pop("conn_type")
    return connection


# Inputs under data/ stay out of the code snapshot, as they would on Azure ML.
AZURE_TOY_CATALOG = {
    "raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"},
    # A final output kept with the job (a local path would be lost with the compute's disk).
    "report": pipeline_dataset("report.json", versioned=True),
}


def toy_dags(tmp_path: Path, project: Path, pipeline: str) -> Path:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "toy_azure.py").write_text(TOY_DAG.format(project=project, pipeline=pipeline))
    return dags


def run_toy(airflow_home: Path, emulator, tmp_path: Path, project: Path, pipeline: str = "toy"):
    register_environment(emulator, "kedro-env")
    emulator.reset_requests()
    dags = toy_dags(tmp_path, project, pipeline)
    result = dags_test(
        airflow_home,
        dags,
        "toy_azure",
        "2026-01-01T00:00:00+00:00",
        None,
        connection=connection(emulator),
    )
    return result, result.stdout + result.stderr


def xcom_values(airflow_home: Path, dag_id: str) -> dict[str, str]:
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        rows = db.execute("SELECT key, value FROM xcom WHERE dag_id = ?", (dag_id,)).fetchall()
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in rows}


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_example_dag_runs_on_azure_ml(airflow_home: Path, azureml_emulator, tmp_path: Path) -> None:
    from azure.ai.ml.entities import Data

    dags = tmp_path / "dags"
    shutil.copytree(
        EXAMPLES, dags, ignore=shutil.ignore_patterns("__pycache__", ".azureml-local", "0[2-8]_*")
    )
    raw = dags / "demand_forecasting" / "data" / "01_raw" / "sell_in_history" / "1"
    azureml_emulator.ml_client().data.create_or_update(
        Data(name="sell_in_history", version="1", type="uri_folder", path=str(raw))
    )
    register_environment(azureml_emulator, "demand-forecasting-env")
    azureml_emulator.reset_requests()
    result = dags_test(
        airflow_home,
        dags,
        "demand_forecasting_monthly",
        "2026-01-10T06:00:00+00:00",
        None,
        connection=connection(azureml_emulator),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "state=success" in output
    job_puts = azureml_emulator.requests(method="PUT", path_regex=JOB_PUT)
    assert len(job_puts) == 1
    job_name = job_puts[0].path.rsplit("/", 1)[-1]
    assert azureml_emulator.job_status(job_name) == "Completed"
    steps = azureml_emulator.step_statuses(job_name)
    assert len(steps) == 11 and set(steps.values()) == {"Completed"}
    assert "11/11 steps completed" in output
    # the code snapshot was uploaded once, without the data folder
    code_dir = azureml_emulator.job_code_dir(job_name)
    assert (code_dir / "airflow_kedro_azureml" / "compute" / "execute.py").exists()
    assert not (code_dir / "data" / "01_raw").exists()
    # the final outputs are the job's step outputs
    run_dir = azureml_emulator.job_run_dir(job_name)
    forecasts = [path for path in run_dir.rglob("forecast.csv/*/forecast.csv") if path.is_file()]
    assert len(forecasts) == 1
    tags = job_puts[0].json["properties"]["tags"]
    assert tags["airflow_dag_id"] == "demand_forecasting_monthly"
    assert tags["kedro_run_id"].startswith("2026-01-10T06.00.00.000Z-")
    assert forecasts[0].parent.name == tags["kedro_run_id"]
    xcom = xcom_values(airflow_home, "demand_forecasting_monthly")
    assert job_name in xcom["azureml_job_name"]
    assert "studio" in xcom["azureml_job_url"]


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_failing_node_fails_the_task_with_the_step_and_error(
    airflow_home: Path, azureml_emulator, make_project, tmp_path: Path
) -> None:
    _result, output = run_toy(
        airflow_home, azureml_emulator, tmp_path, make_project(catalog=AZURE_TOY_CATALOG), "failing"
    )
    assert "state=failed" in output, output[-5000:]
    assert "step 'failing_node' failed" in output
    # the task's error shows the step's page and the end of its log, with the node's error
    assert "step in the studio: https://127.0.0.1" in output
    assert "last lines of its log:" in output
    assert "boom: the toy node failed on purpose" in output.split("last lines of its log:")[1]
    assert len(azureml_emulator.requests(method="PUT", path_regex=JOB_PUT)) == 1


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_missing_compute_fails_before_submission(
    airflow_home: Path, azureml_emulator, make_project, tmp_path: Path
) -> None:
    # the toy project's report_node runs on "gpu-cluster", which the workspace lacks
    _result, output = run_toy(
        airflow_home, azureml_emulator, tmp_path, make_project(catalog=AZURE_TOY_CATALOG)
    )
    assert "state=failed" in output, output[-5000:]
    assert "the workspace has no compute 'gpu-cluster'" in output
    assert "nothing was submitted" in output
    assert azureml_emulator.requests(method="PUT", path_regex=JOB_PUT) == []
    assert azureml_emulator.requests(method="PUT", path_regex=r"/codes/") == []


@pytest.mark.e2e
@pytest.mark.timeout(900)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_transient_faults_still_give_one_successful_job(
    airflow_home: Path, azureml_emulator, make_project, tmp_path: Path
) -> None:
    emulator = azureml_emulator
    emulator.inject_fault(kind="429", method="PUT", path_regex=JOB_PUT, retry_after=1)
    emulator.inject_fault(kind="503", method="PUT", path_regex=JOB_PUT)
    emulator.inject_fault(kind="drop", method="PUT", path_regex=JOB_PUT, phase="after")
    emulator.inject_fault(kind="503", method="GET", path_regex=JOB_PUT, count=2)
    emulator.inject_fault(kind="drop", method="GET", path_regex=JOB_PUT, count=2)
    emulator.inject_fault(kind="429", method="GET", path_regex=JOB_PUT, retry_after=1)
    result, output = run_toy(
        airflow_home, emulator, tmp_path, make_project(catalog=AZURE_TOY_CATALOG)
    )
    assert result.returncode == 0, output[-6000:]
    assert "state=success" in output
    assert len(emulator.jobs()) == 1
    assert emulator.job_status(emulator.jobs()[0]) == "Completed"
    fired = [r.fault for r in emulator.requests() if r.fault]
    assert sorted(set(fired)) == ["429", "503", "drop"]


@pytest.mark.e2e
@pytest.mark.timeout(900)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_client_secret_never_leaks(
    airflow_home: Path, azureml_emulator, make_project, tmp_path: Path
) -> None:
    result, output = run_toy(
        airflow_home, azureml_emulator, tmp_path, make_project(catalog=AZURE_TOY_CATALOG)
    )
    assert result.returncode == 0, output[-6000:]
    assert SECRET not in output  # the task log and everything else the run printed
    for key, value in xcom_values(airflow_home, "toy_azure").items():
        assert SECRET not in value, key
    token_requests = []
    for recorded in azureml_emulator.requests():
        body = recorded.body.decode("utf-8", errors="replace")
        if recorded.path.endswith("/oauth2/v2.0/token"):
            token_requests.append(body)
        else:
            assert SECRET not in body, recorded.path
            assert SECRET not in json.dumps(dict(recorded.headers)), recorded.path
    # the secret did travel, in the token exchange only
    assert any(SECRET in body for body in token_requests)
    job_put = azureml_emulator.requests(method="PUT", path_regex=JOB_PUT)[0]
    assert SECRET not in json.dumps(job_put.json)
