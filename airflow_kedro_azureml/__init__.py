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
CONFIG_SECTION = "kedro_azureml"
DEFAULT_POLL_INTERVAL = 30.0
DEFAULT_REQUEST_TIMEOUT = 120.0


def get_provider_info() -> dict[str, Any]:
    """Describe this package to Airflow's provider manager."""
    from airflow_kedro_azureml.connection import connection_form_fields, ui_field_behaviour

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
        "sensors": [
            {
                "integration-name": "Kedro on Azure Machine Learning",
                "python-modules": ["airflow_kedro_azureml.sensors.azureml_job"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Kedro on Azure Machine Learning",
                "python-modules": ["airflow_kedro_azureml.triggers.azureml_job"],
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
                "ui-field-behaviour": ui_field_behaviour(),
                "conn-fields": connection_form_fields(),
            }
        ],
        "extra-links": ["airflow_kedro_azureml.links.AzureMLJobLink"],
        "config": {
            CONFIG_SECTION: {
                "description": "Settings of the Kedro on Azure Machine Learning provider.",
                "options": {
                    "poll_interval": {
                        "description": "Seconds between two looks at a running Azure ML job "
                        "(operator and sensor); an operator's poll_interval argument wins.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "60",
                        "default": str(DEFAULT_POLL_INTERVAL),
                    },
                    "request_timeout": {
                        "description": "Seconds to wait for Azure ML to answer one request "
                        "before sending it again (reads are retried 3 times) or failing it "
                        "as transient, so no call waits forever. Uploads to storage use the "
                        "storage SDK's own 60 seconds.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "60",
                        "default": str(DEFAULT_REQUEST_TIMEOUT),
                    },
                },
            }
        },
    }
