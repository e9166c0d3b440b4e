"""AzureMLJobSensor: wait for an Azure ML job to end, in poke, reschedule or deferrable mode.

Works on a job the operator submitted (template the name from its XCom) or on
any job named by hand::

    AzureMLJobSensor(
        task_id="wait_for_training",
        job_name="{{ ti.xcom_pull(task_ids='train', key='azureml_job_name') }}",
        mode="reschedule",
    )

``Completed`` succeeds. ``Failed``, ``Canceled`` and ``NotResponding`` fail the
task naming the failed steps and their errors; ``Paused`` fails it too, saying
the job waits for someone to resume it (the job is left as it is). The sensor
only watches: its timeout or a kill never cancels the job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_kedro_azureml import DEFAULT_CONNECTION_ID
from airflow_kedro_azureml.errors import KedroAzureMLError, TransientAzureMLError
from airflow_kedro_azureml.hooks.azureml import AzureMLJobFailedException
from airflow_kedro_azureml.links import JOB_URL_XCOM_KEY, AzureMLJobLink
from airflow_kedro_azureml.settings import checked_poll_interval, default_deferrable
from airflow_kedro_azureml.statuses import JobState, failure_message

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_kedro_azureml.hooks.azureml import AzureMLHook


class AzureMLJobSensor(BaseSensorOperator):
    """Succeed when Azure ML job ``job_name`` completes; fail when it fails or is canceled.

    :param job_name: the job to watch (templated).
    :param azureml_conn_id: an ``azure_ml`` connection.
    :param subscription_id, resource_group, workspace_name: the workspace, where the
        connection leaves it unset (templated).
    :param deferrable: wait in the triggerer (``AzureMLJobTrigger``); defaults to
        Airflow's ``[operators] default_deferrable``.
    :param poke_interval: seconds between looks (Airflow's sensor argument); defaults to
        the Airflow setting ``[kedro_azureml] poll_interval``.
    :param local_runs_dir: with a connection that selects the local backend, the folder of
        local runs (absolute; default: the connection's ``local_runs_dir`` extra). The
        sensor then reads the state a local run keeps in ``<folder>/<job>/job.json``,
        waiting in the worker whatever ``deferrable`` says.
    """

    template_fields: Sequence[str] = (
        "job_name",
        "subscription_id",
        "resource_group",
        "workspace_name",
        "local_runs_dir",
    )
    operator_extra_links = (AzureMLJobLink(),)
    ui_color = "#ffe680"

    def __init__(
        self,
        *,
        job_name: str,
        azureml_conn_id: str = DEFAULT_CONNECTION_ID,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        workspace_name: str | None = None,
        deferrable: bool | None = None,
        poke_interval: float | None = None,
        local_runs_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            poke_interval=checked_poll_interval(poke_interval, "poke_interval"), **kwargs
        )
        self.job_name = job_name
        self.azureml_conn_id = azureml_conn_id
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.workspace_name = workspace_name
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.local_runs_dir = local_runs_dir
        self.studio_url: str | None = None
        self._recorded_url: str | None = None

    def execute(self, context: Context) -> Any:
        """Poke until done; in deferrable mode, poke once and hand the rest to the triggerer."""
        if not self.deferrable or self._hook().settings.is_local:
            return super().execute(context)
        if self.poke(context):
            return None
        self._record_url(context)  # the link of the task resumed after deferring reads it
        from airflow_kedro_azureml.triggers.azureml_job import AzureMLJobTrigger

        self.defer(
            trigger=AzureMLJobTrigger(
                job_name=self.job_name,
                azureml_conn_id=self.azureml_conn_id,
                workspace=self._workspace_fields(),
                poll_interval=float(self.poke_interval),
                end_time=time.time() + float(self.timeout),
                cancel_on_timeout=False,
                cancel_on_kill=False,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> None:
        """Resume after ``AzureMLJobTrigger``."""
        from airflow.sdk.exceptions import AirflowSensorTimeout

        status = event.get("status")
        if status == "success":
            self.log.info("Job %s completed", self.job_name)
            return
        if status == "failed":
            raise AzureMLJobFailedException(str(event.get("message")))
        if status == "timeout":
            raise AirflowSensorTimeout(str(event.get("message")))
        raise AirflowFailException(
            f"watching Azure ML job {self.job_name} failed: {event.get('message')}"
        )

    def poke(self, context: Context) -> bool:
        """True once the job completed; raise when it ended otherwise."""
        hook = self._hook()
        if hook.settings.is_local:
            return self._poke_local(hook, context)
        try:
            state = hook.get_job_state(self.job_name)
        except TransientAzureMLError as error:
            self.log.warning("Could not get job %s (%s); will look again", self.job_name, error)
            return False
        except KedroAzureMLError as error:
            raise AirflowFailException(str(error)) from None
        return self._judge(state, lambda: self._failure(hook.ended_job_state(state)))

    def _record_url(self, context: Context) -> None:
        """Keep the job's URL in the task's XCom (once) for its Azure ML Studio link."""
        ti = context.get("ti")
        if self.studio_url and ti is not None and self.studio_url != self._recorded_url:
            ti.xcom_push(key=JOB_URL_XCOM_KEY, value=self.studio_url)
            self._recorded_url = self.studio_url

    def _poke_local(self, hook: AzureMLHook, context: Context) -> bool:
        """The local backend's job: read the state its run keeps in its folder."""
        from pathlib import Path

        from airflow_kedro_azureml.local.job import read_local_job_state

        folder = self.local_runs_dir or hook.settings.local_runs_dir
        if not folder or not Path(folder).is_absolute():
            raise AirflowFailException(
                f"on the local backend the sensor needs the folder of local runs, as an "
                f"absolute path (got {folder!r}): set local_runs_dir on the sensor, or the "
                f"extra 'local_runs_dir' of connection {self.azureml_conn_id!r}"
            )
        state = read_local_job_state(Path(folder), self.job_name)
        if state is None:
            self.log.info("Local job %s has not started in %s", self.job_name, folder)
            return False
        self.studio_url = state.studio_url or self.studio_url
        # The link of a local run is the API server's page of the run folder recorded here.
        self._record_url(context)
        return self._judge(state, lambda: self._failure(state))

    def _judge(self, state: JobState, failure: Callable[[], str]) -> bool:
        """False while ``state`` is not final, True when completed; raise ``failure()``."""
        self.studio_url = state.studio_url or self.studio_url
        self.log.info("Job %s is %s", self.job_name, state.status)
        if not state.is_terminal:
            return False
        if state.is_success:
            return True
        raise AzureMLJobFailedException(failure())

    def _failure(self, state: JobState) -> str:
        return failure_message(self.job_name, state.status, state.steps or ())

    def _workspace_fields(self) -> dict[str, str | None] | None:
        fields = {
            "subscription_id": self.subscription_id,
            "resource_group": self.resource_group,
            "workspace_name": self.workspace_name,
        }
        return fields if any(fields.values()) else None

    def _hook(self) -> AzureMLHook:
        from airflow_kedro_azureml.connection import WorkspaceRef
        from airflow_kedro_azureml.hooks.azureml import AzureMLHook

        fields = self._workspace_fields()
        try:
            hook = AzureMLHook(
                azureml_conn_id=self.azureml_conn_id,
                workspace=WorkspaceRef(**fields) if fields else None,
            )
            if not hook.settings.is_local:
                hook.workspace  # noqa: B018 - a clear error now for an incomplete workspace
        except KedroAzureMLError as error:
            raise AirflowFailException(str(error)) from None
        return hook
