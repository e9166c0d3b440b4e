"""Run the real Airflow CLI against a throw-away AIRFLOW_HOME, for end-to-end tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

AIRFLOW = str(Path(sys.executable).parent / "airflow")


def airflow_env(
    home: Path, dags_folder: Path, connection_extra: dict | None, connection: dict | None = None
) -> dict[str, str]:
    """Environment for an Airflow CLI process with an ``azure_ml_default`` connection.

    ``connection`` is the whole connection (login, password, extra); ``connection_extra``
    a shortcut for a connection with only extras.
    """
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        KEDRO_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="1",
    )
    if connection is None and connection_extra is not None:
        connection = {"extra": connection_extra}
    if connection is not None:
        env["AIRFLOW_CONN_AZURE_ML_DEFAULT"] = json.dumps({"conn_type": "azure_ml", **connection})
    env["AIRFLOW__KEDRO_AZUREML__POLL_INTERVAL"] = "0.5"
    return env


def migrate(home: Path) -> None:
    """Create the metadata database in ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [AIRFLOW, "db", "migrate"],
        env=airflow_env(home, home / "dags", None),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def dags_test(
    home: Path,
    dags_folder: Path,
    dag_id: str,
    logical_date: str,
    connection_extra: dict | None,
    timeout: float = 600,
    connection: dict | None = None,
    extra_env: dict[str, str] | None = None,
    conf: dict | None = None,
) -> subprocess.CompletedProcess[str]:
    """``airflow dags test DAG DATE [--conf JSON]``; returns the finished process."""
    env = airflow_env(home, dags_folder, connection_extra, connection)
    env.update(extra_env or {})
    options = ["--conf", json.dumps(conf)] if conf is not None else []
    return subprocess.run(
        [AIRFLOW, "dags", "test", dag_id, logical_date, *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def emulator_connection(emulator: object) -> dict:
    """The ``azure_ml_default`` connection (without its type) for ``emulator``."""
    from tests.operators.task_thread import CLIENT_ID, SECRET, TENANT

    connection = emulator.airflow_connection(TENANT, CLIENT_ID, SECRET)  # type: ignore[attr-defined]
    connection.pop("conn_type")
    return dict(connection)


def emulator_env(home: Path, dags_folder: Path, emulator: object) -> dict[str, str]:
    """Environment for an Airflow CLI process whose ``azure_ml_default`` is ``emulator``."""
    return airflow_env(home, dags_folder, None, emulator_connection(emulator))


def dags_test_on_emulator(
    home: Path, dags_folder: Path, dag_id: str, emulator: object, conf: dict | None = None
) -> str:
    """``airflow dags test DAG 2026-01-01`` with ``azure_ml_default`` pointing at ``emulator``;
    returns everything the run printed."""
    connection = emulator_connection(emulator)
    result = dags_test(
        home,
        dags_folder,
        dag_id,
        "2026-01-01T00:00:00+00:00",
        None,
        connection=connection,
        conf=conf,
    )
    return result.stdout + result.stderr
