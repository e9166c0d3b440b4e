"""A retry resumes at the failed step: Azure ML reuses the steps that completed (emulator).

A 6-step chain whose 4th step fails on its first run: the task's retry submits a new
job in which steps 1-3 are reused (they do not run again) and steps 4-6 run; the
result equals a clean run's. ``force_rerun=True`` runs every step; a node tagged
``azureml.nondeterministic`` always runs, and so does everything downstream of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.catalogs import pipeline_dataset
from tests.operators.task_thread import DagRunStub, TaskInstanceStub, operator_for, use_emulator

CHAIN_NODES = """
from pathlib import Path


def _note(log, name):
    with open(log, "a") as file:
        file.write(name + "\\n")


def first(raw, log):
    _note(log, "s1")
    return [value + 1 for value in raw]


def add_one(values, log, name):
    _note(log, name)
    return [value + 1 for value in values]


def flaky_add_one(values, log, marker):
    _note(log, "s4")
    if not Path(marker).exists():
        Path(marker).write_text("failed once")
        raise RuntimeError("s4 fails on its first run")
    return [value + 1 for value in values]


def last(values, log):
    _note(log, "s6")
    return {"values": values, "total": sum(values)}
"""

CHAIN_REGISTRY = """
from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node
from {package} import nodes


def _step(name):
    func = partial(nodes.add_one, name=name)
    update_wrapper(func, nodes.add_one)
    return func


def register_pipelines():
    chain = Pipeline(
        [
            node(nodes.first, ["raw", "params:log"], "v1", name="s1"),
            node(_step("s2"), ["v1", "params:log"], "v2", name="s2"),
            node(_step("s3"), ["v2", "params:log"], "v3", name="s3",
                 tags={tag3}),
            node(nodes.flaky_add_one, ["v3", "params:log", "params:marker"], "v4", name="s4"),
            node(_step("s5"), ["v4", "params:log"], "v5", name="s5"),
            node(nodes.last, ["v5", "params:log"], "result", name="s6"),
        ]
    )
    return {{"__default__": chain, "chain": chain}}
"""


def chain_project(make_project: Any, tmp_path: Path, tag3: list[str] | None = None) -> Path:
    marker = tmp_path / "s4-failed-once"
    log = tmp_path / "steps-run.log"
    return make_project(
        nodes=CHAIN_NODES,
        registry=CHAIN_REGISTRY.replace("{tag3}", repr(tag3 or [])),
        catalog={
            "raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"},
            "result": pipeline_dataset("result.json"),
        },
        parameters={"log": str(log), "marker": str(marker)},
    )


def steps_run(tmp_path: Path) -> list[str]:
    log = tmp_path / "steps-run.log"
    return log.read_text().split() if log.exists() else []


class TaskStateStore(dict):
    """Airflow's task state store, in memory: kept across the tries of one task run."""

    def set(self, key: str, value: Any, **kwargs: Any) -> None:
        self[key] = value


def run_try(
    project: Path,
    try_number: int,
    dag_run: str = "manual__1",
    store: TaskStateStore | None = None,
    max_tries: int = 1,
    **kwargs: Any,
) -> tuple[str, str | None]:
    """One task try, as Airflow's task runner calls it; (job name, error) of the try.

    ``max_tries`` is the try series: Airflow raises it when a user clears the task.
    """
    operator = operator_for(project, "chain", poll_interval=0.2, **kwargs)
    ti = TaskInstanceStub(run_id=dag_run, try_number=try_number)
    ti.max_tries = max_tries  # type: ignore[attr-defined]
    context = {"ti": ti, "dag_run": DagRunStub(run_id=dag_run), "task_state_store": store}
    try:
        operator.execute(context)  # type: ignore[arg-type]
    except Exception as error:
        return str(ti.xcoms["azureml_job_name"]), str(error)
    return str(ti.xcoms["azureml_job_name"]), None


def run_id_of(emulator: Any, job: str) -> str:
    """The Kedro run id a job ran under (its ``run_id`` pipeline input)."""
    return str(emulator.job(job)["properties"]["inputs"]["run_id"]["value"])


def result_of(emulator: Any, job: str) -> Any:
    folder = emulator.job_run_dir(job) / "s6" / "outputs"
    (file,) = [path for path in folder.rglob("result.json") if path.is_file()]
    return json.loads(file.read_text())


