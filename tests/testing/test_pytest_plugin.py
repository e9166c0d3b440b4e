"""The pytest plugin: environment while the fixture runs, marker options, cheap import."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from airflow_kedro_azureml.testing import AzureMLEmulator
from airflow_kedro_azureml.testing.emulator import CA_BUNDLE_VARIABLE, MFE_URL_VARIABLE


@pytest.mark.timeout(30)
def test_fixture_points_the_sdk_at_the_emulator(azureml_emulator: AzureMLEmulator) -> None:
    assert os.environ[MFE_URL_VARIABLE] == azureml_emulator.url
    assert os.environ[CA_BUNDLE_VARIABLE] == str(azureml_emulator.ca_bundle)
    assert azureml_emulator.url.startswith("https://127.0.0.1:")
    client = azureml_emulator.ml_client()
    assert client.workspaces.get(azureml_emulator.workspace_name).name == "ws-emulator"


@pytest.mark.timeout(30)
@pytest.mark.azureml_emulator(workspace_name="ws-marked", computes=["a", "b"])
def test_marker_options_reach_the_emulator(azureml_emulator: AzureMLEmulator) -> None:
    assert azureml_emulator.workspace_name == "ws-marked"
    client = azureml_emulator.ml_client()
    assert sorted(c.name for c in client.compute.list()) == ["a", "b"]


@pytest.mark.timeout(30)
def test_patched_environment_restores_previous_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MFE_URL_VARIABLE, "https://before")
    monkeypatch.delenv(CA_BUNDLE_VARIABLE, raising=False)
    with AzureMLEmulator(execute_jobs=False) as emulator:
        with emulator.patched_environment():
            assert os.environ[MFE_URL_VARIABLE] == emulator.url
        assert os.environ[MFE_URL_VARIABLE] == "https://before"
        assert CA_BUNDLE_VARIABLE not in os.environ
        with pytest.raises(RuntimeError, match="patched_environment"):
            emulator.ml_client()
    assert not emulator.work_dir.exists()


@pytest.mark.timeout(60)
def test_plugin_and_package_import_without_the_sdk() -> None:
    code = (
        "import sys, airflow_kedro_azureml.testing as t, "
        "airflow_kedro_azureml.testing.pytest_plugin; "
        "assert 'azure.ai.ml' not in sys.modules and 'azure.core' not in sys.modules; "
        "t.AzureMLEmulator; assert 'azure.ai.ml' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
