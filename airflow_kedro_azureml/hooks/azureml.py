"""AzureMLHook: the only module that talks to the Azure ML SDK.

It turns an ``azure_ml`` Airflow connection into a credential and one cached
``MLClient``, and wraps the calls operators and sensors need: submit, get, list
child steps, cancel, schedules, and a ``test_connection`` that makes a real
request. It never opens an interactive browser login.
"""

from __future__ import annotations

import logging
import os
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_kedro_azureml import CONNECTION_TYPE, DEFAULT_CONNECTION_ID
from airflow_kedro_azureml.connection import ConnectionSettings, WorkspaceRef, parse_connection

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.ai.ml.entities import Job, JobSchedule, PipelineJob
    from azure.core.credentials import TokenCredential


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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.azureml_conn_id = azureml_conn_id
        self._fallback_workspace = workspace

    # -- connection ---------------------------------------------------------------------------

    @cached_property
    def _connection(self) -> Any:
        return self.get_connection(self.azureml_conn_id)

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The parsed connection (the client secret is not part of it)."""
        connection = self._connection
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
        settings = self.settings
        secret = self._connection.password
        authority = settings.authority_host_url()
        common: dict[str, Any] = {}
        if authority:
            common["authority"] = authority
        if settings.disable_instance_discovery:
            common["disable_instance_discovery"] = True
        if settings.client_id and secret:
            from azure.identity import ClientSecretCredential

            settings.require("tenant_id", "a service principal with a client secret")
            return ClientSecretCredential(
                tenant_id=settings.tenant_id,
                client_id=settings.client_id,
                client_secret=secret,
                **common,
            )
        if settings.client_id and (settings.certificate_path or settings.certificate_data):
            from azure.identity import CertificateCredential

            settings.require("tenant_id", "a service principal with a certificate")
            certificate: dict[str, Any] = (
                {"certificate_path": settings.certificate_path}
                if settings.certificate_path
                else {"certificate_data": settings.certificate_data.encode("utf-8")}
            )
            return CertificateCredential(
                tenant_id=settings.tenant_id, client_id=settings.client_id, **certificate, **common
            )
        if settings.workload_identity:
            from azure.identity import WorkloadIdentityCredential

            return WorkloadIdentityCredential(
                tenant_id=settings.tenant_id or os.environ.get("AZURE_TENANT_ID"),
                client_id=settings.client_id or os.environ.get("AZURE_CLIENT_ID"),
                token_file_path=settings.federated_token_file
                or os.environ.get("AZURE_FEDERATED_TOKEN_FILE"),
                **common,
            )
        if settings.managed_identity:
            from azure.identity import ManagedIdentityCredential

            return ManagedIdentityCredential(client_id=settings.managed_identity_client_id)
        from airflow.providers.microsoft.azure.utils import get_sync_default_azure_credential

        return get_sync_default_azure_credential(
            managed_identity_client_id=settings.managed_identity_client_id,
            workload_identity_tenant_id=settings.tenant_id,
        )

    @cached_property
    def client(self) -> MLClient:
        """One ``MLClient`` for this hook's workspace (SDK telemetry off)."""
        from azure.ai.ml import MLClient

        # azure-core logs every request's headers at INFO: noise in a task log.
        logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(
            logging.WARNING
        )
        workspace = self.workspace
        kwargs: dict[str, Any] = {"enable_telemetry": False, "show_progress": False}
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

    def environment_arm_id(self, environment: str | None, image: str | None) -> str:
        """The ARM id of a step environment, resolved once per submission.

        ``name@label`` (e.g. ``@latest``) costs one request; ``name:version`` and ARM
        ids cost none; a docker ``image`` registers (or finds) an anonymous environment.
        """
        if image:
            from azure.ai.ml.entities import Environment

            return self.client.environments.create_or_update(Environment(image=image)).id
        if not environment:
            raise ValueError(
                "azureml.yml sets neither 'execution.environment' nor 'execution.image'"
            )
        reference = environment.removeprefix("azureml:")
        if reference.startswith("/subscriptions/"):
            return reference
        if "@" in reference:
            name, label = reference.split("@", 1)
            return self.client.environments.get(name=name, label=label).id
        if ":" in reference:
            name, version = reference.split(":", 1)
            return f"{self.workspace_arm_id}/environments/{name}/versions/{version}"
        return self.client.environments.get(name=reference, label="latest").id

    def latest_data_version(self, name: str) -> str:
        """The version of data asset ``name`` labelled latest."""
        return str(self.client.data.get(name=name, label="latest").version)

    def component_versions(self, name: str) -> set[str]:
        """The versions of component ``name`` the workspace has (one listing)."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return {component.version for component in self.client.components.list(name=name)}
        except ResourceNotFoundError:
            return set()

    def create_component(self, component: Any) -> Any:
        """Register a component version (uploading its code if it is a local folder)."""
        return self.client.components.create_or_update(component)

    # -- jobs ---------------------------------------------------------------------------------

    def submit_pipeline_job(
        self,
        job: PipelineJob,
        experiment_name: str | None = None,
        computes_checked: bool = False,
    ) -> Job:
        """Create the pipeline job (uploading code and components it needs).

        With ``computes_checked`` (the caller has looked each distinct compute up),
        the SDK's offline validation runs here and its per-step compute lookups are
        skipped: one request per compute instead of one per step.
        """
        if computes_checked:
            job._validate(raise_error=True)
        return self.client.jobs.create_or_update(
            job, experiment_name=experiment_name, skip_validation=computes_checked
        )

    def get_job(self, name: str) -> Job:
        """The job called ``name``."""
        return self.client.jobs.get(name)

    def find_job(self, name: str) -> Job | None:
        """The job called ``name``, or None when the workspace has none."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.get_job(name)
        except ResourceNotFoundError:
            return None

    def list_child_jobs(self, name: str) -> list[Job]:
        """The step jobs of pipeline job ``name``."""
        return list(self.client.jobs.list(parent_job_name=name))

    def get_step_error(self, name: str) -> str | None:
        """The error message of step job ``name`` from its run details, if it has one.

        The SDK's job objects do not carry a step's error; its run details do. This
        reads them through the SDK's run-history client, and gives None when that
        fails rather than hide the step's failure behind a lookup error.
        """
        try:
            details = self.client.jobs._runs_operations.get_run_details(name)
        except Exception as error:
            self.log.debug("No run details for %s: %s", name, error)
            return None
        error_response = getattr(details, "error", None)
        inner = getattr(error_response, "error", None)
        message = getattr(inner, "message", None)
        return str(message) if message else None

    def cancel_job(self, name: str) -> None:
        """Ask Azure ML to cancel job ``name`` and wait for the request to be accepted."""
        self.client.jobs.begin_cancel(name).result()

    def compute_exists(self, name: str) -> bool:
        """True when the workspace has a compute called ``name``."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self.client.compute.get(name)
        except ResourceNotFoundError:
            return False
        return True

    # -- schedules ----------------------------------------------------------------------------

    def create_or_update_schedule(self, schedule: JobSchedule) -> JobSchedule:
        """Create or update a JobSchedule and wait until Azure ML has it."""
        return self.client.schedules.begin_create_or_update(schedule).result()

    def get_schedule(self, name: str) -> JobSchedule | None:
        """The schedule called ``name``, or None."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.client.schedules.get(name)
        except ResourceNotFoundError:
            return None

    def enable_schedule(self, name: str) -> JobSchedule:
        """Enable schedule ``name``."""
        return self.client.schedules.begin_enable(name).result()

    def disable_schedule(self, name: str) -> JobSchedule:
        """Disable schedule ``name``."""
        return self.client.schedules.begin_disable(name).result()

    def delete_schedule(self, name: str) -> None:
        """Delete schedule ``name``."""
        self.client.schedules.begin_delete(name).result()

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
        """How the connection form looks in the Airflow UI."""
        return {
            "hidden_fields": ["schema", "port", "host"],
            "relabeling": {"login": "Client ID", "password": "Client Secret"},
            "placeholders": {
                "login": "service principal client id (empty for managed/workload identity)",
                "password": "service principal client secret",
            },
        }
