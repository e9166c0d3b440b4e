"""What a step task of a ``KedroAzureMLTaskGroup`` knows about its job: one XCom, one task state.

The step tasks never ask Azure ML while the group's submit task watches the job:
they read the job state it publishes (``published_job``) and the submit task's own
Airflow state, in the worker and from the triggerer alike. This module is that
one look, and the rule of what to do next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_kedro_azureml.published_job import JOB_STATE_XCOM_KEY, PublishedJob, PublishedStep
from airflow_kedro_azureml.statuses import COMPLETED

# Airflow task states of the submit task.
WATCHING = frozenset({"running", "deferred"})
"""The submit task is watching the job: wait for what it publishes."""
NOT_STARTED = frozenset(
    {None, "none", "scheduled", "queued", "up_for_retry", "up_for_reschedule", "restarting"}
)
"""The submit task has not started (or is between tries): look again later."""


@dataclass(frozen=True)
class StepLook:
    """The published job (None before the first) and the submit task's Airflow state."""

    job: PublishedJob | None
    submit_state: str | None
    step_name: str

    @property
    def step(self) -> PublishedStep | None:
        """The step as last published, if it was."""
        return None if self.job is None else self.job.step(self.step_name)

    @property
    def completed(self) -> bool:
        """The step completed (ran, or was reused) in the watched job."""
        step = self.step
        return step is not None and step.status == COMPLETED

    @property
    def submit_watching(self) -> bool:
        """The submit task is running or deferred."""
        return self.submit_state in WATCHING

    @property
    def submit_not_started(self) -> bool:
        """The submit task has not started this try yet."""
        return self.submit_state in NOT_STARTED

    @property
    def step_ended(self) -> bool:
        """The step ended in the watched job (any way)."""
        step = self.step
        return step is not None and step.is_terminal

    def step_ended_in_a_job_but(self, stale_job: str | None) -> bool:
        """The step ended in the watched job, unless that job is ``stale_job``."""
        return self.step_ended and (
            stale_job is None or self.job is None or self.job.job_name != stale_job
        )


def look(dag_id: str, run_id: str, submit_task_id: str, step_name: str) -> StepLook:
    """Read the submit task's published job and its state (two reads of Airflow's API)."""
    from airflow.providers.common.compat.sdk import XCom
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    data = XCom.get_one(
        key=JOB_STATE_XCOM_KEY, dag_id=dag_id, task_id=submit_task_id, run_id=run_id
    )
    job = PublishedJob.from_xcom(data) if isinstance(data, Mapping) else None
    states = RuntimeTaskInstance.get_task_states(
        dag_id=dag_id, task_ids=[submit_task_id], run_ids=[run_id]
    )
    return StepLook(job, _state_of(states, run_id, submit_task_id), step_name)


def _state_of(states: Mapping[str, Any], run_id: str, task_id: str) -> str | None:
    """The state of ``task_id`` in Airflow's ``{run_id: {task_id: state}}`` answer."""
    per_run = states.get(run_id, states)
    state = per_run.get(task_id) if isinstance(per_run, Mapping) else None
    return None if state is None else str(getattr(state, "value", state))
