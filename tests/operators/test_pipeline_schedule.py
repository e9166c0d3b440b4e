"""The operator's schedule mode against the emulator: create, update, lifecycle, firings."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_kedro_azureml.schedules import CronSchedule, RecurrenceSchedule
from tests.catalogs import pipeline_dataset
from tests.operators.task_thread import (
    DagRunStub,
    TaskInstanceStub,
    operator_for,
    use_emulator,
)

AZURE_CATALOG = {"raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"}}
TRIGGER_TIME = "${{creation_context.trigger_time}}"
MONTHLY = CronSchedule("0 6 10 * *", time_zone="Europe/Paris")


def run_task(project: Path, **kwargs) -> tuple[str, TaskInstanceStub]:
    operator = operator_for(project, "toy", **kwargs)
    ti = TaskInstanceStub()
    result = operator.execute({"ti": ti, "dag_run": DagRunStub()})  # type: ignore[arg-type]
    return result, ti


def logged(capfd) -> str:
    """What the task logged since the last call (Airflow's task log goes to stdout/stderr)."""
    out, err = capfd.readouterr()
    return out + err


def schedule_puts(emulator) -> int:
    return len(emulator.requests(method="PUT", path_regex=r"/schedules/[^/]+$"))


@pytest.mark.e2e
@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"], execute_jobs=False)
def test_create_rerun_change_disable_enable_trigger_delete(
    azureml_emulator, make_project, monkeypatch, capfd
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    project = make_project(catalog=AZURE_CATALOG)
    name, ti = run_task(project, azureml_schedule=MONTHLY)
    assert name == "in_process-run" == ti.xcoms["azureml_schedule_name"]
    body = azureml_emulator.schedule(name)
    trigger = body["properties"]["trigger"]
    assert (trigger["triggerType"], trigger["expression"]) == ("Cron", "0 6 10 * *")
    assert trigger["timeZone"] == "Romance Standard Time"
    assert trigger["startTime"]  # set at creation, so creating it fires nothing at once
    job = body["properties"]["action"]["jobDefinition"]
    assert job["inputs"]["run_id"]["value"] == TRIGGER_TIME
    assert body["properties"]["isEnabled"] is True
    assert azureml_emulator.jobs() == []
    assert f"Schedule {name} created" in logged(capfd)
    assert schedule_puts(azureml_emulator) == 1

    run_task(project, azureml_schedule=MONTHLY)
    assert f"Schedule {name} unchanged" in logged(capfd)
    assert schedule_puts(azureml_emulator) == 1

    run_task(project, azureml_schedule=CronSchedule("0 7 10 * *", time_zone="Europe/Paris"))
    assert f"Schedule {name} updated" in logged(capfd)
    assert schedule_puts(azureml_emulator) == 2
    updated = azureml_emulator.schedule(name)["properties"]
    assert updated["trigger"]["expression"] == "0 7 10 * *"
    assert updated["trigger"]["startTime"] == trigger["startTime"]  # the first start is kept

    run_task(project, schedule_action="disable")
    assert azureml_emulator.schedule(name)["properties"]["isEnabled"] is False
    run_task(project, azureml_schedule=RecurrenceSchedule("day", hours=6, minutes=0))
    assert azureml_emulator.schedule(name)["properties"]["isEnabled"] is False  # kept
    run_task(project, schedule_action="enable")
    assert azureml_emulator.schedule(name)["properties"]["isEnabled"] is True

    job_name, ti = run_task(project, schedule_action="trigger")
    assert ti.xcoms["azureml_job_name"] == job_name
    assert azureml_emulator.jobs() == [job_name]
    fired = azureml_emulator.job(job_name)["properties"]["inputs"]["run_id"]["value"]
    assert fired != TRIGGER_TIME and fired.startswith(str(datetime.now(UTC).year))

    run_task(project, schedule_action="delete")
    assert azureml_emulator.schedule(name) is None
    assert azureml_emulator.jobs() == [job_name]  # the jobs it fired stay
    with pytest.raises(AirflowFailException, match=r"no schedule 'in_process-run' .* to delete"):
        run_task(project, schedule_action="delete")


MONTH_BEFORE_SETTINGS = """
from datetime import datetime


def month_before(moment):
    date = datetime.fromisoformat(moment)
    year, month = (date.year, date.month - 1) if date.month > 1 else (date.year - 1, 12)
    return f"{{year:04d}}-{{month:02d}}"


CONFIG_LOADER_ARGS = {{"custom_resolvers": {{"month_before": month_before}}}}
"""
WINDOWED_PARAMS = {
    "factor": 2,
    # The month before the run: a firing's time on Azure ML, the Airflow run's date otherwise.
    "label": "${month_before:${runtime_params:kedro_azureml.run_time,2026-01-10T06:00:00+00:00}}",
}
VERSIONED_CATALOG = {
    **AZURE_CATALOG,
    "report": pipeline_dataset("report.json", versioned=True),
}
RUN_ID_LINE = re.compile(r"Running step of pipeline 'toy': nodes \[.*?\], run id (\S+)")


def first_firings(expression: str, time_zone: str, count: int) -> list[datetime]:
    from croniter import croniter

    cursor = croniter(expression, datetime.now(ZoneInfo(time_zone)))
    return [cursor.get_next(datetime).astimezone(UTC) for _ in range(count)]


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_each_firing_gets_its_own_run_id_and_window(
    azureml_emulator, make_project, monkeypatch
) -> None:
    from airflow_kedro_azureml.compute.run_time import format_save_version

    use_emulator(azureml_emulator, monkeypatch)
    project = make_project(
        catalog=VERSIONED_CATALOG, parameters=WINDOWED_PARAMS, settings=MONTH_BEFORE_SETTINGS
    )
    run_task(project, azureml_schedule=MONTHLY)
    firings = first_firings("0 6 10 * *", "Europe/Paris", 3)
    jobs = azureml_emulator.advance_schedules(firings[-1])
    assert len(jobs) == 3
    versions = []
    for job, firing in zip(jobs, firings, strict=True):
        assert azureml_emulator.wait_for_job(job, timeout=240) == "Completed", (
            azureml_emulator.job_log(job)
        )
        steps = set(RUN_ID_LINE.findall(azureml_emulator.job_log(job)))
        assert steps == {format_save_version(firing)}, azureml_emulator.job_log(job)[-3000:]
        versions.append(steps.pop())
        reports = azureml_emulator.job_run_dir(job) / "report_node" / "outputs" / "report"
        (report,) = (reports / "report.json").iterdir()
        assert report.name == versions[-1]
        label = json.loads((report / "report.json").read_text())["label"]
        before = (firing.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        assert label == before  # the window ends the month before each firing
    assert versions == sorted(set(versions))  # distinct, and sorting by firing time
    assert azureml_emulator.advance_schedules(firings[-1]) == []  # each time fires once


@pytest.mark.e2e
@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"], execute_jobs=False)
def test_a_schedule_that_has_fired_can_be_updated(
    azureml_emulator, make_project, monkeypatch
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    project = make_project(catalog=AZURE_CATALOG)
    name, _ = run_task(project, azureml_schedule=MONTHLY)
    (fired,) = azureml_emulator.advance_schedules(first_firings("0 6 10 * *", "Europe/Paris", 1)[0])
    changed = CronSchedule("30 5 10 * *", time_zone="Europe/Paris")
    run_task(project, azureml_schedule=changed)
    stored = azureml_emulator.schedule(name)["properties"]
    assert stored["trigger"]["expression"] == "30 5 10 * *"
    assert "sourceJobId" not in stored["action"]["jobDefinition"]
    assert azureml_emulator.jobs() == [fired]


def test_schedule_arguments_are_checked_when_the_dag_is_parsed(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"azureml_schedule must be a CronSchedule"):
        operator_for(tmp_path, "toy", azureml_schedule={"cron": "0 6 10 * *"})
    with pytest.raises(ValueError, match=r"schedule_action 'pause' is not one of"):
        operator_for(tmp_path, "toy", schedule_action="pause")
    with pytest.raises(ValueError, match=r"'create_or_update' needs azureml_schedule"):
        operator_for(tmp_path, "toy", schedule_action="create_or_update")
    with pytest.raises(ValueError, match=r"schedule_name: 'my schedule' is not a valid"):
        operator_for(tmp_path, "toy", azureml_schedule=MONTHLY, schedule_name="my schedule")


@pytest.mark.e2e
@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(execute_jobs=False)
def test_a_schedule_azureml_yml_does_not_have_fails_before_any_request(
    azureml_emulator, make_project, monkeypatch
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    project = make_project(catalog=AZURE_CATALOG)
    azureml_emulator.reset_requests()
    with pytest.raises(AirflowFailException, match=r"has no schedule 'montly' under 'schedules'"):
        run_task(project, azureml_schedule="montly")
    assert azureml_emulator.requests() == []


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_on_the_local_backend_a_schedule_task_compiles_and_creates_nothing(
    make_project, monkeypatch, capfd
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_AZURE_ML_DEFAULT",
        '{"conn_type": "azure_ml", "extra": {"backend": "local"}}',
    )
    azureml = {
        "compute": {"__default__": {"cluster_name": "cpu-cluster"}, "gpu": {"cluster_name": "g"}},
        "execution": {"environment": "kedro-env@latest"},
        "schedules": {"monthly": {"cron": {"expression": "0 6 10 * *"}}},
    }
    project = make_project(azureml=azureml)
    name, _ = run_task(project, azureml_schedule="monthly")
    assert name == "in_process-run"
    output = logged(capfd)
    assert "The local backend has no schedules: nothing was created or changed" in output
    assert "create or update schedule in_process-run (cron '0 6 10 * *' (UTC), 3 step(s))" in output
