"""Run the operator's execute() in a thread of this process, as the task runner calls it.

For tests that act on a task from outside while it waits (kill it, pause its job).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "0a1b2c3d-0000-4000-8000-00000000c11e"
SECRET = "in-process-test-secret"


def use_emulator(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point ``azure_ml_default`` at the emulator and register the toy project's environment."""
    from azure.ai.ml.entities import Environment

    connection = emulator.airflow_connection(TENANT, CLIENT_ID, SECRET)
    monkeypatch.setenv("AIRFLOW_CONN_AZURE_ML_DEFAULT", json.dumps(connection))
    emulator.ml_client().environments.create_or_update(
        Environment(name="kedro-env", version="1", image="python:3.11-slim")
    )


def use_local_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point ``azure_ml_default`` at the local backend."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_AZURE_ML_DEFAULT",
        json.dumps({"conn_type": "azure_ml", "extra": {"backend": "local"}}),
    )


@dataclass
class TaskInstanceStub:
    """What execute() reads of a task instance, and the XComs it pushes."""

    run_id: str = "manual__2026-01-01T00:00:00+00:00"
    map_index: int = -1
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


@dataclass
class DagRunStub:
    """What execute() reads of a DAG run."""

    run_id: str = "manual__2026-01-01T00:00:00+00:00"
    logical_date: Any = field(default_factory=lambda: pendulum.datetime(2026, 1, 1, tz="UTC"))
    run_after: Any = None


def operator_for(project: Path, pipeline: str, **kwargs: Any) -> KedroAzureMLPipelineOperator:
    """The operator of task ``run`` in DAG ``in_process``, for ``pipeline`` of ``project``."""
    from airflow.sdk import DAG

    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    with DAG("in_process", schedule=None, start_date=start):
        return KedroAzureMLPipelineOperator(
            task_id="run", project_path=str(project), pipeline=pipeline, **kwargs
        )


class TaskThread:
    """The operator for ``pipeline`` of ``project``, its execute() running in a thread."""

    def __init__(
        self, project: Path | None, pipeline: str = "", operator: Any = None, **kwargs: Any
    ) -> None:
        """Run ``operator``, or the operator for ``pipeline`` of ``project``."""
        if operator is None:
            assert project is not None
            operator = operator_for(project, pipeline, poll_interval=0.2, **kwargs)
        self.operator = operator
        self.ti = TaskInstanceStub()
        self._raised: list[BaseException] = []
        self._thread = threading.Thread(target=self._execute, daemon=True)
        self._thread.start()

    def _execute(self) -> None:
        try:
            self.operator.execute({"ti": self.ti, "dag_run": DagRunStub()})  # type: ignore[arg-type]
        except BaseException as error:
            self._raised.append(error)

    def wait_for_job_status(self, emulator: Any, status: str, timeout: float = 120) -> str:
        """The name of the task's job, once the emulator says it is in ``status``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._raised:
            name = self.ti.xcoms.get("azureml_job_name")
            if name and emulator.job_status(name) == status:
                return str(name)
            time.sleep(0.1)
        raise AssertionError(f"no job reached {status}; the task raised {self._raised!r}")

    def result(self, timeout: float) -> BaseException | None:
        """Wait for execute() to return; the exception it raised, or None."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"execute() still running after {timeout} s"
        return self._raised[0] if self._raised else None
