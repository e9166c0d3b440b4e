"""Killing the task cancels the Azure ML job; a kill before submission does nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator


def slow_pipeline_job(code: Path):
    from azure.ai.ml import command
    from azure.ai.ml.entities import PipelineJob

    (code / "slow.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(120)\n")
    step = command(
        name="slow",
        command="python slow.py",
        code=str(code),
        environment="azureml:kedro-env:1",
        compute="cpu-cluster",
    )
    return PipelineJob(jobs={"slow": step}, name="job_to_kill")


@pytest.mark.timeout(300)
def test_on_kill_cancels_the_running_job(azureml_emulator, tmp_path: Path) -> None:
    from azure.ai.ml.entities import Environment

    client = azureml_emulator.ml_client()
    client.environments.create_or_update(Environment(name="kedro-env", version="1", image="py"))
    client.jobs.create_or_update(slow_pipeline_job(tmp_path))
    deadline = time.monotonic() + 60
    while azureml_emulator.job_status("job_to_kill") != "Running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert azureml_emulator.job_status("job_to_kill") == "Running"
    operator = KedroAzureMLPipelineOperator(task_id="t", project_path=str(tmp_path))
    operator._hook = azureml_emulator.hook()
    operator._job_name = "job_to_kill"
    operator.on_kill()
    assert azureml_emulator.wait_for_job("job_to_kill", timeout=60) == "Canceled"
    assert azureml_emulator.requests(method="POST", path_regex=r"/jobs/job_to_kill/cancel")


def test_on_kill_before_submission_does_nothing(tmp_path: Path) -> None:
    operator = KedroAzureMLPipelineOperator(task_id="t", project_path=str(tmp_path))
    operator.on_kill()
