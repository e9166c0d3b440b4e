"""Retries neither duplicate nor dead-end: the rules of Airflow's resumable jobs, end to end.

- a job that failed is not re-attached: the retry submits a new job, which completes;
- a worker killed (SIGKILL) while its job runs: the next try re-attaches, one job in all;
- a job that completed is returned at once by a new try of the same series.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.airflow_cli import dags_test_on_emulator
from tests.operators.task_thread import use_emulator

AZURE_CATALOG = {"raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"}}
JOB_PUT = r"/jobs/[^/]+$"

RETRY_DAG = """
from datetime import timedelta

import pendulum
from airflow.sdk import DAG
from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator

with DAG("retry_azure", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    KedroAzureMLPipelineOperator(
        task_id="run", project_path="{project}", pipeline="flaky",
        retries=1, retry_delay=timedelta(seconds=1),
    )
"""


@pytest.mark.e2e
@pytest.mark.timeout(900)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_a_failed_job_is_not_reattached_the_retry_submits_a_new_one(
    airflow_home: Path,
    azureml_emulator,
    make_project,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    marker = tmp_path / "flaky-marker"
    project = make_project(
        catalog=AZURE_CATALOG, parameters={"factor": 2, "label": "toy", "marker": str(marker)}
    )
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "retry_azure.py").write_text(RETRY_DAG.format(project=project))
    azureml_emulator.reset_requests()

    output = dags_test_on_emulator(airflow_home, dags, "retry_azure", azureml_emulator)

    assert "state=success" in output, output[-6000:]
    first, second = azureml_emulator.jobs()
    assert second == f"{first}_2"
    assert azureml_emulator.job_status(first) == "Failed"
    assert azureml_emulator.job_status(second) == "Completed"
    tries = [
        azureml_emulator.job(name)["properties"]["tags"]["airflow_try_number"]
        for name in (first, second)
    ]
    assert tries == ["1", "2"]
    assert f"Job {first} ended Failed: a new job, {second}, runs the pipeline again" in output
    assert len(azureml_emulator.requests(method="PUT", path_regex=JOB_PUT)) == 2


# One task try in its own process, as a worker runs it; its task state store is a JSON file.
WORKER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    from tests.operators.task_thread import DagRunStub, TaskInstanceStub, operator_for

    store_file = Path(sys.argv[1])

    class FileTaskStateStore:
        def get(self, key, default=None):
            data = json.loads(store_file.read_text()) if store_file.exists() else {}
            return data.get(key, default)

        def set(self, key, value, **kwargs):
            data = json.loads(store_file.read_text()) if store_file.exists() else {}
            data[key] = value
            store_file.write_text(json.dumps(data))

    operator = operator_for(Path(sys.argv[2]), sys.argv[3])
    ti = TaskInstanceStub(try_number=int(sys.argv[4]))
    context = {"ti": ti, "dag_run": DagRunStub(), "task_state_store": FileTaskStateStore()}
    print("RESULT", operator.execute(context), flush=True)
    """
)


def run_try(store: Path, project: Path, try_number: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(store), str(project), "nap", str(try_number)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "AIRFLOW__KEDRO_AZUREML__POLL_INTERVAL": "0.3"},
        start_new_session=True,
    )


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_a_worker_killed_after_submitting_is_reattached_by_the_next_try(
    azureml_emulator, make_project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    project = make_project(
        catalog=AZURE_CATALOG, parameters={"factor": 2, "label": "toy", "nap_seconds": 8}
    )
    store = tmp_path / "task_state_store.json"
    first = run_try(store, project, 1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        jobs = azureml_emulator.jobs()
        if jobs and azureml_emulator.job_status(jobs[0]) == "Running":
            break
        time.sleep(0.1)
    assert first.poll() is None, first.communicate()[0][-3000:]
    os.killpg(first.pid, signal.SIGKILL)  # the worker dies without a word
    first.wait(timeout=30)
    (job_name,) = azureml_emulator.jobs()
    assert json.loads(store.read_text())["azureml_job"]["job_name"] == job_name

    second = run_try(store, project, 2)
    output = second.communicate(timeout=300)[0]

    assert second.returncode == 0, output[-4000:]
    assert f"RESULT {job_name}" in output
    assert "re-attaching instead of submitting again" in output
    assert azureml_emulator.jobs() == [job_name]
    assert azureml_emulator.job_status(job_name) == "Completed"
    assert len(azureml_emulator.requests(method="PUT", path_regex=JOB_PUT)) == 1

    third = run_try(store, project, 3)
    output = third.communicate(timeout=300)[0]
    assert third.returncode == 0, output[-4000:]
    assert "Completed): returning it instead of submitting again" in output
    assert azureml_emulator.jobs() == [job_name]
