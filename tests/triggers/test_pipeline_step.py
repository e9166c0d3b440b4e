"""KedroAzureMLStepTrigger: wakes the step task when its step or the submit task ends.

What the trigger reads from Airflow (the submit task's XCom and state) is beside the
point here and is given by a stand-in ``look``; end to end, the trigger runs in the
triggerer of a real deployment (tests/task_groups/test_live_deployment.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_kedro_azureml.published_job import PublishedJob, PublishedStep
from airflow_kedro_azureml.step_lookup import StepLook, _state_of
from airflow_kedro_azureml.triggers import pipeline_step
from airflow_kedro_azureml.triggers.pipeline_step import KedroAzureMLStepTrigger


def looks(monkeypatch: pytest.MonkeyPatch, seen: Iterator[StepLook | Exception]) -> list[str]:
    calls: list[str] = []

    def fake_look(dag_id: str, run_id: str, submit: str, step: str) -> StepLook:
        calls.append(step)
        item = next(seen)
        if isinstance(item, Exception):
            raise item
        return item

    monkeypatch.setattr(pipeline_step, "look", fake_look)
    return calls


def published(**steps: str) -> PublishedJob:
    return PublishedJob("job", "Running", steps={k: PublishedStep(v) for k, v in steps.items()})


def first_event(trigger: KedroAzureMLStepTrigger) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    return asyncio.run(run())


def trigger() -> KedroAzureMLStepTrigger:
    return KedroAzureMLStepTrigger("dag", "run", "g.submit", "train", poll_interval=0.01)


def test_wakes_when_the_step_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = looks(
        monkeypatch,
        iter(
            [
                StepLook(None, "running", "train"),
                StepLook(published(train="Running"), "running", "train"),
                StepLook(published(train="Failed"), "running", "train"),
            ]
        ),
    )
    assert first_event(trigger()) == {"status": "step_ended"}
    assert len(calls) == 3


def test_wakes_when_the_submit_task_stops_watching(monkeypatch: pytest.MonkeyPatch) -> None:
    looks(monkeypatch, iter([StepLook(published(train="Running"), "failed", "train")]))
    assert first_event(trigger()) == {"status": "submit_ended", "submit_state": "failed"}


def test_read_failures_are_retried_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    errors = [RuntimeError("api down")] * 3
    looks(monkeypatch, iter([*errors, StepLook(published(train="Completed"), "running", "train")]))
    assert first_event(trigger()) == {"status": "step_ended"}
    looks(monkeypatch, iter([RuntimeError("api down")] * pipeline_step.MAX_READ_FAILURES))
    assert first_event(trigger()) == {"status": "error", "message": "api down"}


def test_serializes_to_what_rebuilds_it() -> None:
    path, kwargs = trigger().serialize()
    assert path == "airflow_kedro_azureml.triggers.pipeline_step.KedroAzureMLStepTrigger"
    assert KedroAzureMLStepTrigger(**kwargs).serialize() == (path, kwargs)


def test_the_submit_state_is_found_in_airflows_answer() -> None:
    assert _state_of({"run": {"g.submit": "running"}}, "run", "g.submit") == "running"
    assert _state_of({"g.submit": "success"}, "run", "g.submit") == "success"
    assert _state_of({"run": {}}, "run", "g.submit") is None
    seen = StepLook(published(train="Completed"), "up_for_retry", "train")
    assert seen.completed and seen.submit_not_started


def test_it_never_fires_before_not_before(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    looks(monkeypatch, iter([StepLook(published(train="Completed"), "running", "train")]))
    quick = KedroAzureMLStepTrigger(
        "dag", "run", "g.submit", "train", poll_interval=0.01, not_before=time.time() + 0.5
    )
    started = time.monotonic()
    assert first_event(quick) == {"status": "step_ended"}
    assert time.monotonic() - started >= 0.45


def test_a_stale_job_does_not_wake_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    newer = PublishedJob("job_2", "Running", steps={"train": PublishedStep("Completed")})
    looks(
        monkeypatch,
        iter(
            [
                StepLook(published(train="Failed"), "running", "train"),
                StepLook(published(train="Failed"), "running", "train"),
                StepLook(newer, "running", "train"),
            ]
        ),
    )
    waiting = KedroAzureMLStepTrigger(
        "dag", "run", "g.submit", "train", poll_interval=0.01, stale_job="job"
    )
    assert first_event(waiting) == {"status": "step_ended"}
