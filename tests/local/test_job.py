"""Tests for the one local-run routine that ``run-local`` and the operator share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
from airflow_kedro_azureml.compiler.child import CompileRequest
from airflow_kedro_azureml.compiler.kedro_project import open_project
from airflow_kedro_azureml.errors import PipelineSelectionError, ProjectError
from airflow_kedro_azureml.local.job import LocalJob, LocalRunSettings

RUN_ID = "2026-11-10T06.00.00.000Z"


def test_runs_folder_is_resolved_one_way(toy_project: Path, tmp_path: Path) -> None:
    project = open_project(toy_project)
    default = LocalRunSettings.for_project(project)
    assert default.runs_dir == project.path / ".azureml-local" / "runs"
    assert (default.max_parallel, default.fork_server) == (2, True)
    relative = LocalRunSettings.for_project(project, runs_dir="elsewhere", max_parallel=3)
    assert (relative.runs_dir, relative.max_parallel) == (project.path / "elsewhere", 3)
    absolute = LocalRunSettings.for_project(project, runs_dir=tmp_path, fork_server=False)
    assert (absolute.runs_dir, absolute.fork_server) == (tmp_path, False)


def _request(project: Path, pipeline: str) -> CompileRequest:
    return CompileRequest(project, None, {}, CompileOptions(pipeline_name=pipeline, run_id=RUN_ID))


@pytest.mark.timeout(300)
def test_a_local_job_compiles_in_the_fork_server_then_runs(toy_project: Path) -> None:
    lines: list[tuple[str, str]] = []
    progress: list[str] = []
    job = LocalJob(
        toy_project,
        "job_1",
        on_log=lambda step, line: lines.append((step, line)),
        on_progress=progress.append,
    )
    result = job.compile(_request(toy_project, "toy"))
    assert result.compiled == compile_pipeline(
        open_project(toy_project), CompileOptions(pipeline_name="toy", run_id=RUN_ID)
    )
    assert result.project.path == toy_project.resolve()
    outcome = job.run(result.compiled)
    assert outcome.succeeded, outcome.failure_message()
    assert outcome.summary() == (
        "double_node: Completed, total_node: Completed, report_node: Completed"
    )
    assert job.run_dir == toy_project / ".azureml-local" / "runs" / "job_1"
    assert "Job job_1: 0/3 steps completed, running: double_node" in progress
    assert progress[-1] == "Job job_1: 3/3 steps completed"
    assert (job.run_dir / "report_node" / "user_logs" / "std_log.txt").is_file()
    report = toy_project / "data" / "report.json" / RUN_ID / "report.json"
    assert json.loads(report.read_text()) == {"total": 12, "count": 3, "label": "toy"}


@pytest.mark.timeout(300)
def test_the_caller_never_imports_the_projects_modules(toy_project: Path) -> None:
    """Compiling in the fork server leaves this process without the project's package."""
    import sys

    job = LocalJob(toy_project, "job_4")
    result = job.compile(_request(toy_project, "toy"), fork_server=False)
    assert result.compiled is not None and len(result.compiled.steps) == 3
    package = result.project.package_name
    assert package.startswith("toy_")
    assert not any(name.split(".")[0] == package for name in sys.modules)
    assert job._server is None  # not forking: the server stopped after compiling
    assert job.run(result.compiled).succeeded


@pytest.mark.timeout(300)
def test_a_failed_compile_stops_the_fork_server_with_the_projects_error(
    toy_project: Path,
) -> None:
    job = LocalJob(toy_project, "job_2")
    server = job._server
    assert server is not None
    with pytest.raises(PipelineSelectionError, match="'nope' is not registered"):
        job.compile(_request(toy_project, "nope"))
    assert server._process.wait(timeout=30) is not None
    with pytest.raises(RuntimeError, match="compile"):
        job.run_dir  # noqa: B018 - no settings without a compile


@pytest.mark.timeout(300)
def test_a_missing_project_folder_is_the_compiles_error(tmp_path: Path) -> None:
    job = LocalJob(tmp_path / "missing", "job_5")
    with pytest.raises(ProjectError, match="is not a directory"):
        job.compile(_request(tmp_path / "missing", "toy"))


