"""The task group in a running Airflow: scheduler, triggerer, DAG processor and API server.

``airflow dags test`` runs tasks one after the other, so a step task there never waits
for a step still running. Here the services run as in a deployment (LocalExecutor),
the job runs on the emulator, and the step tasks really defer: their triggers run in
the triggerer and read what the submit task publishes while it watches the job.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.airflow_cli import AIRFLOW, emulator_env, migrate
from tests.task_groups.group_project import group_project, write_dag, write_manifest
from tests.ui.chromium import stop_process_group
from tests.ui.test_airflow_ui import UI_ENV, free_port, get_json

SERVICES = ("api-server", "dag-processor", "scheduler", "triggerer")


@contextlib.contextmanager
def airflow_services(env: dict[str, str], logs: Path, port: int) -> Iterator[str]:
    """Start Airflow's services; yield the API server's URL; stop them all."""
    logs.mkdir(parents=True, exist_ok=True)
    started: list[subprocess.Popen[bytes]] = []
    try:
        for service in SERVICES:
            command = [AIRFLOW, service]
            if service == "api-server":
                command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
            with (logs / f"{service}.log").open("wb") as out:
                started.append(
                    subprocess.Popen(
                        command,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in started:
            stop_process_group(process)


def wait_for(what: str, check: Any, timeout: float, logs: Path) -> Any:
    """Call ``check()`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            found = check()
            if found:
                return found
        time.sleep(1)
    tails = "\n".join(
        f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs.glob("*.log")
    )
    pytest.fail(f"{what}: not within {timeout} s\n{tails}")


def post_json(url: str, token: str, body: dict[str, Any]) -> Any:
    import json
    import urllib.request

    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        return json.load(response)


def task_log(home: Path, task_id: str) -> str:
    files = sorted((home / "logs").rglob(f"task_id={task_id}/*.log*"))
    return "\n".join(path.read_text(errors="replace") for path in files)


@pytest.mark.e2e
@pytest.mark.timeout(900)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_step_tasks_defer_and_end_with_their_steps_in_a_running_airflow(
    azureml_emulator, make_project, monkeypatch, tmp_path: Path
) -> None:
    from tests.operators.task_thread import use_emulator

    use_emulator(azureml_emulator, monkeypatch)
    project = group_project(make_project, tmp_path)
    dags = tmp_path / "dags"
    write_manifest(project, dags / "graph_manifest.json")
    write_dag(dags, project, dags / "graph_manifest.json", deferrable=True)
    (tmp_path / "fail-slow").write_text("25")  # the train step runs for 25 s
    home = tmp_path / "airflow-home"
    migrate(home)
    port = free_port()
    env = emulator_env(home, dags, azureml_emulator)
    env.update(
        UI_ENV,
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__CORE__PARALLELISM="8",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME="0.5",
        AIRFLOW__KEDRO_AZUREML__POLL_INTERVAL="1",
    )
    logs = tmp_path / "service-logs"
    with airflow_services(env, logs, port) as base_url:
        token = wait_for(
            "the API server", lambda: get_json(f"{base_url}/auth/token")["access_token"], 180, logs
        )
        wait_for(
            "the DAG processor to register graph_dag",
            lambda: get_json(f"{base_url}/api/v2/dags/graph_dag", token),
            180,
            logs,
        )
        run = post_json(
            f"{base_url}/api/v2/dags/graph_dag/dagRuns",
            token,
            {"logical_date": "2026-01-01T00:00:00Z", "dag_run_id": "live"},
        )
        assert run["dag_run_id"] == "live"

        # Every step task seen deferred while the job ran, until the run ended.
        deferred: set[str] = set()

        def run_ended() -> str | None:
            answer = get_json(f"{base_url}/api/v2/dags/graph_dag/dagRuns/live/taskInstances", token)
            deferred.update(
                ti["task_id"] for ti in answer["task_instances"] if ti["state"] == "deferred"
            )
            run = get_json(f"{base_url}/api/v2/dags/graph_dag/dagRuns/live", token)
            return run["state"] if run["state"] in ("success", "failed") else None

        state = wait_for("the DAG run to end", run_ended, 600, logs)
        instances = get_json(f"{base_url}/api/v2/dags/graph_dag/dagRuns/live/taskInstances", token)[
            "task_instances"
        ]

    states = {ti["task_id"]: ti["state"] for ti in instances}
    assert state == "success", states
    assert set(states.values()) == {"success"}
    assert {"kedro.prep", "kedro.model.model_train"} <= deferred
    # The submit task deferred too: its trigger watched the job and published its state.
    submit_log = task_log(home, "kedro.submit")
    assert "Deferring: the triggerer watches job" in submit_log
    train_log = task_log(home, "kedro.model.model_train")
    assert "Deferring: step 'model_train' runs in the job task kedro.submit watches" in train_log
    # Its duration is the step run's own (it slept 25 s), not the task's wait.
    took = re.search(
        r"Step 'model_train' \(nodes: model\.train\) completed in ([\d.]+) s", train_log
    )
    assert took is not None and 25 <= float(took.group(1)) < 60, took
    # Its trigger ran in the triggerer and woke it when the step ended.
    assert "Trigger fired event" in train_log
    assert "TriggerEvent<{'status': 'step_ended'}>" in train_log
    # One watcher: the step tasks asked Azure ML nothing while they waited (each read
    # its step's log once at the end); the job and its steps were listed together.
    (job,) = azureml_emulator.jobs()
    job_reads = azureml_emulator.requests("GET", rf"/jobs/{job}$")
    listings = azureml_emulator.requests(method="POST", path_regex=rf"/runs/{job}/children")
    listings += azureml_emulator.requests(method="GET", path_regex=rf"/runs/{job}/children")
    assert 0 < len(listings) <= len(job_reads)
