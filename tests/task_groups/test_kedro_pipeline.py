"""KedroAzureMLTaskGroup: drawn from a manifest, run as one job (emulator and local backend).

A run to success has every step task successful; a failing step fails its task,
its downstream task is upstream_failed and the rest succeed; clearing the failed
task after a fix runs only it and its downstream (the steps note when they really
run); a stale manifest fails the submit task before anything is submitted; killing
the submit task cancels the job.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_kedro_azureml.compiler.manifest import PipelineManifest
from airflow_kedro_azureml.errors import ConfigError
from tests.airflow_cli import AIRFLOW, airflow_env, emulator_env
from tests.dag_run_tool import run_states, run_tool, run_xcom
from tests.operators.task_thread import use_emulator
from tests.task_groups.group_project import (
    LOGICAL_DATE,
    group_project,
    steps_run,
    write_dag,
    write_manifest,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
GROUP = "kedro"
STEP_IDS = {
    "prep": "kedro.prep",
    "model_train": "kedro.model.model_train",
    "model_score": "kedro.model.model_score",
    "report_summary": "kedro.report.report_summary",
}


def load_dag(path: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(path))
    assert not bag.import_errors, bag.import_errors
    (dag,) = bag.dags.values()
    return dag


def edges_of(dag: Any) -> set[tuple[str, str]]:
    return {(up, task.task_id) for task in dag.tasks for up in task.upstream_task_ids}


# -- drawing ----------------------------------------------------------------------------------


def test_the_example_group_has_a_task_per_compiled_step_wired_as_the_steps() -> None:
    from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
    from airflow_kedro_azureml.compiler.kedro_project import open_project
    from airflow_kedro_azureml.compiler.manifest import manifest_steps

    compiled = compile_pipeline(
        open_project(EXAMPLES / "demand_forecasting"),
        CompileOptions(pipeline_name="__default__", run_id="2026-01-10T06.00.00.000Z"),
    )
    dag = load_dag(EXAMPLES / "demand_forecasting_steps.py")
    prefix = "demand_forecasting."
    step_tasks = {t.task_id.removeprefix(prefix) for t in dag.tasks} - {"submit"}
    assert step_tasks == {step.name for step in compiled.steps}
    expected = {
        (prefix + up, prefix + step.name)
        for step in manifest_steps(compiled)
        for up in step.upstream
    }
    assert edges_of(dag) == expected
    # The committed manifest is the project's (a stale one would fail the submit task).
    manifest = PipelineManifest.read(EXAMPLES / "demand_forecasting_manifest.json")
    assert manifest.steps == manifest_steps(compiled)


def test_parsing_the_example_dag_imports_neither_kedro_nor_azure_ai_ml() -> None:
    code = (
        "import runpy, sys\n"
        f"runpy.run_path({str(EXAMPLES / 'demand_forecasting_steps.py')!r})\n"
        "print(sorted(m for m in sys.modules if m.startswith(('kedro', 'azure.ai.ml'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_namespaces_become_nested_groups(make_project, tmp_path: Path) -> None:
    project = group_project(make_project, tmp_path)
    manifest = tmp_path / "dags" / "graph_manifest.json"
    write_manifest(project, manifest)
    dag = load_dag(write_dag(tmp_path / "dags", project, manifest))
    assert {t.task_id for t in dag.tasks} == {*STEP_IDS.values(), "kedro.submit"}
    assert edges_of(dag) == {
        ("kedro.prep", "kedro.model.model_train"),
        ("kedro.model.model_train", "kedro.model.model_score"),
        ("kedro.prep", "kedro.report.report_summary"),
    }
    groups = dag.task_group.get_task_group_dict()
    assert {"kedro", "kedro.model", "kedro.report"} <= set(groups)
    assert dag.get_task("kedro.model.model_train").node_names == ["model.train"]


def test_a_missing_or_edited_manifest_is_an_error_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(ConfigError, match=r"nope\.json does not exist: write it with"):
        PipelineManifest.read(missing)
    missing.write_text('{"format": 1, "pipeline": "p", "steps": [], "fingerprint": "x"}')
    with pytest.raises(ConfigError, match="fingerprint does not match"):
        PipelineManifest.read(missing)


# -- runs on the emulator ---------------------------------------------------------------------


def group_on_emulator(
    home: Path, emulator: Any, make_project: Any, monkeypatch: Any, tmp_path: Path
) -> tuple[Path, Path, dict[str, str]]:
    """The project, a DAG folder drawing it, and an Airflow environment on the emulator."""
    use_emulator(emulator, monkeypatch)
    project = group_project(make_project, tmp_path)
    dags = tmp_path / "dags"
    write_manifest(project, dags / "graph_manifest.json")
    write_dag(dags, project, dags / "graph_manifest.json")
    return project, dags, emulator_env(home, dags, emulator)


def run_dag(env: dict[str, str], dag_id: str = "graph_dag") -> str:
    result = subprocess.run(
        [AIRFLOW, "dags", "test", dag_id, LOGICAL_DATE],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return result.stdout + result.stderr


def clear_and_continue(env: dict[str, str], dags: Path, task_id: str) -> str:
    """What a user does in the UI: clear a task with its downstream tasks; the run goes on."""
    result = subprocess.run(
        [AIRFLOW, "tasks", "clear", "graph_dag", "-t", task_id, "-d", "-y"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return run_tool(env, "continue", str(dags), "graph_dag", LOGICAL_DATE)


def step_states(env: dict[str, str]) -> dict[str, str | None]:
    return run_states(env, "graph_dag", LOGICAL_DATE)


@pytest.mark.e2e
@pytest.mark.timeout(1200)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_a_failed_step_fails_its_task_and_clearing_it_resumes_from_that_step(
    airflow_home: Path, azureml_emulator, make_project, monkeypatch, tmp_path: Path
) -> None:
    _project, dags, env = group_on_emulator(
        airflow_home, azureml_emulator, make_project, monkeypatch, tmp_path
    )

    (tmp_path / "fail").write_text("train fails")
    output = run_dag(env)
    assert "state=failed" in output, output[-6000:]
    assert step_states(env) == {
        "kedro.submit": "success",  # it ran and watched the job to its end
        "kedro.prep": "success",
        "kedro.model.model_train": "failed",
        "kedro.model.model_score": "upstream_failed",
        "kedro.report.report_summary": "success",
    }
    assert "train fails while the marker file exists" in output
    # The submit task deferred; its trigger published the steps' states.
    assert "Deferring: the triggerer watches job" in output
    (first,) = azureml_emulator.jobs()
    assert sorted(steps_run(tmp_path)) == ["prep", "summary", "train"]

    # The fix, then a clear of the failed task with its downstream: only they run again.
    (tmp_path / "fail").unlink()
    (tmp_path / "steps-run.log").unlink()
    output = clear_and_continue(env, dags, "kedro.model.model_train")
    assert "state=success" in output, output[-6000:]
    states = step_states(env)
    assert states == {
        "kedro.submit": "success",
        "kedro.prep": "success",
        "kedro.model.model_train": "success",
        "kedro.model.model_score": "success",
        "kedro.report.report_summary": "success",
    }, output[-6000:]
    assert steps_run(tmp_path) == ["train", "score"]
    second = f"{first}_2"
    assert azureml_emulator.job_status(second) == "Completed"
    assert sorted(azureml_emulator.jobs()) == [first, second]
    assert azureml_emulator.step_statuses(second) == dict.fromkeys(
        ["prep", "model_train", "model_score", "report_summary"], "Completed"
    )


@pytest.mark.e2e
@pytest.mark.timeout(900)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_a_run_to_success_and_a_stale_manifest(
    airflow_home: Path, azureml_emulator, make_project, monkeypatch, tmp_path: Path
) -> None:
    project, _dags, env = group_on_emulator(
        airflow_home, azureml_emulator, make_project, monkeypatch, tmp_path
    )

    output = run_dag(env)
    assert "state=success" in output, output[-6000:]
    assert set(step_states(env).values()) == {"success"}
    assert "Step 'model_train' (nodes: model.train) completed" in output
    (job,) = azureml_emulator.jobs()
    assert azureml_emulator.job_status(job) == "Completed"
    # The step task's extra link opens its step (the step job) in the studio.
    link = run_xcom(env, "graph_dag", LOGICAL_DATE, "kedro.model.model_train", "azureml_job_url")
    assert link.startswith("https://") and f"{job}_model_train" in link
    returned = run_xcom(env, "graph_dag", LOGICAL_DATE, "kedro.model.model_train", "return_value")
    assert returned["status"] == "Completed" and returned["duration_seconds"] > 0

    # A node is renamed; the manifest still draws the old step: the submit task refuses.
    registry = next(project.glob("src/*/pipeline_registry.py"))
    registry.write_text(registry.read_text().replace('name="summary"', 'name="totals"'))
    output = run_dag(env)
    assert "state=failed" in output, output[-8000:]
    changes = "(new steps: report_totals; gone: report_summary)"
    assert f"no longer matches the project's pipeline {changes}" in output
    assert "kedro azureml compile --pipeline graph --manifest" in output
    assert "nothing was submitted" in output
    assert azureml_emulator.jobs() == [job]


# -- the local backend -------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_the_local_backend_runs_the_group_and_a_clear_resumes(
    airflow_home: Path, make_project, tmp_path: Path
) -> None:
    project = group_project(make_project, tmp_path)
    dags = tmp_path / "dags"
    write_manifest(project, dags / "graph_manifest.json")
    write_dag(dags, project, dags / "graph_manifest.json")
    env = airflow_env(airflow_home, dags, {"backend": "local"})

    (tmp_path / "fail").write_text("train fails")
    output = run_dag(env)
    assert "state=failed" in output, output[-6000:]
    states = step_states(env)
    assert states["kedro.model.model_train"] == "failed"
    assert states["kedro.model.model_score"] == "upstream_failed"
    assert states["kedro.report.report_summary"] == "success"

    (tmp_path / "fail").unlink()
    (tmp_path / "steps-run.log").unlink()
    output = clear_and_continue(env, dags, "kedro.model.model_train")
    assert "state=success" in output, output[-6000:]
    assert set(step_states(env).values()) == {"success"}
    assert steps_run(tmp_path) == ["train", "score"]


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_a_local_resume_that_cannot_start_leaves_no_claimed_run(
    airflow_home: Path, make_project, tmp_path: Path
) -> None:
    project = group_project(make_project, tmp_path)
    dags = tmp_path / "dags"
    write_manifest(project, dags / "graph_manifest.json")
    write_dag(dags, project, dags / "graph_manifest.json")
    env = airflow_env(airflow_home, dags, {"backend": "local"})
    (tmp_path / "fail").write_text("train fails")
    assert "state=failed" in run_dag(env)
    runs = project / ".azureml-local" / "runs"
    (first,) = [folder.name for folder in runs.iterdir()]

    # The pipeline changed since the manifest: the resume refuses before it runs anything.
    registry = next(project.glob("src/*/pipeline_registry.py"))
    registry.write_text(registry.read_text().replace('name="summary"', 'name="totals"'))
    output = clear_and_continue(env, dags, "kedro.model.model_train")
    assert "no longer matches the project's pipeline" in output, output[-6000:]
    assert step_states(env)["kedro.model.model_train"] == "failed"
    assert [folder.name for folder in runs.iterdir()] == [first]  # no claimed `_2` left


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_a_step_task_retry_resumes_from_its_step_locally(
    airflow_home: Path, make_project, tmp_path: Path
) -> None:
    project = group_project(make_project, tmp_path)
    dags = tmp_path / "dags"
    write_manifest(project, dags / "graph_manifest.json")
    write_dag(
        dags, project, dags / "graph_manifest.json", step_kwargs={"retries": 1, "retry_delay": 0}
    )
    env = airflow_env(airflow_home, dags, {"backend": "local"})

    (tmp_path / "fail").write_text("once")  # train fails on its first run only
    output = run_dag(env)
    assert "state=success" in output, output[-6000:]
    assert set(step_states(env).values()) == {"success"}
    # The submit task's job ran prep, summary and the failing train; the retry of
    # train's task ran the next job, which reused prep and summary.
    assert sorted(steps_run(tmp_path)[:3]) == ["prep", "summary", "train"]
    assert steps_run(tmp_path)[3:] == ["train", "score"]
    assert "reusing 2 completed step(s)" in output


# -- kill --------------------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_killing_the_submit_task_cancels_the_job(
    azureml_emulator, make_project, monkeypatch, tmp_path: Path
) -> None:
    from airflow_kedro_azureml.operators.pipeline_submit import KedroAzureMLSubmitOperator
    from tests.operators.task_thread import TaskThread

    use_emulator(azureml_emulator, monkeypatch)
    project = group_project(make_project, tmp_path)
    manifest_path = tmp_path / "graph_manifest.json"
    write_manifest(project, manifest_path)
    manifest = PipelineManifest.read(manifest_path)
    (tmp_path / "fail-slow").write_text("120")
    operator = KedroAzureMLSubmitOperator(
        task_id="submit",
        project_path=str(project),
        pipeline="graph",
        poll_interval=0.2,
        manifest_path=str(manifest_path),
        manifest_fingerprint=manifest.fingerprint,
        manifest_refresh=manifest.refresh_command(manifest_path),
    )
    task = TaskThread(None, operator=operator)
    job_name = task.wait_for_job_status(azureml_emulator, "Running")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the train step runs (and sleeps)
        published = task.ti.xcoms.get("azureml_job_state") or {}
        if (published.get("steps") or {}).get("model_train", {}).get("status") == "Running":
            break
        time.sleep(0.1)
    assert published["steps"]["prep"]["status"] == "Completed"

    operator.on_kill()

    task.result(timeout=120)  # the task ends: Airflow ends a killed task as failed itself
    assert azureml_emulator.wait_for_job(job_name, timeout=60) == "Canceled"
    assert azureml_emulator.requests(method="POST", path_regex=rf"/jobs/{job_name}/cancel")
    final = task.ti.xcoms["azureml_job_state"]
    assert final["status"] == "Canceled"
    assert final["steps"]["model_train"]["status"] in ("Canceled", "CancelRequested")
