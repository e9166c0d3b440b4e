"""What an ``azure_ml`` Airflow connection says: workspace, credentials and backend.

Pure parsing of the connection's fields, so it is testable without Airflow.
Workspace values set in the connection win over ``azureml.yml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BACKEND_AZUREML = "azureml"
BACKEND_LOCAL = "local"
BACKENDS = (BACKEND_AZUREML, BACKEND_LOCAL)


@dataclass(frozen=True)
class ConnectionSettings:
    """The parsed fields of one ``azure_ml`` connection."""

    backend: str = BACKEND_AZUREML
    subscription_id: str | None = None
    resource_group: str | None = None
    workspace_name: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    local_max_parallel: int | None = None
    local_runs_dir: str | None = None

    @property
    def is_local(self) -> bool:
        """True when jobs run on this machine instead of Azure ML."""
        return self.backend == BACKEND_LOCAL


def _extra_value(extras: dict[str, Any], name: str) -> Any:
    value = extras.get(name)
    if value in (None, ""):
        value = extras.get(f"extra__azure_ml__{name}")
    return None if value in (None, "") else value


def parse_connection(conn_id: str, login: str | None, extras: dict[str, Any]) -> ConnectionSettings:
    """Parse an ``azure_ml`` connection's login and extras; errors name the connection and field."""
    backend = str(_extra_value(extras, "backend") or BACKEND_AZUREML).lower()
    if backend not in BACKENDS:
        raise ValueError(
            f"connection {conn_id!r}: extra 'backend' is {backend!r}; use 'azureml' "
            "(submit to Azure ML) or 'local' (run the steps on this machine)"
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
    return ConnectionSettings(
        backend=backend,
        subscription_id=_extra_value(extras, "subscription_id"),
        resource_group=_extra_value(extras, "resource_group"),
        workspace_name=_extra_value(extras, "workspace_name"),
        tenant_id=_extra_value(extras, "tenant_id"),
        client_id=login or None,
        local_max_parallel=max_parallel,
        local_runs_dir=_extra_value(extras, "local_runs_dir"),
    )
