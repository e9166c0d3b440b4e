"""What an ``azure_ml`` Airflow connection says: workspace, credentials, cloud and backend.

Pure parsing of the connection's login and extras, testable without Airflow.
The client secret (the connection password) is never part of these settings.
Workspace values set in the connection win over ``azureml.yml``.

Extras (each also accepted with the ``extra__azure_ml__`` prefix the UI writes):
``subscription_id``, ``resource_group``, ``workspace_name``, ``tenant_id``,
``certificate_path`` / ``certificate_data`` (service principal with a certificate),
``managed_identity`` / ``managed_identity_client_id``, ``workload_identity`` /
``federated_token_file``, ``cloud`` (``AzureCloud``, ``AzureChinaCloud``,
``AzureUSGovernment``), ``authority_host``, ``backend`` (``azureml`` or ``local``),
``local_max_parallel``, ``local_runs_dir``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BACKEND_AZUREML = "azureml"
BACKEND_LOCAL = "local"
BACKENDS = (BACKEND_AZUREML, BACKEND_LOCAL)
CLOUDS = {
    "AzureCloud": "https://login.microsoftonline.com",
    "AzureChinaCloud": "https://login.chinacloudapi.cn",
    "AzureUSGovernment": "https://login.microsoftonline.us",
}


@dataclass(frozen=True)
class WorkspaceRef:
    """Which Azure ML workspace: subscription, resource group and name."""

    subscription_id: str | None
    resource_group: str | None
    workspace_name: str | None


@dataclass(frozen=True)
class ConnectionSettings:
    """The parsed fields of one ``azure_ml`` connection."""

    conn_id: str = ""
    backend: str = BACKEND_AZUREML
    subscription_id: str | None = None
    resource_group: str | None = None
    workspace_name: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    certificate_path: str | None = None
    certificate_data: str | None = None
    managed_identity: bool = False
    managed_identity_client_id: str | None = None
    workload_identity: bool = False
    federated_token_file: str | None = None
    cloud: str | None = None
    authority_host: str | None = None
    disable_instance_discovery: bool = False
    local_max_parallel: int | None = None
    local_runs_dir: str | None = None

    @property
    def is_local(self) -> bool:
        """True when jobs run on this machine instead of Azure ML."""
        return self.backend == BACKEND_LOCAL

    def workspace(self, fallback: WorkspaceRef | None = None) -> WorkspaceRef:
        """The workspace, connection values first, then ``fallback``; raise if incomplete."""
        fallback = fallback or WorkspaceRef(None, None, None)
        workspace = WorkspaceRef(
            subscription_id=self.subscription_id or fallback.subscription_id,
            resource_group=self.resource_group or fallback.resource_group,
            workspace_name=self.workspace_name or fallback.workspace_name,
        )
        missing = [name for name, value in vars(workspace).items() if not value]
        if missing:
            raise ValueError(
                f"connection {self.conn_id!r}: no {', '.join(missing)} for the Azure ML "
                "workspace; set them as connection extras or under 'workspace.__default__' "
                "in azureml.yml"
            )
        return workspace

    def authority_host_url(self) -> str | None:
        """The Microsoft Entra ID authority for this connection's cloud, if not the public one."""
        if self.authority_host:
            return self.authority_host
        if self.cloud and self.cloud != "AzureCloud":
            return CLOUDS[self.cloud]
        return None

    def require(self, field: str, for_what: str) -> None:
        """Raise a clear error when ``field`` is missing."""
        if not getattr(self, field):
            raise ValueError(f"connection {self.conn_id!r}: {for_what} needs the extra {field!r}")


def _extra_value(extras: dict[str, Any], name: str) -> Any:
    value = extras.get(name)
    if value in (None, ""):
        value = extras.get(f"extra__azure_ml__{name}")
    return None if value in (None, "") else value


def _flag(extras: dict[str, Any], name: str) -> bool:
    value = _extra_value(extras, name)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def parse_connection(conn_id: str, login: str | None, extras: dict[str, Any]) -> ConnectionSettings:
    """Parse an ``azure_ml`` connection's login and extras; errors name the connection and field."""
    extras = extras or {}
    backend = str(_extra_value(extras, "backend") or BACKEND_AZUREML).lower()
    if backend not in BACKENDS:
        raise ValueError(
            f"connection {conn_id!r}: extra 'backend' is {backend!r}; use 'azureml' "
            "(submit to Azure ML) or 'local' (run the steps on this machine)"
        )
    cloud = _extra_value(extras, "cloud")
    if cloud is not None and cloud not in CLOUDS:
        raise ValueError(
            f"connection {conn_id!r}: extra 'cloud' is {cloud!r}; use one of {sorted(CLOUDS)} "
            "(or set 'authority_host' for another cloud)"
        )
    max_parallel = _extra_value(extras, "local_max_parallel")
    if max_parallel is not None:
        try:
            max_parallel = int(max_parallel)
        except (TypeError, ValueError):
            raise ValueError(
                f"connection {conn_id!r}: extra 'local_max_parallel' must be a whole number, "
                f"got {max_parallel!r}"
            ) from None
        if max_parallel < 1:
            raise ValueError(f"connection {conn_id!r}: extra 'local_max_parallel' must be >= 1")
    managed_identity_client_id = _extra_value(extras, "managed_identity_client_id")
    return ConnectionSettings(
        conn_id=conn_id,
        backend=backend,
        subscription_id=_extra_value(extras, "subscription_id"),
        resource_group=_extra_value(extras, "resource_group"),
        workspace_name=_extra_value(extras, "workspace_name"),
        tenant_id=_extra_value(extras, "tenant_id"),
        client_id=login or None,
        certificate_path=_extra_value(extras, "certificate_path"),
        certificate_data=_extra_value(extras, "certificate_data"),
        managed_identity=_flag(extras, "managed_identity") or bool(managed_identity_client_id),
        managed_identity_client_id=managed_identity_client_id,
        workload_identity=_flag(extras, "workload_identity"),
        federated_token_file=_extra_value(extras, "federated_token_file"),
        cloud=cloud,
        authority_host=_extra_value(extras, "authority_host"),
        disable_instance_discovery=_flag(extras, "disable_instance_discovery"),
        local_max_parallel=max_parallel,
        local_runs_dir=_extra_value(extras, "local_runs_dir"),
    )
