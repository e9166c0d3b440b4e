"""The package is registered as an Airflow provider."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_kedro_azureml import get_provider_info


def test_provider_info_names_the_distribution() -> None:
    from importlib.metadata import distribution

    info = get_provider_info()
    assert info["package-name"] == distribution("airflow-kedro-azureml").metadata["Name"]
    assert info["connection-types"][0]["connection-type"] == "azure_ml"


def airflow(home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The Airflow CLI in a fresh ``AIRFLOW_HOME``."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), *arguments],
        env={"AIRFLOW_HOME": str(home), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.timeout(300)
def test_airflow_providers_list_shows_it(tmp_path: Path) -> None:
    result = airflow(tmp_path, "providers", "list", "-o", "json")
    start = result.stdout.index("[")
    packages = {entry["package_name"] for entry in json.loads(result.stdout[start:])}
    assert "airflow-kedro-azureml" in packages


def test_the_config_section_is_declared() -> None:
    options = get_provider_info()["config"]["kedro_azureml"]["options"]
    assert options["poll_interval"]["default"] == "30.0"
    assert options["poll_interval"]["type"] == "float"


@pytest.mark.timeout(300)
def test_airflow_config_knows_poll_interval(tmp_path: Path) -> None:
    result = airflow(tmp_path, "config", "get-value", "kedro_azureml", "poll_interval")
    assert result.stdout.strip().splitlines()[-1] == "30.0"
