"""AzureMLHook: turns an ``azure_ml`` Airflow connection into the backend jobs run on."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from airflow_kedro_azureml import CONNECTION_TYPE, DEFAULT_CONNECTION_ID
from airflow_kedro_azureml.connection import ConnectionSettings, parse_connection


class AzureMLHook(BaseHook):
    """Reads an ``azure_ml`` connection; the only place that will talk to the Azure ML SDK."""

    conn_name_attr = "azureml_conn_id"
    default_conn_name = DEFAULT_CONNECTION_ID
    conn_type = CONNECTION_TYPE
    hook_name = "Azure Machine Learning (Kedro)"

    def __init__(self, azureml_conn_id: str = DEFAULT_CONNECTION_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.azureml_conn_id = azureml_conn_id

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The parsed connection."""
        connection = self.get_connection(self.azureml_conn_id)
        extras = connection.extra_dejson or {}
        return parse_connection(self.azureml_conn_id, connection.login, extras)

    def require_azure(self) -> None:
        """Raise a clear error: submitting to Azure ML is not part of this version yet."""
        raise NotImplementedError(
            f"connection {self.azureml_conn_id!r} selects Azure ML, but this version of "
            "airflow-kedro-azureml can only run jobs with the local backend; set the "
            'connection extra {"backend": "local"}'
        )

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """How the connection form looks in the Airflow UI."""
        return {
            "hidden_fields": ["schema", "port", "host"],
            "relabeling": {"login": "Client ID", "password": "Client Secret"},
            "placeholders": {
                "extra": '{"subscription_id": "...", "resource_group": "...", '
                '"workspace_name": "...", "tenant_id": "...", "backend": "azureml"}',
            },
        }
