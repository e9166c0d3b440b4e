"""Killing the task cancels the job execute() submitted; a paused job ends the wait.

The operator runs in this process (``execute()`` in a thread, as the task runner
calls it), against the emulator over HTTPS; ``on_kill()`` is called from outside,
as Airflow does when it kills the task.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator
from tests.operators.task_thread import TaskThread, use_emulator

# Inputs under data/ stay out of the code snapshot, as they would on Azure ML.
AZURE_CATALOG = {"raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"}}


def sleepy_task_running(emulator, make_project, monkeypatch) -> tuple[TaskThread, str]:
    """A task whose job's only step sleeps, once the job runs; and the job's name."""
    use_emulator(emulator, monkeypatch)
    task = TaskThread(make_project(catalog=AZURE_CATALOG), "sleepy")
    return task, task.wait_for_job_status(emulator, "Running")


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_on_kill_cancels_the_job_execute_submitted(
    azureml_emulator, make_project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_kedro_azureml.hooks.azureml import AzureMLJobFailedException

    task, job_name = sleepy_task_running(azureml_emulator, make_project, monkeypatch)

    task.operator.on_kill()

    error = task.result(timeout=120)
    assert azureml_emulator.wait_for_job(job_name, timeout=60) == "Canceled"
    assert azureml_emulator.requests(method="POST", path_regex=rf"/jobs/{job_name}/cancel")
    assert isinstance(error, AzureMLJobFailedException)
    assert f"Azure ML job {job_name} ended Canceled" in str(error)


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_a_paused_job_ends_the_wait_and_is_left_as_it_is(
    azureml_emulator, make_project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_kedro_azureml.hooks.azureml import AzureMLJobFailedException

    task, job_name = sleepy_task_running(azureml_emulator, make_project, monkeypatch)
    started = time.monotonic()

    azureml_emulator.set_job_status(job_name, "Paused")

    error = task.result(timeout=60)
    assert time.monotonic() - started < 30  # ended by the status, not by a timeout
    assert isinstance(error, AzureMLJobFailedException)
    assert f"Azure ML job {job_name} is Paused" in str(error)
    assert "resume" in str(error).lower()
    assert azureml_emulator.job_status(job_name) == "Paused"
    assert not azureml_emulator.requests(method="POST", path_regex=r"/cancel")


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_a_kill_while_the_job_put_awaits_its_answer_cancels_the_job(
    azureml_emulator, make_project, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    # The job PUT waits 4 s before it takes effect: the kill lands while it is on its way.
    slow_put = azureml_emulator.inject_fault(
        kind="slow", method="PUT", path_regex=r"/jobs/[^/]+$", delay=4
    )
    task = TaskThread(make_project(catalog=AZURE_CATALOG), "sleepy")
    deadline = time.monotonic() + 120
    while slow_put.fired == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert slow_put.fired == 1
    job_name = task.ti.xcoms["azureml_job_name"]
    assert azureml_emulator.job_status(job_name) is None  # not created yet

    task.operator.on_kill()

    assert azureml_emulator.wait_for_job(job_name, timeout=60) == "Canceled"
    task.result(timeout=120)
    assert azureml_emulator.jobs() == [job_name]


def test_on_kill_before_submission_does_nothing(tmp_path: Path) -> None:
    operator = KedroAzureMLPipelineOperator(task_id="t", project_path=str(tmp_path))
    operator.on_kill()
    assert operator._job_name is None
