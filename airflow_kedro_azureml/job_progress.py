"""Summarise a pipeline job's steps for the task log and for failure messages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from airflow_kedro_azureml import statuses


@dataclass(frozen=True)
class StepState:
    """One step job as seen from its parent: name, status, and error if it has one."""

    name: str
    status: str
    error: str | None = None


def progress_line(steps: Iterable[StepState], total: int) -> str:
    """E.g. ``3/7 steps completed, running: train_model``."""
    steps = list(steps)
    completed = sum(1 for step in steps if step.status == statuses.COMPLETED)
    running = sorted(step.name for step in steps if step.status == statuses.RUNNING)
    failed = sorted(step.name for step in steps if step.status in statuses.FAILURE_STATUSES)
    line = f"{completed}/{total} steps completed"
    if running:
        line += f", running: {', '.join(running)}"
    if failed:
        line += f", failed: {', '.join(failed)}"
    return line


def failure_message(job_name: str, status: str, steps: Iterable[StepState]) -> str:
    """Name the steps that failed, with their errors, for the task's exception."""
    failed = [step for step in steps if step.status == statuses.FAILED]
    if not failed:
        return f"Azure ML job {job_name} ended {status}"
    details = "; ".join(
        f"step {step.name!r} failed" + (f": {step.error}" if step.error else "") for step in failed
    )
    return f"Azure ML job {job_name} ended {status}: {details}"
