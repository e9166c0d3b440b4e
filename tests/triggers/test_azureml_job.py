"""AzureMLJobTrigger against the emulator: events for success and failure, timeout, kill."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

import pytest

from airflow_kedro_azureml.triggers.azureml_job import AzureMLJobTrigger
from tests.hand_jobs import FAIL, NAP, submit_hand_job
from tests.operators.task_thread import CLIENT_ID, SECRET, TENANT


@pytest.fixture
def connected(azureml_emulator, monkeypatch: pytest.MonkeyPatch):
    connection = azureml_emulator.airflow_connection(TENANT, CLIENT_ID, SECRET)
    monkeypatch.setenv("AIRFLOW_CONN_AZURE_ML_DEFAULT", json.dumps(connection))
    return azureml_emulator


def first_event(trigger: AzureMLJobTrigger, timeout: float = 120) -> dict:
    async def run() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(run(), timeout))


def test_serialize_round_trip() -> None:
    trigger = AzureMLJobTrigger(
        "job_1",
        "conn",
        {"subscription_id": "s", "resource_group": "r", "workspace_name": "w"},
        2.5,
        7,
        123.0,
        cancel_on_timeout=False,
        cancel_on_kill=False,
    )
    path, kwargs = trigger.serialize()
    assert path == "airflow_kedro_azureml.triggers.azureml_job.AzureMLJobTrigger"
    assert AzureMLJobTrigger(**kwargs).serialize() == (path, kwargs)


@pytest.mark.timeout(300)
def test_success_and_failure_events(connected, tmp_path: Path) -> None:
    submit_hand_job(connected, tmp_path / "ok", "ok_job", NAP.format(seconds=1))
    submit_hand_job(connected, tmp_path / "bad", "bad_job", FAIL)

    ok = first_event(AzureMLJobTrigger("ok_job", poll_interval=0.2, total_steps=1))
    bad = first_event(AzureMLJobTrigger("bad_job", poll_interval=0.2, total_steps=1))

    assert ok["status"] == "success" and ok["job"]["status"] == "Completed"
    assert bad["status"] == "failed" and bad["job"]["status"] == "Failed"
    assert "step 'work' failed" in bad["message"]
    assert "the hand job failed on purpose" in bad["message"]


@pytest.mark.timeout(300)
def test_a_missing_job_is_an_error_event_not_a_cancel(connected) -> None:
    event = first_event(AzureMLJobTrigger("no_such_job", poll_interval=0.2))
    assert event["status"] == "error" and "no_such_job" in event["message"]
    assert not connected.requests(method="POST", path_regex=r"/cancel")


@pytest.mark.timeout(300)
def test_timeout_cancels_the_job(connected, tmp_path: Path) -> None:
    submit_hand_job(connected, tmp_path / "long", "long_job", NAP.format(seconds=120))
    trigger = AzureMLJobTrigger("long_job", poll_interval=0.2, end_time=time.time() + 3)
    event = first_event(trigger)
    assert event["status"] == "timeout" and "canceled" in event["message"]
    assert connected.wait_for_job("long_job", timeout=60) == "Canceled"


@pytest.mark.timeout(300)
def test_on_kill_cancels_and_a_watcher_does_not(connected, tmp_path: Path) -> None:
    submit_hand_job(connected, tmp_path / "long", "long_job", NAP.format(seconds=120))
    deadline = time.monotonic() + 60
    while connected.job_status("long_job") != "Running" and time.monotonic() < deadline:
        time.sleep(0.1)

    asyncio.run(AzureMLJobTrigger("long_job", cancel_on_kill=False).on_kill())
    assert connected.job_status("long_job") == "Running"

    asyncio.run(AzureMLJobTrigger("long_job").on_kill())
    assert connected.wait_for_job("long_job", timeout=60) == "Canceled"


@pytest.mark.timeout(300)
def test_dropped_polls_and_a_401_are_waited_out(connected, tmp_path: Path) -> None:
    submit_hand_job(connected, tmp_path / "ok", "ok_job", NAP.format(seconds=2))
    job_get = r"/jobs/ok_job$"
    connected.inject_fault(kind="drop", method="GET", path_regex=job_get, count=4)
    connected.inject_fault(kind="401", method="GET", path_regex=job_get, count=1)
    event = first_event(AzureMLJobTrigger("ok_job", poll_interval=0.2), timeout=240)
    assert event["status"] == "success"
    fired = [r.fault for r in connected.requests() if r.fault]
    assert fired == ["drop"] * 4 + ["401"]


def stop_in_triggerer(trigger: AzureMLJobTrigger, emulator, job: str, *, by_user: bool) -> None:
    """Run ``trigger`` in Airflow's own trigger runner, then stop it as Airflow would.

    ``by_user``: the task was killed, marked or cleared (the runner's cancel queue, which
    calls ``on_kill``); otherwise the triggerer shuts down or hands the trigger to another
    triggerer (a plain cancel, then ``cleanup``).
    """
    from airflow.jobs.triggerer_job_runner import TriggerRunner

    async def scenario() -> None:
        runner = TriggerRunner()
        task = asyncio.create_task(runner.run_trigger(1, trigger))
        runner.triggers[1] = {"task": task, "name": "watch", "events": 0}
        emulator.reset_requests()
        deadline = time.monotonic() + 60
        while not emulator.requests(method="GET", path_regex=rf"/jobs/{job}$"):
            assert time.monotonic() < deadline, "the trigger never looked at the job"
            await asyncio.sleep(0.1)
        if by_user:
            runner.to_cancel.append(1)
            await runner.cancel_triggers()
        else:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.cancelled()

    asyncio.run(scenario())


@pytest.mark.timeout(300)
def test_in_the_triggerer_a_kill_cancels_and_a_restart_does_not(connected, tmp_path: Path) -> None:
    submit_hand_job(connected, tmp_path / "long", "long_job", NAP.format(seconds=120))
    trigger = AzureMLJobTrigger("long_job", poll_interval=0.2)
    stop_in_triggerer(trigger, connected, "long_job", by_user=False)
    time.sleep(1)
    assert connected.job_status("long_job") == "Running"
    assert not connected.requests(method="POST", path_regex=r"/jobs/long_job/cancel")

    # The restarted triggerer builds the trigger again from its serialized form.
    _, kwargs = trigger.serialize()
    again = AzureMLJobTrigger(**kwargs)
    stop_in_triggerer(again, connected, "long_job", by_user=True)
    assert connected.wait_for_job("long_job", timeout=60) == "Canceled"