@pytest.mark.timeout(300)
def test_a_failed_step_gives_a_failed_outcome_naming_it(toy_project: Path) -> None:
    job = LocalJob(toy_project, "job_3")
    compiled = job.compile(_request(toy_project, "failing")).compiled
    assert compiled is not None
    outcome = job.run(compiled)
    assert not outcome.succeeded and outcome.status == "Failed"
    assert "step 'failing_node' failed" in outcome.failure_message()


def test_step_log_lines_keep_their_level() -> None:
    import logging

    from airflow_kedro_azureml.local.job import StepLogLevels

    levels = StepLogLevels()
    kedro = "2026-12-01 12:53:10,866 - kedro.runner - {} - message"
    assert levels.level_of("a", kedro.format("INFO")) == logging.INFO
    assert levels.level_of("a", kedro.format("WARNING")) == logging.WARNING
    assert levels.level_of("a", kedro.format("ERROR")) == logging.ERROR
    # a traceback after an error record is part of it; other steps keep their own level
    assert levels.level_of("a", "Traceback (most recent call last):") == logging.ERROR
    assert levels.level_of("b", "plain print output") == logging.INFO
    assert levels.level_of("b", "/x.py:3: UserWarning: careful") == logging.WARNING


ALREADY_COMPILED = """
import json, sys
from pathlib import Path
from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
from airflow_kedro_azureml.compiler.kedro_project import open_project
from airflow_kedro_azureml.local.forkserver_client import _ForkedServer
from airflow_kedro_azureml.local.job import LocalJob

project = open_project(Path(sys.argv[1]))
compiled = compile_pipeline(project, CompileOptions(pipeline_name="toy", run_id=sys.argv[2]))
job = LocalJob.already_compiled(project, compiled, "job_6", on_log=lambda step, line: None)
forked = isinstance(job._server._process, _ForkedServer)
outcome = job.run(compiled)
print(json.dumps({"forked": forked, "status": outcome.status}))
"""


@pytest.mark.timeout(300)
def test_a_process_that_compiled_forks_its_own_warm_server(toy_project: Path) -> None:
    """``run-local``'s way: the steps fork from a fork of the process that compiled."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", ALREADY_COMPILED, str(toy_project), RUN_ID],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "forked": True,
        "status": "Completed",
    }
    report = toy_project / "data" / "report.json" / RUN_ID / "report.json"
    assert json.loads(report.read_text()) == {"total": 12, "count": 3, "label": "toy"}
    log = toy_project / ".azureml-local" / "runs" / "job_6" / "report_node" / "user_logs"
    assert " - INFO - " in (log / "std_log.txt").read_text()  # Kedro's plain log lines


def test_a_process_running_threads_does_not_fork_itself(tmp_path: Path) -> None:
    import threading

    from airflow_kedro_azureml.local.forkserver_client import ForkServerClient

    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    try:
        assert ForkServerClient.fork_of_this_process(tmp_path, {}, tmp_path) is None
    finally:
        stop.set()
        helper.join()


def test_old_run_folders_are_deleted_beyond_keep_runs(tmp_path: Path) -> None:
    import os

    from airflow_kedro_azureml.local.job import prune_run_folders

    runs = tmp_path / "runs"
    for age, name in enumerate(["current", "b", "c", "d"]):
        state = runs / name / "job.json"
        state.parent.mkdir(parents=True)
        state.write_text("{}")
        os.utime(state, (1_000 + age, 1_000 + age))
    (runs / "notes").mkdir()  # no job.json: not a run folder, left alone
    deleted = prune_run_folders(runs, 2, current="current")
    assert sorted(folder.name for folder in deleted) == ["b", "c"]
    assert sorted(folder.name for folder in runs.iterdir()) == ["current", "d", "notes"]


def test_keep_runs_comes_from_azureml_yml_and_must_be_positive() -> None:
    from airflow_kedro_azureml.config import parse_config
    from airflow_kedro_azureml.errors import ConfigError

    base = {"compute": {"__default__": {"cluster_name": "cpu"}}}
    config = parse_config({**base, "execution": {"local": {"keep_runs": 3}}}, "azureml.yml")
    assert config.execution.local.keep_runs == 3
    assert parse_config(base, "azureml.yml").execution.local.keep_runs is None
    with pytest.raises(ConfigError, match="keep_runs"):
        parse_config({**base, "execution": {"local": {"keep_runs": 0}}}, "azureml.yml")
