"""Test a DAG of KedroAzureMLPipelineOperator without Azure: the emulator, then the local backend.

Run with `pytest docs/examples` from the repository root.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# --8<-- [start:emulator]
# Any GUID will do as the tenant id: the emulator's token endpoint takes GUIDs only.
TENANT_ID = "72f988bf-0000-4000-8000-000000000001"
CLIENT_ID = "0a1b2c3d-0000-4000-8000-000000000002"
SECRET = "not-a-real-secret"
JOB_PUT = r"/jobs/[^/]+$"  # the request that creates (or updates) a job


@pytest.mark.azureml_emulator(computes=["cpu-cluster"])  # compute.__default__ in azureml.yml
def test_the_dag_runs_one_pipeline_job(azureml_emulator, dags_test) -> None:
    from azure.ai.ml.entities import Environment

    # The workspace has what azureml.yml names: the compute (marker above) and the
    # environment `execution.environment: hello-kedro-env@latest`.
    azureml_emulator.ml_client().environments.create_or_update(
        Environment(name="hello-kedro-env", version="1", image="python:3.11-slim")
    )
    # A service principal the emulator's tenant knows, as an `azure_ml` connection.
    connection = azureml_emulator.airflow_connection(TENANT_ID, CLIENT_ID, SECRET)
    # Azure ML answers the job's creation with 503 once: the task sends it again.
    azureml_emulator.inject_fault(kind="503", method="PUT", path_regex=JOB_PUT)

    result = dags_test("hello_kedro", json.dumps(connection))

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    (job_name,) = azureml_emulator.jobs()  # ONE pipeline job, despite the 503
    assert len(azureml_emulator.requests(method="PUT", path_regex=JOB_PUT)) == 2
    assert azureml_emulator.job_status(job_name) == "Completed"
    assert azureml_emulator.step_statuses(job_name) == {
        "make_numbers": "Completed",
        "summarise": "Completed",
    }
    # The final output is the `summarise` step's output, as Azure ML keeps it with the job.
    (report,) = azureml_emulator.job_run_dir(job_name).rglob("report.json")
    assert json.loads(report.read_text()) == {"count": 10, "total": 165}


# --8<-- [end:emulator]


# --8<-- [start:local]
def test_the_dag_runs_on_the_local_backend(dags_test, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    connection = {
        "conn_type": "azure_ml",
        "extra": {"backend": "local", "local_runs_dir": str(runs)},
    }

    result = dags_test("hello_kedro", json.dumps(connection))

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert "[summarise]" in output  # every step's log lines reach the task log
    (report,) = runs.rglob("report.json")  # <runs>/<job>/<step>/outputs/<output>/report.json
    assert json.loads(report.read_text()) == {"count": 10, "total": 165}


# --8<-- [end:local]


# --8<-- [start:hook]
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_the_workspace_has_our_computes(azureml_emulator) -> None:
    hook = azureml_emulator.hook()  # an AzureMLHook bound to the emulator, no connection
    assert hook.compute_exists("gpu-cluster")
    assert not hook.compute_exists("big-cluster")


# --8<-- [end:hook]
