"""A small Kedro project with namespaces and a step that fails once, and a DAG drawing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.catalogs import pipeline_dataset

NODES = """
from pathlib import Path


def _note(log, name):
    with open(log, "a") as file:
        file.write(name + "\\n")


def prep(raw, log):
    _note(log, "prep")
    return [value + 1 for value in raw]


def train(values, log, marker):
    _note(log, "train")
    if Path(marker).exists():
        if Path(marker).read_text() == "once":
            Path(marker).unlink()
        raise RuntimeError("train fails while the marker file exists")
    slow = Path(marker + "-slow")
    if slow.exists():
        import time

        time.sleep(float(slow.read_text() or 120))
    return sum(values)


def score(model, log):
    _note(log, "score")
    return {"score": model * 2}


def summary(values, log):
    _note(log, "summary")
    return {"count": len(values)}
"""

REGISTRY = """
from kedro.pipeline import Pipeline, node
from {package} import nodes


def register_pipelines():
    pipeline = Pipeline(
        [
            node(nodes.prep, ["raw", "params:log"], "prepared", name="prep"),
            node(nodes.train, ["prepared", "params:log", "params:marker"], "model.trained",
                 name="train", namespace="model"),
            node(nodes.score, ["model.trained", "params:log"], "model.score", name="score",
                 namespace="model"),
            node(nodes.summary, ["prepared", "params:log"], "report.summary", name="summary",
                 namespace="report"),
        ]
    )
    return {{"__default__": pipeline, "graph": pipeline}}
"""

DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_kedro_azureml.task_groups import KedroAzureMLTaskGroup

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    KedroAzureMLTaskGroup(
        group_id="kedro",
        manifest="{manifest}",
        project_path="{project}",
        poll_interval=0.5,
        deferrable={deferrable},
        step_kwargs={step_kwargs},
    )
"""

LOGICAL_DATE = "2026-01-01T00:00:00+00:00"


def group_project(make_project: Any, tmp_path: Path) -> Path:
    """The project; ``steps_run``/``marker`` files live in ``tmp_path``."""
    return make_project(
        nodes=NODES,
        registry=REGISTRY,
        catalog={
            "raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"},
            "model.score": pipeline_dataset("score.json"),
            "report.summary": pipeline_dataset("summary.json"),
        },
        parameters={"log": str(tmp_path / "steps-run.log"), "marker": str(tmp_path / "fail")},
    )


def steps_run(tmp_path: Path) -> list[str]:
    """The nodes that really ran, in order (each notes its name)."""
    log = tmp_path / "steps-run.log"
    return log.read_text().split() if log.exists() else []


def write_manifest(project: Path, manifest: Path, *options: str) -> None:
    """``kedro azureml compile --manifest`` in the project's folder."""
    from tests.test_cli import kedro

    result = kedro(
        project, "azureml", "compile", "--pipeline", "graph", *options, "--manifest", str(manifest)
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def write_dag(
    dags: Path,
    project: Path,
    manifest: Path,
    dag_id: str = "graph_dag",
    deferrable: bool = True,
    step_kwargs: dict[str, Any] | None = None,
) -> Path:
    """A DAG file drawing the project's steps from ``manifest``."""
    dags.mkdir(parents=True, exist_ok=True)
    path = dags / f"{dag_id}.py"
    path.write_text(
        DAG.format(
            dag_id=dag_id,
            manifest=manifest,
            project=project,
            deferrable=deferrable,
            step_kwargs=repr(step_kwargs or {}),
        )
    )
    return path
