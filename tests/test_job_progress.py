"""Tests for step progress lines, failure messages and status words."""

from __future__ import annotations

from airflow_kedro_azureml import statuses
from airflow_kedro_azureml.job_progress import StepState, failure_message, progress_line


def test_progress_line() -> None:
    steps = [
        StepState("a", "Completed"),
        StepState("b", "Running"),
        StepState("c", "NotStarted"),
    ]
    assert progress_line(steps, 7) == "1/7 steps completed, running: b"


def test_failure_message_names_failed_steps_with_errors() -> None:
    steps = [StepState("a", "Completed"), StepState("train", "Failed", "ValueError: bad")]
    message = failure_message("job_1", "Failed", steps)
    assert message == "Azure ML job job_1 ended Failed: step 'train' failed: ValueError: bad"
    assert failure_message("job_1", "Canceled", []) == "Azure ML job job_1 ended Canceled"


def test_statuses_normalize_sdk_enums_and_strings() -> None:
    class Enumish:
        value = "FAILED"

    assert statuses.normalize(Enumish()) == "Failed"
    assert statuses.normalize("completed") == "Completed"
    assert statuses.normalize(None) is None
    assert statuses.is_terminal("NotResponding") and not statuses.is_success("Canceled")
