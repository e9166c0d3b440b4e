"""The pytest plugin: environment while the fixture runs, marker options, cheap import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


USER_TEST = """
import pytest

pytest_plugins = ["airflow_kedro_azureml.testing.pytest_plugin"]


@pytest.mark.azureml_emulator(computes=["cpu-cluster"])
def test_submit(azureml_emulator):
    from azure.ai.ml import command
    from azure.ai.ml.entities import Environment

    client = azureml_emulator.ml_client()
    client.environments.create_or_update(Environment(name="e", version="1", image="python:3.11"))
    job = command(command="echo hi", environment="e:1", compute="cpu-cluster", code=".")
    assert client.jobs.create_or_update(job).name
"""


@pytest.mark.timeout(300)
def test_a_users_test_with_the_fixture_shows_no_sdk_warnings(tmp_path: Path) -> None:
    """Without the plugin's filters, this one test shows about 500 marshmallow warnings."""
    (tmp_path / "conftest.py").write_text(
        'pytest_plugins = ["airflow_kedro_azureml.testing.pytest_plugin"]\n'
    )
    (tmp_path / "test_user.py").write_text(USER_TEST)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 passed" in result.stdout
    assert "warning" not in result.stdout.lower(), result.stdout[-3000:]
