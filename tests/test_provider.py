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


@pytest.mark.timeout(300)
def test_airflow_providers_list_shows_it(tmp_path: Path) -> None:
    airflow = str(Path(sys.executable).parent / "airflow")
    result = subprocess.run(
        [airflow, "providers", "list", "-o", "json"],
        env={"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    start = result.stdout.index("[")
    packages = {entry["package_name"] for entry in json.loads(result.stdout[start:])}
    assert "airflow-kedro-azureml" in packages
