"""Tests for step progress lines, failure messages and status words."""

from __future__ import annotations

from airflow_kedro_azureml import statuses
from airflow_kedro_azureml.statuses import StepState, failure_message, progress_line


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


def test_paused_ends_the_wait_without_being_a_success() -> None:
    assert statuses.is_terminal("Paused") and not statuses.is_success("Paused")
    assert "Paused" not in statuses.FAILURE_STATUSES
    message = failure_message("job_1", "Paused", [])
    assert message.startswith("Azure ML job job_1 is Paused")
    assert "resume" in message and "left as it is" in message


def test_job_state_travels_as_json_and_back() -> None:
    import json

    state = statuses.JobState(
        name="job_1",
        status="Failed",
        studio_url="https://ml.azure.com/runs/job_1",
        steps=(
            StepState("a", "Completed"),
            StepState("b", "Failed", "ValueError: bad", "the log's end", "https://studio/b"),
        ),
    )
    assert statuses.JobState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    unknown_steps = statuses.JobState("job_2", "Running")
    assert statuses.JobState.from_dict(unknown_steps.to_dict()) == unknown_steps
    assert state.is_terminal and not state.is_success
    assert not unknown_steps.is_terminal


def test_every_word_is_active_or_terminal_never_both() -> None:
    assert not statuses.ACTIVE_STATUSES & statuses.TERMINAL_STATUSES
    for word in statuses.ACTIVE_STATUSES | statuses.TERMINAL_STATUSES:
        assert statuses.normalize(word.upper()) == word


def test_progress_line_shows_canceled_steps_apart_from_failed_ones() -> None:
    steps = [
        StepState("prepare", "Completed"),
        StepState("train", "Failed"),
        StepState("evaluate", "Canceled"),
        StepState("report", "Canceled"),
    ]
    assert progress_line(steps, 4) == (
        "1/4 steps completed, failed: train, canceled: evaluate, report"
    )


def test_failure_message_shows_the_step_page_and_log_tail() -> None:
    step = StepState(
        "train",
        "Failed",
        "UserError: boom",
        "line 1\nTraceback\nValueError: boom",
        "https://ml.azure.com/runs/train_1",
    )
    message = failure_message("job_1", "Failed", [step])
    assert message == (
        "Azure ML job job_1 ended Failed: step 'train' failed: UserError: boom\n"
        "  step in the studio: https://ml.azure.com/runs/train_1\n"
        "  last lines of its log:\n"
        "    line 1\n    Traceback\n    ValueError: boom"
    )
