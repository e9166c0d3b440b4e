"""AzureMLHook: the only place that sends requests to Azure ML through the SDK.

It turns an ``azure_ml`` Airflow connection into a credential and one cached
``MLClient``, and wraps the calls operators, sensors and triggers need: submit,
job state (``JobState``: status, steps, studio URL), cancel, schedules, and a
``test_connection`` that makes a real request. It hands back plain data, never
SDK objects, and raises the package's own errors (``TransientAzureMLError`` or
``AzureMLRequestError``), never azure-core's. It never opens an interactive
browser login.
"""

from __future__ import annotations

import logging
import os
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowException

from airflow_kedro_azureml import CONNECTION_TYPE, DEFAULT_CONNECTION_ID, statuses
from airflow_kedro_azureml.connection import (
    ConnectionSettings,
    WorkspaceRef,
    parse_connection,
    ui_field_behaviour,
)
from airflow_kedro_azureml.errors import (
    AzureMLRequestError,
    ConfigError,
    ConnectionSettingsError,
    KedroAzureMLError,
    TransientAzureMLError,
)
from airflow_kedro_azureml.hooks.credentials import credential_for
from airflow_kedro_azureml.hooks.request_errors import translated_errors
from airflow_kedro_azureml.settings import request_timeouts
from airflow_kedro_azureml.statuses import JobState, StepState

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.ai.ml.entities import Job, JobSchedule, PipelineJob
    from azure.core.credentials import TokenCredential

    from airflow_kedro_azureml.compiler.spec import ProjectEnvironment


# Seconds a cancel keeps trying; within the triggerer's 30 s budget for a kill.
CANCEL_PATIENCE = 25.0
STEP_LOG_FILE = "user_logs/std_log.txt"


class AzureMLJobFailedException(AirflowException):
    """The Kedro pipeline's job ended without completing (failed, canceled, paused).

    The message names the failed steps with their errors. Airflow's retries apply:
    a retry may succeed where a flaky step failed.
    """


