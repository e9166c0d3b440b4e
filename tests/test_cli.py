"""Tests for `kedro azureml compile` and `kedro azureml run-local`, run as real commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.catalogs import pipeline_dataset
from tests.conftest import DEFAULT_AZUREML

KEDRO = str(Path(sys.executable).parent / "kedro")
RUN_ID = "2026-11-10T06.00.00.000Z"


def kedro(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KEDRO_DISABLE_TELEMETRY="true")
    return subprocess.run(
        [KEDRO, *arguments], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )


# What the toy project reads and writes, placed where Azure ML compute has and keeps it.
AZURE_READY = {
    "raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"},
    "report": pipeline_dataset("report.json"),
}


@pytest.fixture
def azure_ready_project(make_project) -> Path:
    return make_project(catalog=AZURE_READY)


@pytest.mark.timeout(300)
def test_compile_writes_yaml_that_load_job_reads(azure_ready_project: Path) -> None:
    from azure.ai.ml import load_job

    toy_project = azure_ready_project
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
    # It ends saying where this run is: run id, folder, step logs.
    run_dir = next((toy_project / ".azureml-local" / "runs").iterdir())
    assert f"  run id: {RUN_ID}" in result.stdout
    assert f"  run folder: {run_dir}" in result.stdout
    assert f"  step logs: {run_dir}/<step>/user_logs/std_log.txt" in result.stdout


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
    project = make_project(azureml=azureml, catalog=AZURE_READY)

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


@pytest.mark.timeout(300)
def test_compile_refuses_local_files_azure_ml_lacks_and_run_local_warns_the_same(
    toy_project: Path,
) -> None:
    compiled = kedro(toy_project, "azureml", "compile", "-p", "toy", "-o", "job.yaml")
    assert compiled.returncode != 0
    assert not (toy_project / "job.yaml").exists()
    words = [
        "On Azure ML these local files would be missing or lost:",
        "input 'raw' (data/raw.json) of step 'double_node': no step of this job writes it",
        "output 'report' (data/report.json) of step 'report_node': written to the",
    ]
    for line in words:
        assert line in compiled.stderr, compiled.stderr[-3000:]
    ran = kedro(toy_project, "azureml", "run-local", "-p", "toy", "--run-id", RUN_ID)
    assert ran.returncode == 0, ran.stderr[-3000:]
    for line in words:
        assert line in ran.stderr, ran.stderr[-3000:]


@pytest.mark.timeout(600)
def test_the_examples_training_alone_needs_model_input_table_from_elsewhere(
    tmp_path: Path,
) -> None:
    import shutil

    example = Path(__file__).resolve().parents[1] / "dags_examples" / "demand_forecasting"
    project = tmp_path / "demand_forecasting"
    shutil.copytree(example, project, ignore=shutil.ignore_patterns(".azureml-local", "0[2-8]_*"))
    compiled = kedro(project, "azureml", "compile", "-p", "training", "-o", "job.yaml")
    assert compiled.returncode != 0
    words = (
        "input 'model_input_table' (data/05_model_input/model_input_table.parquet) of step "
        "'select_training_window': no step of this job writes it"
    )
    assert words in compiled.stderr, compiled.stderr[-3000:]
    # Locally the file is on disk once data_processing ran: run-local works, and warns.
    prepared = kedro(project, "run", "--pipeline", "data_processing")
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    ran = kedro(project, "azureml", "run-local", "-p", "training", "--run-id", RUN_ID)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert words in ran.stderr
