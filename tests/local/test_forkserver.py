"""Tests for running local-backend steps forked from a warm server process."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
from airflow_kedro_azureml.compiler.kedro_project import open_project
from airflow_kedro_azureml.local.forkserver_client import ForkServerClient
from airflow_kedro_azureml.local.job import pipeline_run_for
from airflow_kedro_azureml.local.pipeline_run import step_process_env

RUN_ID = "2026-11-10T06.00.00.000Z"


def start_fork_server(project: Path, pipeline: str) -> ForkServerClient:
    """A server that preloads ``pipeline`` of ``project`` (no compile request)."""
    return ForkServerClient(sys.executable, project, step_process_env(sys.executable), pipeline)


def run_for(project: Path, pipeline: str, tmp_path: Path, server: object = True):
    compiled = compile_pipeline(
        open_project(project), CompileOptions(pipeline_name=pipeline, run_id=RUN_ID)
    )
    lines: list[tuple[str, str]] = []
    run = pipeline_run_for(
        compiled,
        tmp_path / "runs" / "job",
        max_parallel=2,
        on_log=lambda step, line: lines.append((step, line)),
        fork_server=server,
    )
    return run, lines


@pytest.mark.timeout(300)
def test_forked_steps_run_the_whole_pipeline(toy_project: Path, tmp_path: Path) -> None:
    server = start_fork_server(toy_project, "toy")
    run, lines = run_for(toy_project, "toy", tmp_path, server)
    assert run.run() == "Completed", run.failure_message()
    report = toy_project / "data" / "report.json" / RUN_ID / "report.json"
    assert json.loads(report.read_text()) == {"total": 12, "count": 3, "label": "toy"}
    assert any(step == "report_node" and "Running node" in line for step, line in lines)
    assert "Running node" in run.log_path("total_node").read_text()


@pytest.mark.timeout(300)
def test_forked_failure_names_node_and_exits_non_zero(toy_project: Path, tmp_path: Path) -> None:
    run, _ = run_for(toy_project, "failing", tmp_path)
    assert run.run() == "Failed"
    message = run.failure_message()
    assert "step 'failing_node' failed" in message
    assert "boom: the toy node failed on purpose" in message
    assert "exited with code 1" in message


@pytest.mark.timeout(300)
def test_cancel_stops_a_forked_step(toy_project: Path, tmp_path: Path) -> None:
    run, lines = run_for(toy_project, "sleepy", tmp_path)
    run.start()
    deadline = time.monotonic() + 120
    while ("sleepy_node", "sleepy node started") not in lines and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ("sleepy_node", "sleepy node started") in lines
    started = time.monotonic()
    run.cancel()
    assert run.wait(timeout=60) == "Canceled"
    assert time.monotonic() - started < 20


@pytest.mark.timeout(300)
def test_server_dying_fails_the_step_and_stops_its_child(toy_project: Path, tmp_path: Path) -> None:
    import os

    server = start_fork_server(toy_project, "sleepy")
    run, lines = run_for(toy_project, "sleepy", tmp_path, server)
    run.start()
    deadline = time.monotonic() + 120
    while ("sleepy_node", "sleepy node started") not in lines and time.monotonic() < deadline:
        time.sleep(0.05)
    child = run._forked["sleepy_node"]
    server._process.kill()
    assert run.wait(timeout=60) == "Failed"
    assert "the fork server stopped" in run.failure_message()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.killpg(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the forked step outlived its server")


def test_missing_interpreter_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ForkServerClient(str(tmp_path / "no-python"), tmp_path, {}, "toy")
