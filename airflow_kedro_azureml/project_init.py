"""``kedro azureml init``: write a commented ``azureml.yml`` and an Airflow DAG for a Kedro project.

Both files are ready for ``airflow dags test`` on the local backend; the workspace,
compute and environment answers only matter once the DAG runs on Azure ML. Existing
files are never overwritten unless asked (``force``). Pure text and file writing: no
kedro, Airflow or azure.ai.ml import.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from airflow_kedro_azureml.errors import ConfigError

PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
# The connection that runs a DAG's pipelines on the local backend, as a shell word.
LOCAL_CONNECTION = '\'{"conn_type": "azure_ml", "extra": {"backend": "local"}}\''


@dataclass(frozen=True)
class InitAnswers:
    """What ``init`` asks for: where the jobs go and what the DAG is called."""

    subscription_id: str = PLACEHOLDER_SUBSCRIPTION
    resource_group: str = "my-resource-group"
    workspace_name: str = "my-workspace"
    cluster_name: str = "cpu-cluster"
    environment: str | None = None
    """An Azure ML environment (``name@latest`` or ``name:version``); None: built from
    the project's requirements."""
    pipeline: str = "__default__"
    dag_id: str = ""
    conn_id: str = "azure_ml_default"


def azureml_yml(answers: InitAnswers) -> str:
    """The commented ``conf/base/azureml.yml``."""
    if answers.environment:
        environment = f'  environment: "{answers.environment}"'
    else:
        environment = (
            '  # environment: "my-env@latest"   # unset: an environment is built from the '
            "project's\n  #                                  requirements.txt on first use"
        )
    return f"""\
# airflow-kedro-azureml: how this project's pipelines run as Azure ML pipeline jobs.
# Every field: the azureml.yml reference of the package docs. Values can use Kedro's
# ${{globals:...}} and ${{runtime_params:...}}; env folders (conf/<env>) override them.

# The workspace jobs go to. The Airflow connection's extras win over these.
workspace:
  __default__:
    subscription_id: "{answers.subscription_id}"
    resource_group: "{answers.resource_group}"
    name: "{answers.workspace_name}"

# Where steps run. Nodes tagged "compute.<name>" run on entry <name>; the rest here.
compute:
  __default__:
    cluster_name: "{answers.cluster_name}"
  # gpu:                                 # tag a node "compute.gpu" to run it here
  #   serverless: true
  #   instance_type: Standard_NC6s_v3
  #   queue_settings: {{job_tier: spot}}
  #   limits: {{timeout: 7200}}          # seconds

execution:
{environment}
  # node_grouping: memory               # none (a step per node), namespace or memory
  # continue_on_step_failure: false
  # mlflow: true                        # steps log to MLflow where mlflow is installed
  local:                                # the local backend (airflow dags test, run-local)
    max_parallel: 2
    keep_runs: 10                       # newest run folders kept in .azureml-local/runs
"""


def dag_file(answers: InitAnswers, project_path: Path, dags_folder: Path) -> str:
    """The DAG file: one task that runs the pipeline as one Azure ML pipeline job."""
    relative = Path(os.path.relpath(project_path.resolve(), dags_folder.resolve())).as_posix()
    connection = f"AIRFLOW_CONN_{answers.conn_id.upper()}={LOCAL_CONNECTION}"
    return f'''\
"""Run the Kedro project {project_path.name} as one Azure ML pipeline job.

Try it offline on the local backend:

    export {connection}
    airflow dags test {answers.dag_id}
"""

from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator

PROJECT = (Path(__file__).resolve().parent / "{relative}").resolve()

with DAG(
    dag_id="{answers.dag_id}",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["kedro", "azureml"],
):
    KedroAzureMLPipelineOperator(
        task_id="run_pipeline",
        project_path=str(PROJECT),
        pipeline="{answers.pipeline}",
        azureml_conn_id="{answers.conn_id}",
    )
'''


def default_dag_id(package_name: str) -> str:
    """A DAG id from the project's package name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", package_name) or "kedro_project"


def write_init_files(
    project_path: Path, answers: InitAnswers, dags_folder: Path, force: bool = False
) -> list[Path]:
    """Write ``conf/base/azureml.yml`` and ``<dags_folder>/<dag_id>.py``; return their paths.

    Raises ``ConfigError`` naming every file that exists (and writes none) unless ``force``.
    """
    config = project_path / "conf" / "base" / "azureml.yml"
    dag = dags_folder / f"{answers.dag_id}.py"
    existing = [path for path in (config, dag) if path.exists()]
    if existing and not force:
        names = ", ".join(str(path) for path in existing)
        raise ConfigError(
            f"{names} already exist(s); nothing was written. Use --force to overwrite"
        )
    if not config.parent.is_dir():
        raise ConfigError(
            f"{config.parent} does not exist: run this in a Kedro project (its root holds "
            "pyproject.toml and conf/base)"
        )
    dags_folder.mkdir(parents=True, exist_ok=True)
    config.write_text(azureml_yml(answers), encoding="utf-8")
    dag.write_text(dag_file(answers, project_path, dags_folder), encoding="utf-8")
    return [config, dag]
