"""Act on an existing DAG run as the scheduler would, in a separate process (for e2e tests).

``python -m tests.dag_run_tool states DAG_ID DATE`` prints ``{task_id: state}`` of the
run at logical date DATE; ``python -m tests.dag_run_tool continue DAGS DAG_ID DATE``
runs what ``airflow tasks clear`` left to run in that run, in process, the way
``airflow dags test`` runs a new one (``dags test`` would replace the run instead).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def states(dag_id: str, logical_date: str) -> dict[str, str | None]:
    """Task id -> state of the run of ``dag_id`` at ``logical_date``."""
    import pendulum
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(
            select(DagRun).where(
                DagRun.dag_id == dag_id, DagRun.logical_date == pendulum.parse(logical_date)
            )
        )
        assert run is not None, f"no run of {dag_id} at {logical_date}"
        return {ti.task_id: ti.state for ti in run.get_task_instances(session=session)}


def xcom(dag_id: str, logical_date: str, task_id: str, key: str) -> object:
    """The XCom ``key`` of ``task_id`` in the run of ``dag_id`` at ``logical_date``."""
    import pendulum
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(
            select(DagRun).where(
                DagRun.dag_id == dag_id, DagRun.logical_date == pendulum.parse(logical_date)
            )
        )
        assert run is not None, f"no run of {dag_id} at {logical_date}"
        row = session.scalar(
            select(XComModel).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
            )
        )
        return None if row is None else XComModel.deserialize_value(row)


def continue_run(dags_folder: str, dag_id: str, logical_date: str) -> None:
    """Run the cleared tasks of the existing run until it ends (``dag.test``'s loop)."""
    from unittest import mock

    import pendulum
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.dagrun import DagRun
    from airflow.serialization.definitions.dag import SerializedDAG
    from airflow.utils.state import DagRunState
    from sqlalchemy import select

    dag = DagBag(dag_folder=dags_folder).get_dag(dag_id)
    assert dag is not None, f"no DAG {dag_id} in {dags_folder}"
    when = pendulum.parse(logical_date)

    def existing_run(*, dag: Any, session: Any, **_: Any) -> DagRun:
        run = session.scalar(
            select(DagRun).where(DagRun.dag_id == dag.dag_id, DagRun.logical_date == when)
        )
        assert run is not None
        run.state = DagRunState.RUNNING
        run.dag = dag
        session.commit()
        return run

    with (
        mock.patch("airflow.models.dagrun.get_or_create_dagrun", existing_run),
        mock.patch.object(SerializedDAG, "clear_dags", lambda *a, **k: None),
    ):
        dag.test(logical_date=when)


def run_tool(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    """Run this tool with ``args`` in a new process; its output (stdout + stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.dag_run_tool", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).resolve().parents[1],
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    return output


def run_states(env: dict[str, str], dag_id: str, logical_date: str) -> dict[str, str | None]:
    """``states`` in a new process."""
    output = run_tool(env, "states", dag_id, logical_date)
    line = [line for line in output.splitlines() if line.startswith("STATES ")][-1]
    return json.loads(line.removeprefix("STATES "))  # type: ignore[no-any-return]


def run_xcom(env: dict[str, str], dag_id: str, logical_date: str, task_id: str, key: str) -> Any:
    """``xcom`` in a new process."""
    output = run_tool(env, "xcom", dag_id, logical_date, task_id, key)
    line = [line for line in output.splitlines() if line.startswith("XCOM ")][-1]
    return json.loads(line.removeprefix("XCOM "))


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "states":
        print("STATES " + json.dumps(states(*rest)))
    elif command == "xcom":
        print("XCOM " + json.dumps(xcom(*rest)))
    elif command == "continue":
        continue_run(*rest)
    else:
        raise SystemExit(f"unknown command {command!r}")
