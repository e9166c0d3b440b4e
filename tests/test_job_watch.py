"""The rules of a wait: backoff on transient errors, progress logged once per change, end time."""

from __future__ import annotations

import logging
import time

from airflow_kedro_azureml.job_watch import JobWatch
from airflow_kedro_azureml.settings import MAX_POLL_BACKOFF
from airflow_kedro_azureml.statuses import JobState, StepState


def running(*step_statuses: str) -> JobState:
    steps = tuple(StepState(f"s{i}", status) for i, status in enumerate(step_statuses))
    return JobState("job_1", "Running", None, steps)


def test_transient_errors_back_off_doubling_to_the_bound_then_reset(caplog) -> None:
    watch = JobWatch("job_1", poll_interval=100.0)
    delays = [watch.after_transient_error(OSError("dropped")) for _ in range(4)]
    assert delays == [100.0, 200.0, MAX_POLL_BACKOFF, MAX_POLL_BACKOFF]
    assert watch.after_look(running("Running")) == 100.0
    assert watch.after_transient_error(OSError("dropped")) == 100.0
    assert "Could not get job job_1 (dropped); will try again" in caplog.text


def test_progress_is_logged_only_when_it_changes(caplog) -> None:
    caplog.set_level(logging.INFO)
    watch = JobWatch("job_1", poll_interval=1.0, total_steps=2)
    watch.after_look(running("Running", "NotStarted"))
    watch.after_look(running("Running", "NotStarted"))
    watch.after_look(running("Completed", "Running"))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Job job_1")]
    assert len(lines) == 2
    assert "1/2 steps completed" in lines[-1]


def test_end_time() -> None:
    assert not JobWatch("job_1", 1.0).timed_out()
    assert not JobWatch("job_1", 1.0, end_time=time.time() + 60).timed_out()
    assert JobWatch("job_1", 1.0, end_time=time.time() - 1).timed_out()
