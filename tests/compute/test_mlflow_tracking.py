"""Steps log to MLflow: a run per step, tagged with the Airflow and Kedro identity.

On the local backend (a file store in the run folder), through ``kedro azureml run-local``
and through the operator; on Azure ML's terms (the service's ``MLFLOW_RUN_ID`` of the
step, a child of the pipeline job's run, whose tags the step copies); and not at all
with ``execution.mlflow: false``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.compute.test_execute import execute
from tests.conftest import DEFAULT_AZUREML, TOY_NODES
from tests.operators.task_thread import (
    DagRunStub,
    TaskInstanceStub,
    operator_for,
    use_local_backend,
)
from tests.test_cli import kedro

# The toy nodes, with total() logging a metric to whatever MLflow run is active.
LOGGING_NODES = TOY_NODES.replace(
    "def total(values):\n    return sum(values)",
    "def total(values):\n    import mlflow\n\n    mlflow.log_metric('total', sum(values))\n"
    "    return sum(values)",
)


def runs_in(store: Path) -> list[Any]:
    """Every MLflow run of the file store ``store``."""
    import mlflow

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    client = mlflow.MlflowClient(tracking_uri=store.as_uri())
    experiments = client.search_experiments()
    return client.search_runs([e.experiment_id for e in experiments])


def run_folders(project: Path) -> list[Path]:
    return sorted((project / ".azureml-local" / "runs").iterdir())


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_run_local_logs_a_run_per_step_into_the_run_folder(make_project: Any) -> None:
    project = make_project(nodes=LOGGING_NODES)

    result = kedro(
        project, "azureml", "run-local", "-p", "toy", "--run-id", "2026-11-10T06.00.00.000Z"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = run_folders(project)
    runs = runs_in(run / "mlruns")
    by_nodes = {r.data.tags["kedro_nodes"]: r for r in runs}
    assert set(by_nodes) == {"double_node", "total_node", "report_node"}
    for found in runs:
        assert found.data.tags["kedro_run_id"] == "2026-11-10T06.00.00.000Z"
        assert found.data.tags["kedro_pipeline"] == "toy"
        assert found.info.status == "FINISHED"
    assert by_nodes["total_node"].data.metrics == {"total": 12.0}
    assert by_nodes["total_node"].info.run_name == "total_node"


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_the_operator_tags_each_step_run_with_the_airflow_task_try(
    make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    use_local_backend(monkeypatch)
    project = make_project(nodes=LOGGING_NODES)
    operator = operator_for(project, "toy", poll_interval=0.2)
    operator.execute({"ti": TaskInstanceStub(try_number=2), "dag_run": DagRunStub()})  # type: ignore[arg-type]

    (run,) = run_folders(project)
    runs = runs_in(run / "mlruns")
    assert len(runs) == 3
    experiment = mlflow.MlflowClient(tracking_uri=(run / "mlruns").as_uri()).get_experiment(
        runs[0].info.experiment_id
    )
    assert experiment.name == "in_process"  # the DAG id, as on Azure ML
    for found in runs:
        tags = found.data.tags
        assert tags["airflow_dag_id"] == "in_process"
        assert tags["airflow_task_id"] == "run"
        assert tags["airflow_run_id"] == "manual__2026-01-01T00:00:00+00:00"
        assert tags["airflow_try_number"] == "2"
        assert tags["kedro_run_id"] == tags["kedro_run_id"].strip() != ""


@pytest.mark.timeout(120)
def test_on_azure_ml_the_step_continues_its_run_and_copies_the_pipeline_job_tags(
    make_project: Any, tmp_path: Path
) -> None:
    """What Azure ML sets up for a step: its own run, a child of the job's run, by id."""
    import mlflow

    store = (tmp_path / "workspace-mlruns").as_uri()
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    client = mlflow.MlflowClient(tracking_uri=store)
    experiment = client.create_experiment("monthly_retraining")
    job_run = client.create_run(
        experiment, tags={"airflow_dag_id": "monthly", "airflow_try_number": "3", "other": "x"}
    )
    step_run = client.create_run(
        experiment, tags={"mlflow.parentRunId": job_run.info.run_id}, run_name="total_node"
    )
    project = make_project(nodes=LOGGING_NODES)
    result = execute(
        project,
        "--pipeline",
        "toy",
        "--nodes",
        "double_node,total_node",
        "--run-id",
        "2026-11-10T06.00.00.000Z",
        "--output",
        "summed",
        str(tmp_path / "summed"),
        env={
            "MLFLOW_TRACKING_URI": store,
            "MLFLOW_EXPERIMENT_ID": experiment,
            "MLFLOW_RUN_ID": step_run.info.run_id,
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = client.get_run(step_run.info.run_id)
    assert found.data.tags["airflow_dag_id"] == "monthly"
    assert found.data.tags["airflow_try_number"] == "3"
    assert "other" not in found.data.tags
    assert found.data.tags["kedro_nodes"] == "double_node,total_node"
    assert found.data.metrics == {"total": 12.0}
    assert len(client.search_runs([experiment])) == 2  # no run of its own besides the step's


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_execution_mlflow_false_logs_nothing(make_project: Any) -> None:
    azureml = {**DEFAULT_AZUREML, "execution": {**DEFAULT_AZUREML["execution"], "mlflow": False}}
    project = make_project(azureml=azureml)

    result = kedro(project, "azureml", "run-local", "-p", "toy")

    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = run_folders(project)
    assert not (run / "mlruns").exists() or runs_in(run / "mlruns") == []


def test_steps_creating_the_experiment_at_once_both_get_their_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two steps start together: one creates the experiment, the other's creation fails."""
    import mlflow

    from airflow_kedro_azureml.compute.mlflow_tracking import step_tracking

    store = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "raced")
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    real = mlflow.set_experiment
    calls = []

    def lose_the_race_once(name: str) -> object:
        calls.append(name)
        if len(calls) == 1:
            mlflow.MlflowClient(tracking_uri=store).create_experiment(name)  # the other step
            raise mlflow.exceptions.MlflowException(f"Experiment '{name}' already exists.")
        return real(name)

    monkeypatch.setattr(mlflow, "set_experiment", lose_the_race_once)
    with step_tracking("toy", ["n1"], "2026-11-10T06.00.00.000Z") as run_id:
        assert run_id is not None
    assert calls == ["raced", "raced"]
    assert mlflow.MlflowClient(tracking_uri=store).get_run(run_id).info.status == "FINISHED"


def test_a_tracking_server_out_of_reach_never_fails_the_step(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from airflow_kedro_azureml.compute.mlflow_tracking import step_tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "nowhere://tracking")
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    ran = []
    with step_tracking("toy", ["n1"], "2026-11-10T06.00.00.000Z") as run_id:
        ran.append(run_id)
    assert ran == [None]
    assert "MLflow run not started" in caplog.text
