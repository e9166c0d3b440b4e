"""Tests for `kedro azureml compile` and `kedro azureml run-local`, run as real commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import DEFAULT_AZUREML

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


LOCAL_INTERMEDIATES = {
    "raw": {"type": "json.JSONDataset", "filepath": "data/raw.json"},
    "doubled": {
        "type": "json.JSONDataset",
        "filepath": "data/02_intermediate/doubled.json",
        "versioned": True,
    },
    "summed": {"type": "pickle.PickleDataset", "filepath": "data/03_primary/summed.pkl"},
    "report": {"type": "json.JSONDataset", "filepath": "data/report.json", "versioned": True},
}


@pytest.mark.timeout(300)
def test_run_local_promotes_local_files_that_cross_steps(make_project) -> None:
    project = make_project(catalog=LOCAL_INTERMEDIATES)
    result = kedro(project, "azureml", "run-local", "-p", "toy", "--run-id", RUN_ID)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "Local datasets that cross steps travel as step outputs: doubled, summed" in output
    report = json.loads((project / "data" / "report.json" / RUN_ID / "report.json").read_text())
    assert report["total"] == 12
    runs = project / ".azureml-local" / "runs"
    # doubled travelled through the writer's output folder, versioned by the run id
    (written,) = [p for p in runs.rglob("doubled.json") if p.is_file()]
    assert written.parent.name == RUN_ID
    assert not (project / "data" / "02_intermediate").exists()  # not on the project's disk


PIPELINE_PLUGIN_STYLE = {
    # The layout kedro-azureml-pipeline users have: named schedules, a job with a list.
    "schedules": {
        "monthly": {"cron": {"expression": "0 6 10 * *", "time_zone": "Europe/Paris"}},
    },
    "jobs": {
        "training": {
            "pipeline": {"pipeline_name": "toy"},
            "experiment_name": "toy-training",
            "params": {"label": "from the job"},
            "schedule": [
                "monthly",
                {
                    "recurrence": {
                        "frequency": "week",
                        "interval": 1,
                        "schedule": {"hours": [7], "minutes": [30], "week_days": ["monday"]},
                        "time_zone": "UTC",
                    }
                },
            ],
        }
    },
}


@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"], execute_jobs=False)
def test_schedule_command_creates_every_schedule_of_a_job(
    make_project, azureml_emulator, monkeypatch
) -> None:
    from tests.operators.task_thread import use_emulator

    use_emulator(azureml_emulator, monkeypatch)
    azureml = {**DEFAULT_AZUREML, **PIPELINE_PLUGIN_STYLE}
    azureml.pop("workspace")  # the connection names the emulator's workspace
    catalog = {"raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"}}
    project = make_project(azureml=azureml, catalog=catalog)
    package = project.name.replace("_", "-")
    result = kedro(project, "azureml", "schedule", "--job", "training")
    assert result.returncode == 0, result.stdout + result.stderr
    names = [f"kedro-{package}-training-monthly", f"kedro-{package}-training-2"]
    for name in names:
        assert f"Schedule {name} created" in result.stdout, result.stdout[-2000:]
        body = azureml_emulator.schedule(name)
        assert body["properties"]["action"]["jobDefinition"]["experimentName"] == "toy-training"
    weekly = azureml_emulator.schedule(names[1])["properties"]["trigger"]
    assert (weekly["frequency"], weekly["schedule"]["weekDays"]) == ("week", ["monday"])

    again = kedro(project, "azureml", "schedule", "-j", "training")
    assert again.stdout.count(" unchanged ") == 2, again.stdout + again.stderr
    gone = kedro(project, "azureml", "schedule", "-j", "training", "--action", "delete")
    assert gone.returncode == 0 and all(azureml_emulator.schedule(n) is None for n in names)


@pytest.mark.timeout(120)
def test_schedule_command_refuses_a_bad_schedule_before_any_request(make_project) -> None:
    azureml = {
        **DEFAULT_AZUREML,
        "schedules": {"monthly": {"cron": {"expression": "0 6 31 2 * *"}}},
    }
    project = make_project(azureml=azureml)
    result = kedro(project, "azureml", "schedule", "-s", "monthly", "-p", "toy")
    assert result.returncode != 0
    assert "schedules.monthly" in result.stderr and "five fields" in result.stderr


@pytest.mark.timeout(300)
def test_runtime_params_resolve_in_azureml_yml_at_compile(make_project) -> None:
    azureml = {
        **DEFAULT_AZUREML,
        "compute": {
            "__default__": {"cluster_name": "${runtime_params:cluster,cpu-cluster}"},
            "gpu": {"cluster_name": "gpu-cluster"},
        },
    }
    project = make_project(azureml=azureml)

    def default_compute(*extra: str) -> str:
        result = kedro(
            project, "azureml", "compile", "-p", "toy", "--run-id", RUN_ID, "-o", "job.yaml", *extra
        )
        assert result.returncode == 0, result.stderr
        document = yaml.safe_load((project / "job.yaml").read_text())
        return document["settings"]["default_compute"]

    assert default_compute() == "azureml:cpu-cluster"
    params = ["--params", '{"cluster": "big-cluster"}', "--allow-unknown-params"]
    assert default_compute(*params) == "azureml:big-cluster"
