"""Tests for the one local-run routine that ``run-local`` and the operator share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
from airflow_kedro_azureml.compiler.kedro_project import open_project
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


@pytest.mark.timeout(300)
def test_a_local_job_compiles_while_warming_up_then_runs(toy_project: Path) -> None:
    project = open_project(toy_project)
    lines: list[tuple[str, str]] = []
    progress: list[str] = []
    job = LocalJob(
        project,
        "toy",
        LocalRunSettings.for_project(project),
        "job_1",
        on_log=lambda step, line: lines.append((step, line)),
        on_progress=progress.append,
    )
    compiled = job.compile(
        lambda: compile_pipeline(project, CompileOptions(pipeline_name="toy", run_id=RUN_ID))
    )
    outcome = job.run(compiled)
    assert outcome.succeeded, outcome.failure_message()
    assert outcome.summary() == (
        "double_node: Completed, total_node: Completed, report_node: Completed"
    )
    assert job.run_dir == project.path / ".azureml-local" / "runs" / "job_1"
    assert "Job job_1: 0/3 steps completed, running: double_node" in progress
    assert progress[-1] == "Job job_1: 3/3 steps completed"
    assert (job.run_dir / "report_node" / "user_logs" / "std_log.txt").is_file()
    report = toy_project / "data" / "report.json" / RUN_ID / "report.json"
    assert json.loads(report.read_text()) == {"total": 12, "count": 3, "label": "toy"}


@pytest.mark.timeout(300)
def test_a_failed_compile_stops_the_warming_fork_server(toy_project: Path) -> None:
    project = open_project(toy_project)
    job = LocalJob(project, "toy", LocalRunSettings.for_project(project), "job_2")
    server = job._server
    assert server is not None

    def broken_compile():
        raise RuntimeError("compile failed")

    with pytest.raises(RuntimeError, match="compile failed"):
        job.compile(broken_compile)
    assert server._process.wait(timeout=30) is not None
    assert not job.run_dir.exists()


@pytest.mark.timeout(300)
def test_a_failed_step_gives_a_failed_outcome_naming_it(toy_project: Path) -> None:
    project = open_project(toy_project)
    job = LocalJob(project, "failing", LocalRunSettings.for_project(project), "job_3")
    compiled = job.compile(
        lambda: compile_pipeline(project, CompileOptions(pipeline_name="failing", run_id=RUN_ID))
    )
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
