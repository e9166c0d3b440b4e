"""Fixtures of the documentation's example tests: the emulator plugin and `airflow dags test`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# --8<-- [start:plugin]
pytest_plugins = ["airflow_kedro_azureml.testing.pytest_plugin"]
# --8<-- [end:plugin]

# --8<-- [start:fixtures]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))  # the airflow of this virtualenv
DAGS_FOLDER = Path(__file__).parent / "dags"


def airflow_env(home: Path) -> dict[str, str]:
    """The environment of an `airflow` command: its own home, these DAGs, no examples."""
    return {
        **os.environ,  # inside a test: the emulator's AZUREML_DEV_URL_MFE and REQUESTS_CA_BUNDLE
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__KEDRO_AZUREML__POLL_INTERVAL": "1",  # look at the job every second
        "KEDRO_DISABLE_TELEMETRY": "true",
    }


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An AIRFLOW_HOME with a fresh metadata database, shared by the session's tests."""
    home = tmp_path_factory.mktemp("airflow-home")
    subprocess.run(
        [AIRFLOW, "db", "migrate"], env=airflow_env(home), check=True, capture_output=True
    )
    return home


@pytest.fixture
def dags_test(airflow_home: Path) -> Callable[[str, str], subprocess.CompletedProcess[str]]:
    """Run `airflow dags test DAG_ID 2026-01-01` with `azure_ml_default` = a JSON connection."""

    def run(dag_id: str, connection: str) -> subprocess.CompletedProcess[str]:
        env = {**airflow_env(airflow_home), "AIRFLOW_CONN_AZURE_ML_DEFAULT": connection}
        return subprocess.run(
            [AIRFLOW, "dags", "test", dag_id, "2026-01-01T00:00:00+00:00"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    return run


# --8<-- [end:fixtures]
