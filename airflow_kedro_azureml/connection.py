"""The ``azure_ml`` Airflow connection: its form fields and what its values mean.

``EXTRAS`` is the one list of the connection's extras: the form in the Airflow
UI is built from it, and ``parse_connection`` reads exactly those names (each
also accepted with the ``extra__azure_ml__`` prefix older UIs write). Parsing is
pure and testable without Airflow. The client secret (the connection password)
is never part of the parsed settings. Workspace values set in the connection
win over ``azureml.yml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from airflow_kedro_azureml.errors import ConnectionSettingsError

BACKEND_AZUREML = "azureml"
BACKEND_LOCAL = "local"
BACKENDS = (BACKEND_AZUREML, BACKEND_LOCAL)
CLOUDS = {
    "AzureCloud": "https://login.microsoftonline.com",
    "AzureChinaCloud": "https://login.chinacloudapi.cn",
    "AzureUSGovernment": "https://login.microsoftonline.us",
}


@dataclass(frozen=True)
class Extra:
    """One extra of the connection: its name, its label and help in the form, its kind."""

    name: str
    label: str
    description: str
    kind: Literal["text", "secret", "flag", "integer"] = "text"

    def form_field(self) -> dict[str, Any]:
        """The field in Airflow's ``conn-fields`` format."""
        types = {"flag": "boolean", "integer": "integer"}
        schema: dict[str, Any] = {"type": [types.get(self.kind, "string"), "null"]}
        if self.kind == "secret":
            schema["format"] = "password"
        return {"label": self.label, "description": self.description, "schema": schema}


EXTRAS: tuple[Extra, ...] = (
    Extra("subscription_id", "Subscription ID", "Azure subscription of the workspace"),
    Extra("resource_group", "Resource Group", "resource group of the workspace"),
    Extra("workspace_name", "Workspace Name", "Azure ML workspace"),
    Extra("tenant_id", "Tenant ID", "Microsoft Entra tenant of the service principal"),
    Extra(
        "certificate_path",
        "Certificate Path",
        "PEM/PKCS12 file of a service principal certificate",
    ),
    Extra(
        "certificate_data",
        "Certificate (PEM)",
        "service principal certificate with its private key",
        "secret",
    ),
    Extra(
        "managed_identity",
        "Use Managed Identity",
        "the machine's managed identity (system-assigned unless a client id is set)",
        "flag",
    ),
    Extra(
        "managed_identity_client_id",
        "Managed Identity Client ID",
        "user-assigned managed identity to use",
    ),
    Extra(
        "workload_identity",
        "Use Workload Identity",
        "federated token from AZURE_FEDERATED_TOKEN_FILE (or the file below)",
        "flag",
    ),
    Extra(
        "federated_token_file",
        "Federated Token File",
        "workload identity token file, if not AZURE_FEDERATED_TOKEN_FILE",
    ),
    Extra("cloud", "Cloud", "AzureCloud (default), AzureChinaCloud or AzureUSGovernment"),
    Extra("authority_host", "Authority Host", "Microsoft Entra authority of another cloud"),
    Extra(
        "disable_instance_discovery",
        "Disable Instance Discovery",
        "for private or disconnected clouds whose authority Entra cannot discover",
        "flag",
    ),
    Extra("backend", "Backend", "azureml (default) or local: run steps on this machine"),
    Extra(
        "local_max_parallel",
        "Local: Max Parallel Steps",
        "local backend: steps run at once",
        "integer",
    ),
    Extra("local_runs_dir", "Local: Runs Folder", "local backend: where run folders go"),
)


def connection_form_fields() -> dict[str, Any]:
    """The connection's extra fields in Airflow's ``conn-fields`` format."""
    return {extra.name: extra.form_field() for extra in EXTRAS}


def ui_field_behaviour() -> dict[str, Any]:
    """Which standard fields the form hides or relabels (Airflow's ``ui-field-behaviour``)."""
    return {
        "hidden-fields": ["schema", "port", "host"],
        "relabeling": {"login": "Client ID", "password": "Client Secret"},
        "placeholders": {
            "login": "service principal client id (empty: identity or default chain)",
            "password": "service principal client secret",
        },
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
            raise ConnectionSettingsError(
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

    def require(self, field: str, for_what: str) -> str:
        """The value of ``field``; a clear error when it is missing."""
        value = getattr(self, field)
        if not value:
            raise ConnectionSettingsError(
                f"connection {self.conn_id!r}: {for_what} needs the extra {field!r}"
            )
        return str(value)


_EXTRA_NAMES = frozenset(extra.name for extra in EXTRAS)


def _extra_value(extras: dict[str, Any], name: str) -> Any:
    assert name in _EXTRA_NAMES, f"{name!r} is not in EXTRAS"
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
        raise ConnectionSettingsError(
            f"connection {conn_id!r}: extra 'backend' is {backend!r}; use 'azureml' "
            "(submit to Azure ML) or 'local' (run the steps on this machine)"
        )
    cloud = _extra_value(extras, "cloud")
    if cloud is not None and cloud not in CLOUDS:
        raise ConnectionSettingsError(
            f"connection {conn_id!r}: extra 'cloud' is {cloud!r}; use one of {sorted(CLOUDS)} "
            "(or set 'authority_host' for another cloud)"
        )
    max_parallel = _extra_value(extras, "local_max_parallel")
    if max_parallel is not None:
        try:
            max_parallel = int(max_parallel)
        except (TypeError, ValueError):
            raise ConnectionSettingsError(
                f"connection {conn_id!r}: extra 'local_max_parallel' must be a whole number, "
                f"got {max_parallel!r}"
            ) from None
        if max_parallel < 1:
            raise ConnectionSettingsError(
                f"connection {conn_id!r}: extra 'local_max_parallel' must be >= 1"
            )
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
