"""KedroAzureMLStepTrigger: wake a deferred step task when its step ends in the group's job.

It reads what the group's submit task publishes (the job state in its XCom, and the
submit task's Airflow state) every ``poll_interval`` seconds and asks Azure ML
nothing: the submit task is the one watcher of the job. It yields one event:

- ``{"status": "step_ended"}`` when the step ended in the watched job;
- ``{"status": "submit_ended", "submit_state": ...}`` when the submit task ended (or
  stopped watching) before the step did: the step task decides what that means;
- ``{"status": "error", "message": ...}`` when Airflow could not be read, for good.

It never fires before ``not_before`` (a few seconds after the task deferred): Airflow
3.3's scheduler can fail a deferred task whose trigger fires so soon that the resumed
try is running before the scheduler has handled the deferring try's exit
(apache/airflow#71580, #72716); a step that ends within seconds of its task
deferring waits out that window instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_kedro_azureml import DEFAULT_POLL_INTERVAL
from airflow_kedro_azureml.step_lookup import look

# Consecutive failed reads of Airflow's API before the trigger gives up.
MAX_READ_FAILURES = 10


class KedroAzureMLStepTrigger(BaseTrigger):
    """Wait until step ``step_name`` ends in the job the submit task publishes.

    :param dag_id: the DAG of the task group.
    :param run_id: the DAG run.
    :param submit_task_id: the group's submit task (the one watcher of the job).
    :param step_name: the compiled step this task stands for.
    :param poll_interval: seconds between two reads of the submit task's XCom.
    :param not_before: Unix time before which the trigger does not fire.
    :param stale_job: a job whose end of the step this task has already acted on (a
        retry, or a new try of the submit task that has not published its job yet).
    """

    def __init__(
        self,
        dag_id: str,
        run_id: str,
        submit_task_id: str,
        step_name: str,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        not_before: float | None = None,
        stale_job: str | None = None,
    ) -> None:
        super().__init__()
        self.not_before = not_before
        self.stale_job = stale_job
        self.dag_id = dag_id
        self.run_id = run_id
        self.submit_task_id = submit_task_id
        self.step_name = step_name
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and arguments, to rebuild the trigger in the triggerer."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "dag_id": self.dag_id,
                "run_id": self.run_id,
                "submit_task_id": self.submit_task_id,
                "step_name": self.step_name,
                "poll_interval": self.poll_interval,
                "not_before": self.not_before,
                "stale_job": self.stale_job,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Read the published job state until the step or the submit task ends."""
        failures = 0
        while True:
            try:
                seen = await asyncio.to_thread(
                    look, self.dag_id, self.run_id, self.submit_task_id, self.step_name
                )
            except Exception as error:  # Airflow's API did not answer this time
                failures += 1
                if failures >= MAX_READ_FAILURES:
                    yield TriggerEvent({"status": "error", "message": str(error)})
                    return
                self.log.warning("Could not read the state of %s (%s)", self.submit_task_id, error)
                await asyncio.sleep(self.poll_interval)
                continue
            failures = 0
            step_ended = seen.step_ended_in_a_job_but(self.stale_job)
            if step_ended or not seen.submit_watching:
                await self._settle()
            if step_ended:
                yield TriggerEvent({"status": "step_ended"})
                return
            if not seen.submit_watching:
                yield TriggerEvent({"status": "submit_ended", "submit_state": seen.submit_state})
                return
            await asyncio.sleep(self.poll_interval)

    async def _settle(self) -> None:
        """Wait until ``not_before`` (see the module's docstring)."""
        if self.not_before is not None:
            delay = self.not_before - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
