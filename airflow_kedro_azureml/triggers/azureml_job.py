"""AzureMLJobTrigger: watch an Azure ML job from the triggerer until it ends.

The operator (deferrable mode) and the sensor (deferrable mode) hand the wait to
this trigger, so no worker slot is held while a pipeline job runs. It polls the
hook's one job-state call (SDK calls in a thread, the connection fetched the
async way), logs step progress as it changes, and yields one event:

- ``{"status": "success", "job": <JobState>}`` when the job completed;
- ``{"status": "failed", "job": ..., "message": ...}`` when it failed, was
  canceled, stopped responding or is paused (the message says which and why);
- ``{"status": "timeout", ...}`` when ``end_time`` passed (the job was canceled
  if ``cancel_on_timeout``);
- ``{"status": "error", "message": ...}`` when Azure ML refused to answer for good
  (e.g. the job does not exist, access was revoked); the job is left alone.

Transient errors (429, 5xx, dropped connections, a 401 a fresh token fixes) are
logged and polled again with backoff. The job is canceled only when the task is
killed by a user (``on_kill``) or the wait times out; never on a triggerer
restart, a transient error or cleanup.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_kedro_azureml import DEFAULT_CONNECTION_ID, DEFAULT_POLL_INTERVAL
from airflow_kedro_azureml.errors import KedroAzureMLError, TransientAzureMLError
from airflow_kedro_azureml.job_watch import JobWatch
from airflow_kedro_azureml.statuses import JobState, failure_message


class AzureMLJobTrigger(BaseTrigger):
    """Poll Azure ML job ``job_name`` until it ends; cancel it if the task is killed.

    :param job_name: the pipeline job (or any job) to watch.
    :param azureml_conn_id: the ``azure_ml`` connection.
    :param workspace: subscription, resource group and workspace name to use where
        the connection leaves them unset (from azureml.yml), as a dict.
    :param poll_interval: seconds between two looks at the job.
    :param total_steps: the number of steps, for ``n/N steps completed`` lines.
    :param end_time: a Unix time after which the wait ends (``timeout`` event).
    :param cancel_on_timeout: cancel the job when ``end_time`` passes (the operator,
        which owns the job, does; a sensor, which only watches, does not).
    :param cancel_on_kill: cancel the job when a user kills the deferred task.
    """

    def __init__(
        self,
        job_name: str,
        azureml_conn_id: str = DEFAULT_CONNECTION_ID,
        workspace: dict[str, str | None] | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        total_steps: int | None = None,
        end_time: float | None = None,
        cancel_on_timeout: bool = True,
        cancel_on_kill: bool = True,
    ) -> None:
        super().__init__()
        self.job_name = job_name
        self.azureml_conn_id = azureml_conn_id
        self.workspace = workspace
        self.poll_interval = poll_interval
        self.total_steps = total_steps
        self.end_time = end_time
        self.cancel_on_timeout = cancel_on_timeout
        self.cancel_on_kill = cancel_on_kill
        self._hook: Any = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and arguments, to rebuild the trigger in the triggerer."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_name": self.job_name,
                "azureml_conn_id": self.azureml_conn_id,
                "workspace": self.workspace,
                "poll_interval": self.poll_interval,
                "total_steps": self.total_steps,
                "end_time": self.end_time,
                "cancel_on_timeout": self.cancel_on_timeout,
                "cancel_on_kill": self.cancel_on_kill,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the job ends or ``end_time`` passes; yield one event."""
        try:
            hook = await self._get_hook()
        except KedroAzureMLError as error:
            yield TriggerEvent(
                {"status": "error", "job_name": self.job_name, "message": str(error)}
            )
            return
        watch = JobWatch(
            self.job_name, self.poll_interval, self.total_steps, self.end_time, self.log
        )
        while True:
            if watch.timed_out():
                yield await self._time_out(hook)
                return
            try:
                state: JobState = await asyncio.to_thread(hook.get_job_state, self.job_name)
            except TransientAzureMLError as error:
                await asyncio.sleep(watch.after_transient_error(error))
                continue
            except KedroAzureMLError as error:
                yield TriggerEvent(
                    {"status": "error", "job_name": self.job_name, "message": str(error)}
                )
                return
            pause = watch.after_look(state)
            if state.is_terminal:
                yield await self._outcome(hook, state)
                return
            await self._seen(state)
            await asyncio.sleep(pause)

    async def _seen(self, state: JobState) -> None:
        """Called with each look at a job that has not ended (and with its end state)."""

    async def on_kill(self) -> None:
        """The task was killed by a user: cancel the job (within the triggerer's budget)."""
        if not self.cancel_on_kill:
            return
        hook = self._hook or await self._get_hook()
        self.log.info("Task killed: cancelling Azure ML job %s", self.job_name)
        try:
            if not await asyncio.to_thread(hook.cancel_job, self.job_name):
                self.log.warning("Job %s does not exist: nothing to cancel", self.job_name)
        except KedroAzureMLError as error:
            self.log.error("Could not cancel job %s: %s", self.job_name, error)

    async def _get_hook(self) -> Any:
        from airflow_kedro_azureml.connection import WorkspaceRef
        from airflow_kedro_azureml.hooks.azureml import AzureMLHook

        connection = await AzureMLHook.aget_connection(self.azureml_conn_id)
        workspace = WorkspaceRef(**self.workspace) if self.workspace else None
        self._hook = AzureMLHook(
            azureml_conn_id=self.azureml_conn_id, workspace=workspace, connection=connection
        )
        return self._hook

    async def _outcome(self, hook: Any, state: JobState) -> TriggerEvent:
        if state.is_success:
            await self._seen(state)
            return TriggerEvent({"status": "success", "job": state.to_dict()})
        state = await asyncio.to_thread(hook.ended_job_state, state)
        await self._seen(state)
        return TriggerEvent(
            {
                "status": "failed",
                "job": state.to_dict(),
                "message": failure_message(self.job_name, state.status, state.steps or ()),
            }
        )

    async def _time_out(self, hook: Any) -> TriggerEvent:
        if not self.cancel_on_timeout:
            message = f"Azure ML job {self.job_name} did not end in time"
            return TriggerEvent(
                {"status": "timeout", "job_name": self.job_name, "message": message}
            )
        self.log.info("Timed out: cancelling Azure ML job %s", self.job_name)
        message = f"Azure ML job {self.job_name} timed out and was canceled"
        try:
            if not await asyncio.to_thread(hook.cancel_job, self.job_name):
                message = f"Azure ML job {self.job_name} timed out (it does not exist)"
        except KedroAzureMLError as error:
            message = f"Azure ML job {self.job_name} timed out; cancelling it failed: {error}"
        return TriggerEvent({"status": "timeout", "job_name": self.job_name, "message": message})