def reused_steps(emulator: Any, job: str) -> dict[str, str]:
    """Step -> the run it reused, from the child runs Azure ML lists."""
    hook = emulator.hook()
    children = hook.client.jobs._runs_operations.get_run_children(job)
    found = {}
    for child in children:
        properties = child.properties or {}
        if properties.get("azureml.isreused") == "true":
            found[properties["azureml.nodeid"]] = properties["azureml.reusedrunid"]
    return found


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_a_retry_reuses_the_completed_steps_and_runs_the_failed_one_and_downstream(
    azureml_emulator, make_project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    project = chain_project(make_project, tmp_path)
    store = TaskStateStore()

    first, error = run_try(project, 1, store=store)
    assert error is not None and "s4 fails on its first run" in error
    assert azureml_emulator.job_status(first) == "Failed"
    assert steps_run(tmp_path) == ["s1", "s2", "s3", "s4"]

    second, error = run_try(project, 2, store=store)
    assert error is None
    assert second == f"{first}_2"
    assert azureml_emulator.job_status(second) == "Completed"
    # Steps 1-3 did not run again; 4-6 ran.
    assert steps_run(tmp_path) == ["s1", "s2", "s3", "s4", "s4", "s5", "s6"]
    assert reused_steps(azureml_emulator, second) == {
        "s1": f"{first}_s1",
        "s2": f"{first}_s2",
        "s3": f"{first}_s3",
    }
    assert azureml_emulator.step_statuses(second) == dict.fromkeys(
        ["s1", "s2", "s3", "s4", "s5", "s6"], "Completed"
    )
    resumed = result_of(azureml_emulator, second)
    assert resumed == {"values": [6, 7, 8], "total": 21}

    # Clearing the task after its job completed asks for a run: every step runs again.
    (tmp_path / "steps-run.log").unlink()
    third, error = run_try(project, 3, store=store, max_tries=3)
    assert error is None
    assert third == f"{first}_3"
    assert azureml_emulator.job(third)["properties"]["settings"]["force_rerun"] is True
    assert reused_steps(azureml_emulator, third) == {}
    assert steps_run(tmp_path) == ["s1", "s2", "s3", "s4", "s5", "s6"]

    # A clean run of the same pipeline with the same run id, in another DAG run: with
    # force_rerun nothing is reused although every input is the same; same result.
    (tmp_path / "steps-run.log").unlink()
    clean_job, error = run_try(
        project,
        1,
        dag_run="manual__clean",
        force_rerun=True,
        run_id=run_id_of(azureml_emulator, first),
    )
    assert error is None
    assert steps_run(tmp_path) == ["s1", "s2", "s3", "s4", "s5", "s6"]
    assert reused_steps(azureml_emulator, clean_job) == {}
    assert result_of(azureml_emulator, clean_job) == resumed
    body = azureml_emulator.job(clean_job)["properties"]
    assert body["settings"]["force_rerun"] is True


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_force_rerun_and_a_nondeterministic_node_run_again(
    azureml_emulator, make_project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    project = chain_project(make_project, tmp_path, tag3=["azureml.nondeterministic"])

    first, error = run_try(project, 1)
    assert error is not None
    second, error = run_try(project, 2)
    assert error is None
    # s3 is non-deterministic: it runs again, and so does everything after it.
    assert reused_steps(azureml_emulator, second) == {"s1": f"{first}_s1", "s2": f"{first}_s2"}
    assert steps_run(tmp_path) == ["s1", "s2", "s3", "s4", "s3", "s4", "s5", "s6"]
    component = azureml_emulator.job(second)["properties"]["jobs"]["s3"]["componentId"]
    parts = component.rstrip("/").split("/")  # .../components/<name>/versions/<version>
    spec = azureml_emulator.ml_client().components.get(parts[-3], parts[-1])
    assert spec.is_deterministic is False

    # The same run id in another DAG run (another job name): without force_rerun, every
    # step before the non-deterministic one is reused from the job that completed.
    (tmp_path / "steps-run.log").unlink()
    run_id = run_id_of(azureml_emulator, first)
    third, error = run_try(project, 1, dag_run="manual__again", run_id=run_id)
    assert error is None
    assert reused_steps(azureml_emulator, third) == {"s1": f"{first}_s1", "s2": f"{first}_s2"}
    assert steps_run(tmp_path) == ["s3", "s4", "s5", "s6"]
