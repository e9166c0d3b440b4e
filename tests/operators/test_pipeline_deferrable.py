"""Deferrable mode end to end: `airflow dags test` runs the triggerer, the emulator the job."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.airflow_cli import dags_test_on_emulator
from tests.operators.task_thread import (
    DagRunStub,
    TaskInstanceStub,
    TaskThread,
    operator_for,
    use_emulator,
)

AZURE_CATALOG = {"raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"}}

DEFERRED_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator

with DAG("deferred_azure", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    KedroAzureMLPipelineOperator(
        task_id="run", project_path="{project}", pipeline="{pipeline}",
        deferrable=True, poll_interval=0.5,
    )
"""


def run_deferred(airflow_home: Path, emulator, tmp_path: Path, project: Path, pipeline: str):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "deferred_azure.py").write_text(DEFERRED_DAG.format(project=project, pipeline=pipeline))
    return dags_test_on_emulator(airflow_home, dags, "deferred_azure", emulator)


@pytest.mark.e2e
@pytest.mark.timeout(900)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_deferred_run_to_success(
    airflow_home: Path, azureml_emulator, make_project, monkeypatch, tmp_path: Path
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    output = run_deferred(
        airflow_home, azureml_emulator, tmp_path, make_project(catalog=AZURE_CATALOG), "toy"
    )
    assert "state=success" in output, output[-6000:]
    assert "Deferring: the triggerer watches job" in output
    assert "3/3 steps completed" in output  # logged by the trigger
    (job,) = azureml_emulator.jobs()
    assert azureml_emulator.job_status(job) == "Completed"


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_deferred_run_to_failure_names_the_step(
    airflow_home: Path, azureml_emulator, make_project, monkeypatch, tmp_path: Path
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    output = run_deferred(
        airflow_home, azureml_emulator, tmp_path, make_project(catalog=AZURE_CATALOG), "failing"
    )
    assert "state=failed" in output, output[-6000:]
    assert "Deferring: the triggerer watches job" in output
    assert "step 'failing_node' failed" in output
    assert "AzureMLJobFailedException" in output


class RecordingStore:
    """A task state store in memory."""

    def __init__(self) -> None:
        self.data: dict = {}

    def get(self, key, default=None):
        return self.data.get(key, default)

    def set(self, key, value, **kwargs) -> None:
        self.data[key] = value


@pytest.mark.e2e
@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_a_job_that_already_completed_does_not_defer(
    azureml_emulator, make_project, monkeypatch
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    project = make_project(catalog=AZURE_CATALOG)
    store = RecordingStore()
    context = {"ti": TaskInstanceStub(), "dag_run": DagRunStub(), "task_state_store": store}
    first = operator_for(project, "toy", poll_interval=0.2).execute(context)

    # The next try (a retry of the same series) finds the completed job: no deferral, no job.
    context["ti"] = TaskInstanceStub(try_number=2)
    again = operator_for(project, "toy", poll_interval=0.2, deferrable=True).execute(context)

    assert again == first
    assert azureml_emulator.jobs() == [first]


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_worker_mode_timeout_cancels_the_job(azureml_emulator, make_project, monkeypatch) -> None:
    from airflow_kedro_azureml.hooks.azureml import AzureMLJobFailedException

    use_emulator(azureml_emulator, monkeypatch)
    task = TaskThread(make_project(catalog=AZURE_CATALOG), "sleepy", timeout=4)
    error = task.result(timeout=120)
    assert isinstance(error, AzureMLJobFailedException)
    assert "timed out and was canceled" in str(error)
    (job,) = azureml_emulator.jobs()
    assert azureml_emulator.wait_for_job(job, timeout=60) == "Canceled"


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_worker_mode_waits_out_dropped_polls_and_a_401(
    azureml_emulator, make_project, monkeypatch
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    params = {"factor": 2, "label": "toy", "nap_seconds": 3}
    task = TaskThread(make_project(catalog=AZURE_CATALOG, parameters=params), "nap")
    job = task.wait_for_job_status(azureml_emulator, "Running")
    azureml_emulator.inject_fault(kind="drop", method="GET", path_regex=rf"/jobs/{job}$", count=4)
    azureml_emulator.inject_fault(kind="401", method="GET", path_regex=rf"/jobs/{job}$")
    assert task.result(timeout=240) is None
    assert azureml_emulator.job_status(job) == "Completed"
    assert [r.fault for r in azureml_emulator.requests() if r.fault] == ["drop"] * 4 + ["401"]


TOKEN_REQUESTS = r"/oauth2/v2\.0/token$"
SHORT_LIVED = 2  # seconds an access token lives; the job below runs for several lifetimes


def token_requests(emulator) -> int:
    return len(emulator.requests(method="POST", path_regex=TOKEN_REQUESTS, status=200))


def job_reads_after_first_token_expired(emulator, job: str) -> int:
    """Job GETs answered 200 once the first token the emulator issued had expired."""
    first_token = emulator.requests(method="POST", path_regex=TOKEN_REQUESTS, status=200)[0]
    expired_at = first_token.started_at + SHORT_LIVED + 1
    reads = emulator.requests(method="GET", path_regex=rf"/jobs/{job}$", status=200)
    return sum(1 for read in reads if read.started_at > expired_at)


@pytest.mark.e2e
@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(token_lifetime=SHORT_LIVED)
def test_worker_mode_wait_outlives_short_lived_tokens(
    azureml_emulator, make_project, monkeypatch
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    params = {"factor": 2, "label": "toy", "nap_seconds": 4 * SHORT_LIVED}
    task = TaskThread(make_project(catalog=AZURE_CATALOG, parameters=params), "nap")
    job = task.wait_for_job_status(azureml_emulator, "Running")
    tokens_at_start = token_requests(azureml_emulator)
    assert task.result(timeout=240) is None
    assert azureml_emulator.jobs() == [job]
    assert azureml_emulator.job_status(job) == "Completed"
    # The credential fetched new tokens while it watched; the emulator refuses expired ones.
    assert token_requests(azureml_emulator) - tokens_at_start >= 3
    assert job_reads_after_first_token_expired(azureml_emulator, job) >= 3


@pytest.mark.e2e
@pytest.mark.timeout(900)
@pytest.mark.azureml_emulator(token_lifetime=SHORT_LIVED)
def test_deferred_wait_outlives_short_lived_tokens(
    airflow_home: Path, azureml_emulator, make_project, monkeypatch, tmp_path: Path
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    params = {"factor": 2, "label": "toy", "nap_seconds": 4 * SHORT_LIVED}
    project = make_project(catalog=AZURE_CATALOG, parameters=params)
    output = run_deferred(airflow_home, azureml_emulator, tmp_path, project, "nap")
    assert "state=success" in output, output[-6000:]
    assert "Deferring: the triggerer watches job" in output
    (job,) = azureml_emulator.jobs()
    assert azureml_emulator.job_status(job) == "Completed"
    assert job_reads_after_first_token_expired(azureml_emulator, job) >= 3
