"""Injected faults against the real SDK: what it retries, and that a retried PUT makes one job."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_kedro_azureml.testing import AzureMLEmulator

JOB = r"/jobs/[^/]+$"


@pytest.mark.timeout(60)
@pytest.mark.azureml_emulator(execute_jobs=False)
def test_429_with_retry_after_is_waited_out(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    ml_client = azureml_emulator.ml_client()
    azureml_emulator.inject_fault(kind="429", method="PUT", path_regex=JOB, retry_after=1)
    started = time.monotonic()
    job = ml_client.jobs.create_or_update(make_pipeline())
    assert time.monotonic() - started >= 1.0
    puts = azureml_emulator.requests("PUT", JOB)
    assert [(r.status, r.fault) for r in puts] == [(429, "429"), (201, None)]
    assert azureml_emulator.jobs() == [job.name]


@pytest.mark.timeout(60)
@pytest.mark.azureml_emulator(execute_jobs=False)
@pytest.mark.parametrize("kind", ["503", "500"])
def test_5xx_on_job_put_is_retried(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any], kind: str
) -> None:
    ml_client = azureml_emulator.ml_client()
    azureml_emulator.inject_fault(kind=kind, method="PUT", path_regex=JOB)
    job = ml_client.jobs.create_or_update(make_pipeline())
    assert [r.status for r in azureml_emulator.requests("PUT", JOB)] == [int(kind), 201]
    assert azureml_emulator.jobs() == [job.name]


@pytest.mark.timeout(60)
@pytest.mark.azureml_emulator(execute_jobs=False)
@pytest.mark.parametrize("phase", ["before", "after"])
def test_dropped_connection_on_job_put_still_makes_exactly_one_job(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any], phase: str
) -> None:
    ml_client = azureml_emulator.ml_client()
    azureml_emulator.inject_fault(kind="drop", method="PUT", path_regex=JOB, phase=phase)
    job = ml_client.jobs.create_or_update(make_pipeline())
    puts = azureml_emulator.requests("PUT", JOB)
    # "after": the first PUT created the job and lost its answer; the retry finds it (200).
    expected_retry_status = 201 if phase == "before" else 200
    assert [(r.status, r.fault) for r in puts] == [(None, "drop"), (expected_retry_status, None)]
    assert azureml_emulator.jobs() == [job.name]


@pytest.mark.timeout(60)
@pytest.mark.azureml_emulator(execute_jobs=False)
@pytest.mark.parametrize("kind", ["drop", "503"])
def test_job_get_survives_a_fault(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any], kind: str
) -> None:
    ml_client = azureml_emulator.ml_client()
    job = ml_client.jobs.create_or_update(make_pipeline())
    azureml_emulator.reset_requests()
    azureml_emulator.inject_fault(kind=kind, method="GET", path_regex=JOB)
    assert ml_client.jobs.get(job.name).status == "NotStarted"
    gets = azureml_emulator.requests("GET", JOB)
    assert [r.fault for r in gets] == [kind, None]


@pytest.mark.timeout(60)
@pytest.mark.azureml_emulator(execute_jobs=False)
def test_dropped_cancel_is_not_retried_by_the_sdk(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    """azure-core retries connection errors only for idempotent methods: POST cancel raises."""
    from azure.core.exceptions import ServiceResponseError

    ml_client = azureml_emulator.ml_client()
    job = ml_client.jobs.create_or_update(make_pipeline())
    azureml_emulator.inject_fault(kind="drop", method="POST", path_regex=r"/cancel$")
    with pytest.raises(ServiceResponseError):
        ml_client.jobs.begin_cancel(job.name).result()
    assert len(azureml_emulator.requests("POST", r"/cancel$")) == 1
    # ... but a 503 on POST is retried (azure-core allows POST retries on 500/503/504).
    azureml_emulator.inject_fault(kind="503", method="POST", path_regex=r"/cancel$")
    ml_client.jobs.begin_cancel(job.name).result()
    assert azureml_emulator.job_status(job.name) == "Canceled"


@pytest.mark.timeout(60)
@pytest.mark.azureml_emulator(execute_jobs=False)
def test_slow_answer_delays_but_succeeds(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    ml_client = azureml_emulator.ml_client()
    job = ml_client.jobs.create_or_update(make_pipeline())
    azureml_emulator.inject_fault(kind="slow", method="GET", path_regex=JOB, delay=0.5)
    started = time.monotonic()
    ml_client.jobs.get(job.name)
    assert time.monotonic() - started >= 0.5
    (get,) = azureml_emulator.requests("GET", JOB)
    assert get.fault == "slow" and get.duration >= 0.5
