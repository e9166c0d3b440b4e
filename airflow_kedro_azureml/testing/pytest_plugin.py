"""Pytest plugin with the ``azureml_emulator`` fixture: a running Azure ML emulator per test.

Enable it with ``pytest_plugins = ["airflow_kedro_azureml.testing.pytest_plugin"]`` in the
root ``conftest.py`` (or ``-p airflow_kedro_azureml.testing.pytest_plugin``). The fixture
starts the emulator, points the azure-ai-ml SDK at it (``AZUREML_DEV_URL_MFE`` and
``REQUESTS_CA_BUNDLE``), yields it, then restores the environment and stops it.
Options go in a marker::

    @pytest.mark.azureml_emulator(computes=["gpu-cluster"], lro_mode="async")
    def test_submit(azureml_emulator):
        ml_client = azureml_emulator.ml_client()
        ...

This module imports neither azure.ai.ml nor the emulator at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow_kedro_azureml.testing.emulator import AzureMLEmulator

MARKER = "azureml_emulator"
# azure-ai-ml's schemas use marshmallow 3 APIs that marshmallow 4 changes: every SDK call
# warns (hundreds per test). They are the SDK's to fix, not the tests'; shown once, below.
SDK_WARNINGS = (
    r"ignore::marshmallow.warnings.Marshmallow4Warning:azure\.ai\.ml",
    r"ignore::marshmallow.warnings.Marshmallow4Warning:marshmallow",
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``azureml_emulator`` marker; quiet the SDK's marshmallow warnings."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): options for the azureml_emulator fixture "
        "(computes, execute_jobs, max_parallel, lro_mode, workspace_name, ...)",
    )
    for line in SDK_WARNINGS:
        config.addinivalue_line("filterwarnings", line)


def emulator_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keyword arguments for ``AzureMLEmulator`` from the test's ``azureml_emulator`` markers."""
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        options.update(marker.kwargs)
    return options


@pytest.fixture
def azureml_emulator(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AzureMLEmulator]:
    """A started ``AzureMLEmulator`` with the SDK pointed at it; stopped after the test."""
    from airflow_kedro_azureml.testing.emulator import AzureMLEmulator

    options = emulator_options(request)
    options.setdefault("work_dir", Path(tmp_path_factory.mktemp("azureml-emulator")))
    emulator = AzureMLEmulator(**options)
    emulator.start()
    try:
        with emulator.patched_environment():
            yield emulator
    finally:
        emulator.stop()
