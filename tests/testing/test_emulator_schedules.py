"""Job schedules through the real SDK: create, get, disable, enable, delete, fire."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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


TRIGGER_TIME = "${{creation_context.trigger_time}}"


def _wall_clock(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.timeout(180)
def test_a_cron_fires_at_its_times_in_its_zone_with_the_trigger_time(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    from azure.ai.ml.entities import CronTrigger, JobSchedule
    from croniter import croniter

    from airflow_kedro_azureml.testing.routes.jobs import trigger_time_text

    start = datetime.now(UTC) + timedelta(days=1)
    trigger = CronTrigger(
        expression="0 6 10 * *",
        start_time=_wall_clock(start, "Europe/Paris"),
        time_zone="Romance Standard Time",
    )
    schedule = JobSchedule(name="paris", trigger=trigger, create_job=make_pipeline(TRIGGER_TIME))
    azureml_emulator.ml_client().schedules.begin_create_or_update(schedule).result()
    assert azureml_emulator.jobs() == []  # a start time: nothing fires at creation
    cursor = croniter("0 6 10 * *", start.astimezone(ZoneInfo("Europe/Paris")))
    expected = [cursor.get_next(datetime).astimezone(UTC) for _ in range(3)]
    jobs = azureml_emulator.advance_schedules(expected[-1])
    assert len(jobs) == 3
    for job, when in zip(jobs, expected, strict=True):
        assert when.astimezone(ZoneInfo("Europe/Paris")).hour == 6  # 06:00 Paris, DST or not
        value = azureml_emulator.job(job)["properties"]["inputs"]["text"]["value"]
        assert value == trigger_time_text(when)
        assert azureml_emulator.wait_for_job(job, timeout=60) == "Completed"
        assert f"payload {value}" in azureml_emulator.job_log(job, "consume")
    assert azureml_emulator.advance_schedules(expected[-1] + timedelta(days=1)) == []


@pytest.mark.timeout(120)
@pytest.mark.azureml_emulator(execute_jobs=False)
def test_recurrence_end_time_disable_and_a_schedule_without_start(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    from azure.ai.ml.entities import JobSchedule, RecurrencePattern, RecurrenceTrigger

    client = azureml_emulator.ml_client()
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    daily = RecurrenceTrigger(
        frequency="day",
        interval=1,
        schedule=RecurrencePattern(hours=[6, 18], minutes=[30]),
        start_time=_wall_clock(start, "UTC"),
        end_time=_wall_clock(start + timedelta(days=2), "UTC"),
        time_zone="UTC",
    )
    client.schedules.begin_create_or_update(
        JobSchedule(name="daily", trigger=daily, create_job=make_pipeline())
    ).result()
    fired = azureml_emulator.advance_schedules(start + timedelta(days=5))
    assert len(fired) == 4  # 06:30 and 18:30 on two days, then the end time
    assert [azureml_emulator.job(j)["properties"]["inputs"]["text"]["value"] for j in fired] == [
        "hello"
    ] * 4

    client.schedules.begin_disable("daily").result()
    assert azureml_emulator.advance_schedules(start + timedelta(days=9)) == []

    at_once = JobSchedule(name="at-once", trigger=daily, create_job=make_pipeline())
    at_once.trigger.start_time = None
    at_once.trigger.end_time = None
    before = set(azureml_emulator.jobs())
    client.schedules.begin_create_or_update(at_once).result()
    assert len(set(azureml_emulator.jobs()) - before) == 1  # no start time: fires at creation


@pytest.mark.timeout(120)
@pytest.mark.azureml_emulator(execute_jobs=False)
def test_a_schedule_built_from_a_submitted_job_is_refused(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    from azure.core.exceptions import HttpResponseError

    client = azureml_emulator.ml_client()
    submitted = client.jobs.create_or_update(make_pipeline())
    with pytest.raises(HttpResponseError, match="Invalid jobs override for pipeline job"):
        client.schedules.begin_create_or_update(_schedule("trap", submitted)).result()
    assert azureml_emulator.schedule("trap") is None


@pytest.mark.timeout(60)
@pytest.mark.azureml_emulator(execute_jobs=False)
def test_trigger_now_through_the_sdk(
    azureml_emulator: AzureMLEmulator, make_pipeline: Callable[..., Any]
) -> None:
    client = azureml_emulator.ml_client()
    client.schedules.begin_create_or_update(_schedule("now", make_pipeline(TRIGGER_TIME))).result()
    before = set(azureml_emulator.jobs())
    result = client.schedules.trigger("now")
    assert set(azureml_emulator.jobs()) - before == {result.job_name}
    value = azureml_emulator.job(result.job_name)["properties"]["inputs"]["text"]["value"]
    assert value.startswith(str(datetime.now(UTC).year)) and value.endswith("Z")
