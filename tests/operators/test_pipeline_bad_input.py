"""Bad input fails at once, before anything is submitted, and is never retried.

Each DAG task below has retries=2: a clear error on the first try, and no second try.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.airflow_cli import dags_test
from tests.operators.task_thread import DagRunStub, TaskInstanceStub, operator_for

BAD_DAG = """
from datetime import timedelta

import pendulum
from airflow.sdk import DAG
from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator

with DAG("bad_input", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    KedroAzureMLPipelineOperator(
        task_id="run", project_path="{project}", pipeline="{pipeline}",
        kedro_params={kedro_params}, retries=2, retry_delay=timedelta(seconds=1),
    )
"""

# A registry as `kedro new` writes it: find_pipelines(raise_errors=True).
FIND_PIPELINES_REGISTRY = """
from kedro.framework.project import find_pipelines


def register_pipelines():
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(pipelines.values())
    return pipelines
"""
TRAINING_PIPELINE = """
from kedro.pipeline import Pipeline, node

from {package}.nodes import double


def create_pipeline(**kwargs):
    return Pipeline([node(double, ["raw", "params:factor"], "doubled", name="double_node")])
"""


def run_bad(airflow_home: Path, tmp_path: Path, project: Path, pipeline: str, params: str):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "bad_input.py").write_text(
        BAD_DAG.format(project=project, pipeline=pipeline, kedro_params=params)
    )
    result = dags_test(
        airflow_home, dags, "bad_input", "2026-01-01T00:00:00+00:00", {"backend": "local"}
    )
    output = result.stdout + result.stderr
    assert "state=failed" in output, output[-5000:]
    assert "AirflowFailException" in output
    assert output.count("[DAG TEST] running task") == 1, "bad input was retried"
    return output


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_a_template_that_fails_to_render_is_not_retried(
    airflow_home: Path, make_project, tmp_path: Path
) -> None:
    output = run_bad(
        airflow_home, tmp_path, make_project(), "toy", '{"label": "{{ no_such_thing.attr }}"}'
    )
    assert "could not be rendered" in output and "no_such_thing" in output


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_a_typo_in_a_find_pipelines_registry_names_the_registered_ones(
    airflow_home: Path, make_project, tmp_path: Path
) -> None:
    project = make_project(registry=FIND_PIPELINES_REGISTRY)
    package = next((project / "src").iterdir())
    training = package / "pipelines" / "training"
    training.mkdir(parents=True)
    (package / "pipelines" / "__init__.py").write_text("")
    (training / "__init__.py").write_text("from .pipeline import create_pipeline  # noqa\n")
    (training / "pipeline.py").write_text(TRAINING_PIPELINE.format(package=package.name))

    output = run_bad(airflow_home, tmp_path, project, "trainig", "{}")

    assert "pipeline 'trainig' is not registered" in output
    assert "registered pipelines: ['__default__', 'training']" in output


def test_a_connection_that_does_not_exist_is_named(make_project, monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    operator = operator_for(make_project(), "toy", azureml_conn_id="no_such_connection")
    with pytest.raises(AirflowFailException, match="no Airflow connection 'no_such_connection'"):
        operator.execute({"ti": TaskInstanceStub(), "dag_run": DagRunStub()})


def test_a_connection_of_another_type_is_refused(make_project, monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setenv(
        "AIRFLOW_CONN_AZURE_ML_DEFAULT", json.dumps({"conn_type": "http", "host": "example"})
    )
    operator = operator_for(make_project(), "toy")
    with pytest.raises(AirflowFailException, match="of type 'http', not 'azure_ml'"):
        operator.execute({"ti": TaskInstanceStub(), "dag_run": DagRunStub()})


def azure_config(environment: str | None, workspace: str = "ws-emulator") -> dict:
    execution = {"environment": environment} if environment else {}
    return {
        "workspace": {
            "__default__": {
                "subscription_id": "00000000-0000-0000-0000-000000000001",
                "resource_group": "rg-emulator",
                "name": workspace,
            }
        },
        "compute": {"__default__": {"cluster_name": "cpu-cluster"}},
        "execution": execution,
    }


@pytest.mark.e2e
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("environment", "workspace", "message"),
    [
        (None, "ws-emulator", "sets neither 'execution.environment'"),
        ("kedro-env:7", "ws-emulator", "no environment 'kedro-env' version '7'"),
        ("kedro-env@latest", "no-such-workspace", "there is no workspace 'no-such-workspace'"),
    ],
)
def test_azure_settings_that_do_not_exist_fail_before_any_job(
    azureml_emulator, make_project, monkeypatch, environment, workspace, message
) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from tests.operators.task_thread import use_emulator

    use_emulator(azureml_emulator, monkeypatch)
    connection = json.loads(os.environ["AIRFLOW_CONN_AZURE_ML_DEFAULT"])
    for field in ("subscription_id", "resource_group", "workspace_name"):
        connection["extra"].pop(field)  # azureml.yml names the workspace
    monkeypatch.setenv("AIRFLOW_CONN_AZURE_ML_DEFAULT", json.dumps(connection))
    catalog = {"raw": {"type": "json.JSONDataset", "filepath": "in/raw.json"}}
    project = make_project(catalog=catalog, azureml=azure_config(environment, workspace))
    operator = operator_for(project, "sleepy")
    with pytest.raises(AirflowFailException, match=message):
        operator.execute({"ti": TaskInstanceStub(), "dag_run": DagRunStub()})
    assert azureml_emulator.jobs() == []
    assert azureml_emulator.requests(method="PUT", path_regex=r"/codes/") == []
