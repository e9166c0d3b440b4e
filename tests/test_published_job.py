"""The job state the group's submit task publishes: timings, changes only, a clean end."""

from __future__ import annotations

from typing import Any

from airflow_kedro_azureml.published_job import JobStatePublisher, PublishedJob
from airflow_kedro_azureml.statuses import JobState, StepState


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state(status: str, *steps: tuple[str, str]) -> JobState:
    return JobState("job", status, "https://studio/job", tuple(StepState(*s) for s in steps))


def test_steps_get_the_times_the_watcher_saw_them_start_and_end() -> None:
    pushed: list[dict[str, Any]] = []
    clock = Clock()
    publisher = JobStatePublisher(
        pushed.append, "local", log_path_of=lambda s: f"/runs/{s}.txt", clock=clock
    )
    publisher.publish(state("Running", ("a", "NotStarted")))
    clock.now = 101.0
    publisher.publish(state("Running", ("a", "Running")))
    clock.now = 104.5
    job = publisher.publish(state("Running", ("a", "Completed"), ("b", "Running")))
    a = job.steps["a"]
    assert (a.started, a.ended, a.duration) == (101.0, 104.5, 3.5)
    assert a.log_path == "/runs/a.txt"
    assert job.steps["b"].started == 104.5 and job.steps["b"].ended is None
    assert PublishedJob.from_xcom(pushed[-1]) == job


def test_only_changes_are_pushed_and_unlisted_steps_keep_their_last_state() -> None:
    pushed: list[dict[str, Any]] = []
    publisher = JobStatePublisher(pushed.append, "azure", workspace={"subscription_id": "s"})
    publisher.publish(state("Running", ("a", "Running")))
    publisher.publish(state("Running", ("a", "Running")))
    publisher.publish(JobState("job", "Running", "https://studio/job", None))  # listing failed
    assert len(pushed) == 1
    assert pushed[0]["workspace"] == {"subscription_id": "s"}


def test_a_job_that_ended_ends_the_steps_it_never_finished() -> None:
    pushed: list[dict[str, Any]] = []
    publisher = JobStatePublisher(pushed.append, "azure")
    publisher.publish(state("Running", ("a", "Running"), ("b", "Completed")))
    failed = StepState("a", "Failed", "boom", "last line")
    job = publisher.publish(JobState("job", "Canceled", "", (failed,)))
    assert job.steps["a"].status == "Failed" and job.steps["a"].error == "boom"
    publisher.publish(state("Running", ("c", "Running")))
    job = publisher.publish(JobState("job", "Canceled", "", ()))
    assert job.steps["c"].status == "Canceled" and job.steps["c"].ended is not None
    assert job.steps["b"].status == "Completed"


def test_azure_mls_own_times_win_over_what_was_seen() -> None:
    publisher = JobStatePublisher(lambda value: None, "azure", clock=Clock())
    running = StepState("a", "Running", started=50.0)
    assert publisher.publish(JobState("job", "Running", "", (running,))).steps["a"].started == 50.0
    done = StepState("a", "Completed", started=50.0, ended=62.5)
    step = publisher.publish(JobState("job", "Completed", "", (done,))).steps["a"]
    assert (step.started, step.ended, step.duration) == (50.0, 62.5, 12.5)
