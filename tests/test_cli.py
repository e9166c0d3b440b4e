"""Tests for `kedro azureml compile` and `kedro azureml run-local`, run as real commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

KEDRO = str(Path(sys.executable).parent / "kedro")
RUN_ID = "2026-11-10T06.00.00.000Z"


def kedro(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KEDRO_DISABLE_TELEMETRY="true")
    return subprocess.run(
        [KEDRO, *arguments], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.timeout(300)
def test_compile_writes_yaml_that_load_job_reads(toy_project: Path) -> None:
    from azure.ai.ml import load_job

    result = kedro(
        toy_project,
        "azureml",
        "compile",
        "-p",
        "toy",
        "--run-id",
        RUN_ID,
        "--params",
        '{"label": "x y"}',
        "-o",
        "out/job.yaml",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Wrote 3 step(s) of pipeline 'toy'" in result.stdout
    path = toy_project / "out" / "job.yaml"
    document = yaml.safe_load(path.read_text())
    assert document["jobs"]["double_node"]["code"] == ".."
    job = load_job(path)
    assert sorted(job.jobs) == ["double_node", "report_node", "total_node"]


@pytest.mark.timeout(300)
def test_compile_reports_bad_input_clearly(toy_project: Path) -> None:
    result = kedro(toy_project, "azureml", "compile", "-p", "missing")
    assert result.returncode != 0
    assert "pipeline 'missing' is not registered" in result.stderr + result.stdout


@pytest.mark.timeout(300)
def test_run_local_runs_every_step(toy_project: Path) -> None:
    result = kedro(toy_project, "azureml", "run-local", "-p", "toy", "--run-id", RUN_ID)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Completed" in result.stdout
    assert (toy_project / "data" / "report.json" / RUN_ID / "report.json").exists()
