"""Job schedules through the real SDK: create, get, disable, enable, delete, fire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_kedro_azureml.testing import AzureMLEmulator


def _schedule(name: str, pipeline_job: Any) -> Any:
    from azure.ai.ml.entities import CronTrigger, JobSchedule

    trigger = CronTrigger(expression="0 6 10 * *", time_zone="UTC")
    return JobSchedule(name=name, trigger=trigger, create_job=pipeline_job)


@pytest.mark.timeout(60)
def test_schedule_life_cycle(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    ml_client = azureml_emulator.ml_client()
    created = ml_client.schedules.begin_create_or_update(
        _schedule("monthly-retrain", make_pipeline("scheduled"))
    ).result()
    assert created.is_enabled is True  # filled in by the service: the SDK does not send it
    (put,) = azureml_emulator.requests("PUT", r"/schedules/monthly-retrain$")
    assert "isEnabled" not in put.json["properties"]
    assert put.json["properties"]["trigger"]["expression"] == "0 6 10 * *"

    fetched = ml_client.schedules.get("monthly-retrain")
    assert fetched.trigger.expression == "0 6 10 * *"
    assert fetched.create_job.jobs.keys() == {"produce", "consume"}

    assert ml_client.schedules.begin_disable("monthly-retrain").result().is_enabled is False
    assert azureml_emulator.schedule("monthly-retrain")["properties"]["isEnabled"] is False
    assert ml_client.schedules.begin_enable("monthly-retrain").result().is_enabled is True

    job_name = azureml_emulator.trigger_schedule("monthly-retrain")
    assert azureml_emulator.wait_for_job(job_name, timeout=30) == "Completed"
    assert "payload scheduled" in azureml_emulator.job_log(job_name, "consume")

    ml_client.schedules.begin_delete("monthly-retrain").result()
    assert azureml_emulator.schedule("monthly-retrain") is None
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError):
        ml_client.schedules.get("monthly-retrain")


@pytest.mark.timeout(60)
@pytest.mark.azureml_emulator(lro_mode="async", execute_jobs=False)
def test_async_operations_are_polled(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    ml_client = azureml_emulator.ml_client()
    poller = ml_client.schedules.begin_create_or_update(_schedule("polled", make_pipeline()))
    assert poller.result().name == "polled"
    (put,) = azureml_emulator.requests("PUT", r"/schedules/polled$")
    assert put.status == 201
    ml_client.schedules.begin_delete("polled").result()
    (delete,) = azureml_emulator.requests("DELETE", r"/schedules/polled$")
    assert delete.status == 202
    assert azureml_emulator.requests("GET", r"/mfeOperation(sStatus|Results)/")
    assert azureml_emulator.schedule("polled") is None
