"""Test helpers: an HTTPS emulator of the Azure ML REST API, driven by the real azure-ai-ml SDK.

``AzureMLEmulator`` serves an in-memory workspace on 127.0.0.1 over HTTPS, records every
request, injects faults on demand and really runs submitted pipeline jobs with the local
backend. ``EmulatorCredential`` hands out tokens the SDK accepts. The pytest fixture
``azureml_emulator`` lives in ``airflow_kedro_azureml.testing.pytest_plugin``.

Names are imported on first use, so importing this package stays cheap.

Example::

    from airflow_kedro_azureml.testing import AzureMLEmulator

    with AzureMLEmulator() as emulator, emulator.patched_environment():
        job = emulator.ml_client().jobs.create_or_update(pipeline_job)
        assert emulator.wait_for_job(job.name) == "Completed"
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_kedro_azureml.testing.credentials import EmulatorCredential, make_unsigned_jwt
    from airflow_kedro_azureml.testing.emulator import AzureMLEmulator
    from airflow_kedro_azureml.testing.faults import Fault
    from airflow_kedro_azureml.testing.recording import RecordedRequest
    from airflow_kedro_azureml.testing.rest_to_local import (
        LocalJobPlan,
        command_job_to_local,
        pipeline_job_to_local,
    )

_EXPORTS = {
    "AzureMLEmulator": "airflow_kedro_azureml.testing.emulator",
    "EmulatorCredential": "airflow_kedro_azureml.testing.credentials",
    "make_unsigned_jwt": "airflow_kedro_azureml.testing.credentials",
    "Fault": "airflow_kedro_azureml.testing.faults",
    "RecordedRequest": "airflow_kedro_azureml.testing.recording",
    "LocalJobPlan": "airflow_kedro_azureml.testing.rest_to_local",
    "pipeline_job_to_local": "airflow_kedro_azureml.testing.rest_to_local",
    "command_job_to_local": "airflow_kedro_azureml.testing.rest_to_local",
}

__all__ = [
    "AzureMLEmulator",
    "EmulatorCredential",
    "Fault",
    "LocalJobPlan",
    "RecordedRequest",
    "command_job_to_local",
    "make_unsigned_jwt",
    "pipeline_job_to_local",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
