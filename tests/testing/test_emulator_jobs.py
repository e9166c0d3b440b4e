"""Pipeline jobs through the real azure-ai-ml SDK: submit, run, get, list steps, cancel."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_kedro_azureml.testing import AzureMLEmulator

BLOB_PATHS = r"^/emulatorstorage/"
JOB_PUT = r"/jobs/[^/]+$"


def _wait_for_step(emulator: AzureMLEmulator, job: str, step: str, status: str) -> None:
    deadline = time.monotonic() + 30
    while emulator.step_statuses(job).get(step) != status:
        assert time.monotonic() < deadline, emulator.step_statuses(job)
        time.sleep(0.05)


@pytest.mark.timeout(60)
def test_pipeline_job_runs_its_steps_and_reports_statuses(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    ml_client = azureml_emulator.ml_client()
    submitted = ml_client.jobs.create_or_update(make_pipeline("from-test"), experiment_name="e2e")
    assert submitted.status == "NotStarted"
    assert submitted.studio_url.startswith(azureml_emulator.url)
    (put,) = azureml_emulator.requests("PUT", JOB_PUT)
    assert put.header("x-azureml-token") == "<redacted>"  # sent, but never recorded
    assert put.header("Authorization") is None
    assert put.json["properties"]["jobs"]["consume"]["inputs"]["inp"] == {
        "job_input_type": "literal",
        "value": "${{parent.jobs.produce.outputs.out}}",
    }

    assert azureml_emulator.wait_for_job(submitted.name, timeout=30) == "Completed"

    fetched = ml_client.jobs.get(submitted.name)
    assert fetched.status == "Completed"
    assert fetched.experiment_name == "e2e"
    children = list(ml_client.jobs.list(parent_job_name=submitted.name))
    assert {child.display_name: child.status for child in children} == {
        "produce": "Completed",
        "consume": "Completed",
    }
    child = ml_client.jobs.get(children[0].name)
    assert child.status == "Completed"

    run_dir = azureml_emulator.job_run_dir(submitted.name)
    assert (run_dir / "produce" / "outputs" / "out" / "data.txt").read_text() == "payload from-test"
    assert "read: payload from-test" in azureml_emulator.job_log(submitted.name, "consume")
    assert (run_dir / "consume" / "user_logs" / "std_log.txt").is_file()
    assert (azureml_emulator.job_code_dir(submitted.name) / "step.py").is_file()
    assert azureml_emulator.errors == []
    assert azureml_emulator.unrouted_requests() == []


@pytest.mark.timeout(60)
def test_code_is_uploaded_once_and_reused_by_the_next_submission(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    ml_client = azureml_emulator.ml_client()
    first = ml_client.jobs.create_or_update(make_pipeline("one"))
    uploads = [r for r in azureml_emulator.requests("PUT", BLOB_PATHS) if "comp" not in r.query]
    assert [Path(r.path).name for r in uploads] == ["step.py"]
    metadata = azureml_emulator.requests("PUT", BLOB_PATHS, query={"comp": "metadata"})
    assert [r.status for r in metadata] == [200]
    assert len(azureml_emulator.requests("PUT", r"/codes/[^/]+/versions/[^/]+$")) == 1

    azureml_emulator.reset_requests()
    second = ml_client.jobs.create_or_update(make_pipeline("two"))
    assert azureml_emulator.requests("PUT", BLOB_PATHS) == []
    assert azureml_emulator.requests("POST", r"/startPendingUpload$") == []
    lookups = azureml_emulator.requests("GET", r"/codes/[^/]+/versions$")
    assert lookups and all("hash" in r.query for r in lookups)

    for job in (first, second):
        assert azureml_emulator.wait_for_job(job.name, timeout=30) == "Completed"
    assert "payload two" in azureml_emulator.job_log(second.name)


@pytest.mark.timeout(60)
def test_cancel_stops_the_running_step(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    ml_client = azureml_emulator.ml_client()
    job = ml_client.jobs.create_or_update(make_pipeline(consume_sleep=60))
    _wait_for_step(azureml_emulator, job.name, "consume", "Running")

    started = time.monotonic()
    ml_client.jobs.begin_cancel(job.name).result()
    assert azureml_emulator.wait_for_job(job.name, timeout=20) == "Canceled"
    assert time.monotonic() - started < 15
    assert ml_client.jobs.get(job.name).status == "Canceled"
    assert azureml_emulator.step_statuses(job.name) == {
        "produce": "Completed",
        "consume": "Canceled",
    }
    (cancel,) = azureml_emulator.requests("POST", r"/cancel$")
    assert cancel.status == 202


@pytest.mark.timeout(60)
def test_failed_step_fails_the_job_and_keeps_its_log(
    azureml_emulator: AzureMLEmulator,
    make_pipeline: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from azure.ai.ml.exceptions import JobException

    ml_client = azureml_emulator.ml_client()
    job = ml_client.jobs.create_or_update(make_pipeline(consume_fails=True))
    # jobs.stream polls run history for details and downloads the log files it lists.
    with pytest.raises(JobException, match="step failed on purpose"):
        ml_client.jobs.stream(job.name)
    streamed = capsys.readouterr().out
    assert "[consume] step started" in streamed
    assert azureml_emulator.job_status(job.name) == "Failed"
    assert ml_client.jobs.get(job.name).status == "Failed"
    assert azureml_emulator.step_statuses(job.name) == {
        "produce": "Completed",
        "consume": "Failed",
    }
    assert "step failed on purpose" in azureml_emulator.job_log(job.name, "consume")
    (consume_run,) = [
        r for r in azureml_emulator.state.children(job.name) if r["name"] == "consume"
    ]
    assert "step failed on purpose" in consume_run["error"]["error"]["message"]


@pytest.mark.timeout(60)
def test_standalone_command_job_runs(azureml_emulator: AzureMLEmulator, code_dir: Path) -> None:
    from azure.ai.ml import Output, command
    from azure.ai.ml.entities import Environment

    ml_client = azureml_emulator.ml_client()
    job = command(
        command="python step.py --out ${{outputs.out}} --text ${{inputs.text}}",
        code=str(code_dir),
        environment=Environment(image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"),
        compute="cpu-cluster",
        inputs={"text": "solo"},
        outputs={"out": Output(type="uri_folder")},
    )
    submitted = ml_client.jobs.create_or_update(job)
    assert azureml_emulator.wait_for_job(submitted.name, timeout=30) == "Completed"
    output = azureml_emulator.job_run_dir(submitted.name) / submitted.name / "outputs" / "out"
    assert (output / "data.txt").read_text() == "payload solo"


@pytest.mark.timeout(60)
def test_unknown_compute_is_a_404_and_the_sdk_raises(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    from azure.ai.ml.exceptions import MlException
    from azure.core.exceptions import ResourceNotFoundError

    ml_client = azureml_emulator.ml_client()
    with pytest.raises(ResourceNotFoundError):
        ml_client.compute.get("no-such-cluster")
    (get,) = azureml_emulator.requests("GET", r"/computes/no-such-cluster$")
    assert get.status == 404

    with pytest.raises(MlException, match="ResourceNotFound"):
        ml_client.jobs.create_or_update(make_pipeline(compute="no-such-cluster"))
    assert azureml_emulator.jobs() == []

    azureml_emulator.add_compute("gpu-cluster")
    assert ml_client.compute.get("gpu-cluster").type == "amlcompute"


@pytest.mark.timeout(60)
@pytest.mark.azureml_emulator(execute_jobs=False)
def test_without_execution_a_test_sets_the_status(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    ml_client = azureml_emulator.ml_client()
    job = ml_client.jobs.create_or_update(make_pipeline())
    assert ml_client.jobs.get(job.name).status == "NotStarted"
    azureml_emulator.set_job_status(job.name, "Running")
    assert ml_client.jobs.get(job.name).status == "Running"
    with pytest.raises(RuntimeError, match="execute_jobs=False"):
        azureml_emulator.job_log(job.name)
