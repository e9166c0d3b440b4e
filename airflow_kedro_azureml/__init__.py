"""Run Kedro pipelines as Azure Machine Learning pipeline jobs from Apache Airflow.

This module stays import-light: Airflow reads ``get_provider_info`` on every
process start and Kedro imports installed plugins on every command, so nothing
heavy (kedro, airflow, azure.ai.ml) is imported here.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

CONNECTION_TYPE = "azure_ml"
DEFAULT_CONNECTION_ID = "azure_ml_default"


def _text_field(label: str, description: str, secret: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"]}
    if secret:
        schema["format"] = "password"
    return {"label": label, "description": description, "schema": schema}


def _connection_fields() -> dict[str, Any]:
    """Extra fields of the ``azure_ml`` connection form."""
    return {
        "subscription_id": _text_field("Subscription ID", "Azure subscription of the workspace"),
        "resource_group": _text_field("Resource Group", "resource group of the workspace"),
        "workspace_name": _text_field("Workspace Name", "Azure ML workspace"),
        "tenant_id": _text_field("Tenant ID", "Microsoft Entra tenant of the service principal"),
        "certificate_path": _text_field(
            "Certificate Path", "PEM/PKCS12 file of a service principal certificate"
        ),
        "certificate_data": _text_field(
            "Certificate (PEM)", "service principal certificate with its private key", True
        ),
        "managed_identity_client_id": _text_field(
            "Managed Identity Client ID", "user-assigned managed identity to use"
        ),
        "workload_identity": {
            "label": "Use Workload Identity",
            "description": "federated token from AZURE_FEDERATED_TOKEN_FILE",
            "schema": {"type": ["boolean", "null"]},
        },
        "cloud": _text_field("Cloud", "AzureCloud (default), AzureChinaCloud or AzureUSGovernment"),
        "backend": _text_field("Backend", "azureml (default) or local: run steps on this machine"),
    }


def get_provider_info() -> dict[str, Any]:
    """Describe this package to Airflow's provider manager."""
    return {
        "package-name": "airflow-kedro-azureml",
        "name": "Kedro on Azure Machine Learning",
        "description": "Run Kedro pipelines as Azure Machine Learning pipeline jobs.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Kedro on Azure Machine Learning",
                "external-doc-url": "https://learn.microsoft.com/azure/machine-learning/",
                "tags": ["azure"],
            }
        ],
        "operators": [
            {
                "integration-name": "Kedro on Azure Machine Learning",
                "python-modules": ["airflow_kedro_azureml.operators.pipeline"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Kedro on Azure Machine Learning",
                "python-modules": ["airflow_kedro_azureml.hooks.azureml"],
            }
        ],
        "connection-types": [
            {
                "hook-class-name": "airflow_kedro_azureml.hooks.azureml.AzureMLHook",
                "hook-name": "Azure Machine Learning (Kedro)",
                "connection-type": CONNECTION_TYPE,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "host"],
                    "relabeling": {"login": "Client ID", "password": "Client Secret"},
                    "placeholders": {
                        "login": "service principal client id (empty: identity or default chain)",
                        "password": "service principal client secret",
                    },
                },
                "conn-fields": _connection_fields(),
            }
        ],
        "extra-links": ["airflow_kedro_azureml.links.AzureMLJobLink"],
    }