class AzureMLHook(BaseHook):
    """Azure ML through an ``azure_ml`` connection: credentials, client, jobs and schedules."""

    conn_name_attr = "azureml_conn_id"
    default_conn_name = DEFAULT_CONNECTION_ID
    conn_type = CONNECTION_TYPE
    hook_name = "Azure Machine Learning (Kedro)"

    def __init__(
        self,
        azureml_conn_id: str = DEFAULT_CONNECTION_ID,
        workspace: WorkspaceRef | None = None,
        connection: Any = None,
        **kwargs: Any,
    ) -> None:
        """``connection``: the Airflow connection, when the caller fetched it already
        (a trigger does, the async way); otherwise it is fetched on first use."""
        super().__init__(**kwargs)
        self.azureml_conn_id = azureml_conn_id
        self._fallback_workspace = workspace
        if connection is not None:
            self.__dict__["_connection"] = connection

    # -- connection ---------------------------------------------------------------------------

    @cached_property
    def _connection(self) -> Any:
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            return self.get_connection(self.azureml_conn_id)
        except AirflowNotFoundException:
            raise ConnectionSettingsError(
                f"there is no Airflow connection {self.azureml_conn_id!r}: create one of type "
                f"{CONNECTION_TYPE!r}, or set azureml_conn_id to an existing one"
            ) from None

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The parsed connection (the client secret is not part of it)."""
        connection = self._connection
        conn_type = getattr(connection, "conn_type", None)
        if conn_type not in (None, CONNECTION_TYPE):
            raise ConnectionSettingsError(
                f"connection {self.azureml_conn_id!r} is of type {conn_type!r}, not "
                f"{CONNECTION_TYPE!r}: use an {CONNECTION_TYPE!r} connection"
            )
        return parse_connection(self.azureml_conn_id, connection.login, connection.extra_dejson)

    @property
    def workspace(self) -> WorkspaceRef:
        """The workspace: connection values win over the ones from azureml.yml."""
        return self.settings.workspace(self._fallback_workspace)

    def get_credential(self) -> TokenCredential:
        """A credential from the connection: service principal, managed or workload identity.

        Without any of them, the default credential chain (environment, workload
        identity, managed identity, Azure CLI...), never an interactive login.
        """
        return credential_for(self.settings, self._connection.password)

    @cached_property
    def client(self) -> MLClient:
        """One ``MLClient`` for this hook's workspace (SDK telemetry off)."""
        from azure.ai.ml import MLClient

        # azure-core logs every request's headers at INFO, azure-identity every token
        # it gets: noise in a task log.
        for noisy in ("azure.core.pipeline.policies.http_logging_policy", "azure.identity"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        workspace = self.workspace
        # With show_progress off, the SDK's code upload never collects a failed file
        # upload and waits forever for it; on, it raises the upload's error at once.
        # Its progress bars (tqdm) stay out of the task log.
        os.environ.setdefault("TQDM_DISABLE", "1")
        kwargs: dict[str, Any] = {
            "enable_telemetry": False,
            "show_progress": True,
            **request_timeouts(),
        }
        if self.settings.cloud:
            kwargs["cloud"] = self.settings.cloud
        return MLClient(
            credential=self.get_credential(),
            subscription_id=workspace.subscription_id,
            resource_group_name=workspace.resource_group,
            workspace_name=workspace.workspace_name,
            **kwargs,
        )

    # -- workspace assets ---------------------------------------------------------------------

    @property
    def workspace_arm_id(self) -> str:
        """``/subscriptions/.../workspaces/NAME`` of this hook's workspace."""
        workspace = self.workspace
        return (
            f"/subscriptions/{workspace.subscription_id}/resourceGroups/"
            f"{workspace.resource_group}/providers/Microsoft.MachineLearningServices/"
            f"workspaces/{workspace.workspace_name}"
        )

    def compute_arm_id(self, name: str) -> str:
        """The ARM id of compute ``name`` (no request)."""
        return f"{self.workspace_arm_id}/computes/{name}"

    def environment_arm_id(
        self,
        environment: str | None,
        image: str | None,
        project_environment: ProjectEnvironment | None = None,
    ) -> str:
        """The ARM id of a step environment, resolved once per submission.

        ``name@label`` (e.g. ``@latest``) costs one request; ``name:version`` and ARM
        ids cost none; a docker ``image`` registers (or finds) an anonymous environment;
        an environment built from the project's dependencies costs one lookup when the
        workspace has its version, and registers it when not.
        """
        if not image and not environment:
            if project_environment is not None:
                return self._project_environment_arm_id(project_environment)
            raise ConfigError(
                "azureml.yml sets neither 'execution.environment' nor 'execution.image'"
            )
        with translated_errors(f"resolve environment {environment or image!r}"):
            if image:
                from azure.ai.ml.entities import Environment

                return str(self.client.environments.create_or_update(Environment(image=image)).id)
            reference = str(environment).removeprefix("azureml:")
            if reference.startswith("/subscriptions/"):
                return reference
            if "@" in reference:
                name, label = reference.split("@", 1)
                return str(self.client.environments.get(name=name, label=label).id)
            if ":" in reference:
                name, version = reference.split(":", 1)
                if not self._exists(lambda: self.client.environments.get(name, version=version)):
                    raise ConfigError(
                        f"the workspace has no environment {name!r} version {version!r} "
                        "(execution.environment in azureml.yml): register it, or name one "
                        "that exists; nothing was submitted"
                    )
                return f"{self.workspace_arm_id}/environments/{name}/versions/{version}"
            return str(self.client.environments.get(name=reference, label="latest").id)

    def _project_environment_arm_id(self, wanted: ProjectEnvironment) -> str:
        from azure.ai.ml.entities import Environment

        arm_id = f"{self.workspace_arm_id}/environments/{wanted.name}/versions/{wanted.version}"
        label = f"environment {wanted.name}:{wanted.version} (from {wanted.source})"
        with translated_errors(f"find or register {label}"):
            if self._exists(lambda: self.client.environments.get(wanted.name, wanted.version)):
                return arm_id
            self.log.info("Registering %s on %s", label, wanted.base_image)
            import yaml

            registered = self.client.environments.create_or_update(
                Environment(
                    name=wanted.name,
                    version=wanted.version,
                    image=wanted.base_image,
                    conda_file=yaml.safe_load(wanted.conda_yaml),
                    description=f"Built by airflow-kedro-azureml from {wanted.source}",
                )
            )
        return str(registered.id or arm_id)

    def latest_data_version(self, name: str) -> str:
        """The latest version of data asset ``name`` (one request: the asset's container).

        ``data.get(label="latest")`` would also GET that version; only its number is needed.
        """
        from azure.core.exceptions import ResourceNotFoundError

        operations = self.client.data
        with translated_errors(f"get the latest version of data asset {name!r}"):
            try:
                # Private SDK attribute: the data-container REST operations the SDK's own
                # "latest" label resolution reads (azure/ai/ml/_utils/_asset_utils.py).
                container = operations._container_operation.get(
                    name=name,
                    resource_group_name=str(self.workspace.resource_group),
                    workspace_name=str(self.workspace.workspace_name),
                )
            except ResourceNotFoundError:
                raise AzureMLRequestError(
                    f"data asset {name!r} does not exist in workspace "
                    f"{self.workspace.workspace_name!r}; register it (or pin a version that does)",
                    status_code=404,
                ) from None
        return str(container.properties.latest_version)

    def data_version_exists(self, name: str, version: str) -> bool:
        """Whether data asset ``name`` has ``version`` (one request)."""
        with translated_errors(f"look up data asset {name}:{version}"):
            return self._exists(lambda: self.client.data.get(name, version=version))

    def register_data_folder(self, name: str, version: str, folder: Path, description: str) -> None:
        """Upload ``folder`` and register it as version ``version`` of data asset ``name``."""
        from azure.ai.ml.entities import Data

        with translated_errors(f"register data asset {name}:{version}"):
            self.client.data.create_or_update(
                Data(
                    name=name,
                    version=version,
                    type="uri_folder",
                    path=str(folder),
                    description=description,
                )
            )

    def component_versions(self, name: str) -> set[str]:
        """The versions of component ``name`` the workspace has (one listing)."""
        from azure.core.exceptions import ResourceNotFoundError

        with translated_errors(f"list versions of component {name!r}"):
            try:
                return {
                    str(component.version) for component in self.client.components.list(name=name)
                }
            except ResourceNotFoundError:
                return set()

    def tag_data_version(self, name: str, version: str, tags: dict[str, str]) -> None:
        """Add ``tags`` to version ``version`` of data asset ``name`` (its data stays as is)."""
        with translated_errors(f"tag data asset {name}:{version}"):
            data = self.client.data.get(name=name, version=version)
            data.tags = {**(data.tags or {}), **tags}
            self.client.data.create_or_update(data)

    def create_component(self, component: Any) -> str | None:
        """Register a component version (uploading its code if it is a local folder).

        Returns the ARM id of the uploaded code, for the next components to reuse.
        """
        try:
            with translated_errors(f"register component {component.name}:{component.version}"):
                registered = self.client.components.create_or_update(component)
        except AzureMLRequestError as error:
            if error.status_code != 409:
                raise
            # A blob of the code upload already exists: an earlier attempt's answer was
            # lost. The next attempt finds the unconfirmed upload and writes over it.
            raise TransientAzureMLError(str(error), status_code=409, answer_lost=True) from error
        return getattr(registered, "code", None)

    def compute_exists(self, name: str) -> bool:
        """True when the workspace has a compute called ``name``."""
        with translated_errors(f"look up compute {name!r}"):
            return self._exists(lambda: self.client.compute.get(name))

    def workspace_exists(self) -> bool:
        """True when this hook's workspace exists (and the credential may see it)."""
        name = self.workspace.workspace_name
        with translated_errors(f"look up workspace {name!r}"):
            return self._exists(lambda: self.client.workspaces.get(name))

    @staticmethod
    def _exists(get: Any) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            get()
        except ResourceNotFoundError:
            return False
        return True

    # -- jobs ---------------------------------------------------------------------------------

    def submit_pipeline_job(
        self,
        job: PipelineJob,
        experiment_name: str | None = None,
        computes_checked: bool = False,
        validated_before: bool = False,
    ) -> JobState:
        """Create the pipeline job (uploading code and components it needs); its state.

        With ``computes_checked`` (the caller has looked each distinct compute up),
        the SDK's offline validation runs here and its per-step compute lookups are
        skipped: one request per compute instead of one per step. ``validated_before``
        (every component is registered already) skips the offline validation too.
        """
        with translated_errors(f"submit job {job.name}"):
            if computes_checked and not validated_before:
                # Private SDK call: the public path (skip_validation=False) validates
                # offline AND gets every step's compute, one request per step. Run the
                # offline half alone, since the caller has checked each compute once.
                job._validate(raise_error=True)
            created = self.client.jobs.create_or_update(
                job, experiment_name=experiment_name, skip_validation=computes_checked
            )
        return self._state_of(created)

    def get_job_state(self, name: str, with_step_errors: bool = False) -> JobState:
        """Status, steps and studio URL of pipeline job ``name``.

        Raises ``TransientAzureMLError`` when the job could not be read this time,
        ``AzureMLRequestError`` when it cannot be read at all (e.g. it does not
        exist). When only the steps cannot be listed, ``steps`` is None.
        ``with_step_errors`` adds each failed step's error message (one more request
        per failed step).
        """
        try:
            with translated_errors(f"get job {name}"):
                job = self.client.jobs.get(name)
        except AzureMLRequestError as error:
            if error.status_code != 401:
                raise
            # An expired or refused token: the next look starts from a new credential.
            self.__dict__.pop("client", None)
            raise TransientAzureMLError(str(error), status_code=401) from error
        state = self._state_of(job)
        try:
            steps = self._step_states(name, with_step_errors)
        except KedroAzureMLError as error:
            self.log.warning("Could not list the steps of %s (%s)", name, error)
            return state
        return JobState(state.name, state.status, state.studio_url, steps)

    def ended_job_state(self, state: JobState) -> JobState:
        """``state`` of a job that ended, read again with each failed step's error and log.

        ``state`` itself when that read fails: the job's end is known either way.
        """
        try:
            return self.get_job_state(state.name, with_step_errors=True)
        except KedroAzureMLError as error:
            self.log.warning("Could not read the steps' errors of %s (%s)", state.name, error)
            return state

    def find_job_state(self, name: str) -> JobState | None:
        """Like ``get_job_state`` without the steps, or None when there is no such job."""
        try:
            with translated_errors(f"get job {name}"):
                return self._state_of(self.client.jobs.get(name))
        except AzureMLRequestError as error:
            if error.status_code == 404:
                return None
            raise

    def cancel_job(self, name: str, patience: float = CANCEL_PATIENCE) -> bool:
        """Ask Azure ML to cancel job ``name``; True once the request is accepted.

        Tried again through transient errors, and while there is no such job yet
        (its submission may still be on its way), for up to ``patience`` seconds.
        False when no job of that name appeared in that time; a transient error
        that lasts is raised.
        """
        deadline = time.monotonic() + patience
        delay = 0.5
        while True:
            try:
                with translated_errors(f"cancel job {name}"):
                    self.client.jobs.begin_cancel(name).result()
                return True
            except TransientAzureMLError as error:
                last: KedroAzureMLError = error
            except AzureMLRequestError as error:
                if error.status_code != 404:
                    raise
                last = error
            if time.monotonic() + delay > deadline:
                if isinstance(last, TransientAzureMLError):
                    raise last
                return False
            self.log.warning("Cancel of job %s not accepted yet (%s); trying again", name, last)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _state_of(self, job: Job) -> JobState:
        return JobState(
            name=str(job.name),
            status=statuses.normalize(job.status),
            studio_url=str(getattr(job, "studio_url", None) or ""),
        )

    def _step_states(self, name: str, with_errors: bool) -> tuple[StepState, ...]:
        runs = self.client.jobs._runs_operations
        with translated_errors(f"list the steps of job {name}"):
            # Private SDK call: jobs.list(parent_job_name=...) first GETs the parent job,
            # which the caller has just done; this is the listing alone (one request).
            # Each child comes as the run history's record (its start and end times) and
            # as the SDK's job (its studio URL).
            pages: Any = runs._operation.get_child(
                runs._subscription_id,
                runs._resource_group_name,
                runs._workspace_name,
                name,
                cls=lambda items: [
                    (item, runs._translate_from_rest_object(item)) for item in items
                ],
            )
            children: list[tuple[Any, Any]] = list(pages)
        states = []
        for record, child in children:
            if child is None:  # a child the SDK cannot read
                continue
            properties = getattr(child, "properties", None) or {}
            # A step job's own name is generated; its node name in the pipeline is here.
            step_name = (
                properties.get("azureml.nodeid")
                or getattr(child, "display_name", None)
                or getattr(child, "name", "?")
            )
            status = statuses.normalize(child.status) or ""
            error = tail = None
            if with_errors and status == statuses.FAILED:
                error, tail = self._step_failure(str(child.name))
            studio_url = str(getattr(child, "studio_url", None) or "")
            reused = str(properties.get("azureml.isreused", "")).lower() == "true"
            states.append(
                StepState(
                    str(step_name),
                    status,
                    error,
                    tail,
                    studio_url,
                    reused,
                    str(child.name),
                    _unix_time(getattr(record, "start_time_utc", None)),
                    _unix_time(getattr(record, "end_time_utc", None)),
                )
            )
        return tuple(states)

    def step_log_tail(self, step_job_name: str) -> str | None:
        """The last lines of step job ``step_job_name``'s own log, or None where unknown."""
        details = self._run_details(step_job_name)
        return None if details is None else self._log_tail(details)

    def _step_failure(self, name: str) -> tuple[str | None, str | None]:
        """The error message and the end of the log of step job ``name``, where known.

        None for what cannot be read, rather than hide the step's failure behind a
        lookup error.
        """
        details = self._run_details(name)
        if details is None:
            return None, None
        error_response = getattr(details, "error", None)
        inner = getattr(error_response, "error", None)
        message = getattr(inner, "message", None)
        return (str(message) if message else None), self._log_tail(details)

    def _run_details(self, name: str) -> Any:
        """The run details of step job ``name`` (its error, its log files), or None.

        The SDK's job objects do not carry a step's error or log; its run details do
        (the log as a link to the file), and only the SDK's private run-history
        client reads them.
        """
        try:
            return self.client.jobs._runs_operations.get_run_details(name)
        except Exception as error:
            self.log.debug("No run details for %s: %s", name, type(error).__name__)
            return None

    def _log_tail(self, details: Any) -> str | None:
        """The last lines of a step's own log (``user_logs/std_log.txt``), if it has one."""
        log_files = getattr(details, "log_files", None) or {}
        url = log_files.get(STEP_LOG_FILE)
        if not url:
            return None
        import requests

        try:
            response = requests.get(url, timeout=30)
            response.raise_for_status()
        except Exception as error:  # the link carries a SAS token: never log it
            self.log.debug("Could not read the log of a step: %s", type(error).__name__)
            return None
        return statuses.last_lines(response.text)

    # -- schedules ----------------------------------------------------------------------------

    def create_or_update_schedule(self, schedule: JobSchedule) -> JobSchedule:
        """Create or update a JobSchedule and wait until Azure ML has it."""
        with translated_errors(f"create or update schedule {schedule.name}"):
            return self.client.schedules.begin_create_or_update(schedule).result()

    def get_schedule(self, name: str) -> JobSchedule | None:
        """The schedule called ``name``, or None."""
        from azure.core.exceptions import ResourceNotFoundError

        with translated_errors(f"get schedule {name}"):
            try:
                return self.client.schedules.get(name)
            except ResourceNotFoundError:
                return None

    def enable_schedule(self, name: str) -> JobSchedule:
        """Enable schedule ``name``."""
        with translated_errors(f"enable schedule {name}"):
            return self.client.schedules.begin_enable(name).result()

    def disable_schedule(self, name: str) -> JobSchedule:
        """Disable schedule ``name``."""
        with translated_errors(f"disable schedule {name}"):
            return self.client.schedules.begin_disable(name).result()

    def delete_schedule(self, name: str) -> None:
        """Delete schedule ``name`` (the jobs it fired stay)."""
        with translated_errors(f"delete schedule {name}"):
            self.client.schedules.begin_delete(name).result()

    def trigger_schedule(self, name: str) -> str:
        """Fire schedule ``name`` once now; the name of the job it created."""
        with translated_errors(f"trigger schedule {name}"):
            result = self.client.schedules.trigger(name)
        return str(result.job_name)

    def schedule_studio_url(self, name: str) -> str:
        """The schedule's page in Azure ML studio."""
        url = f"https://ml.azure.com/schedule/{quote(name)}/details/overview?wsid="
        url += quote(self.workspace_arm_id, safe="/")
        if self.settings.tenant_id:
            url += f"&tid={quote(self.settings.tenant_id)}"
        return url

    # -- Airflow UI -----------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Get the workspace for real; report the error honestly when that fails."""
        try:
            if self.settings.is_local:
                return True, "connection selects the local backend; Azure ML is not contacted"
            workspace = self.client.workspaces.get(self.workspace.workspace_name)
        except Exception as error:
            return False, f"{type(error).__name__}: {error}"
        return True, f"workspace {workspace.name!r} reached"

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """How the connection form looks in the Airflow UI (the provider info's, in this format)."""
        behaviour = ui_field_behaviour()
        return {
            "hidden_fields": behaviour["hidden-fields"],
            "relabeling": behaviour["relabeling"],
            "placeholders": behaviour["placeholders"],
        }


def _unix_time(moment: Any) -> float | None:
    """A datetime from Azure ML (naive means UTC) as Unix time; None when unset."""
    if moment is None or not hasattr(moment, "timestamp"):
        return None
    if getattr(moment, "tzinfo", None) is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return float(moment.timestamp())
