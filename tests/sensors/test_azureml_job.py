"""AzureMLJobSensor end to end: poke, reschedule and deferrable modes, on an operator's job
and on a job named by hand, with `airflow dags test` against the emulator."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest

from tests.airflow_cli import airflow_env, dags_test_on_emulator, emulator_env
from tests.dag_run_tool import run_xcom
from tests.hand_jobs import FAIL, NAP, UNTIL_RELEASED, submit_hand_job
from tests.operators.task_thread import use_emulator

SENSOR_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator
from airflow_kedro_azureml.sensors.azureml_job import AzureMLJobSensor

with DAG("sensors_azure", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    hand = AzureMLJobSensor(
        task_id="hand", job_name="{job}", poke_interval=0.5, timeout=300,
        mode="reschedule" if "{mode}" == "reschedule" else "poke",
        deferrable="{mode}" == "deferrable",
    )
    train = KedroAzureMLPipelineOperator(
        task_id="train", project_path="{project}", pipeline="toy", poll_interval=0.5,
    )
    hand >> train >> AzureMLJobSensor(
        task_id="after_train", poke_interval=0.5,
        job_name="{{{{ ti.xcom_pull(task_ids='train', key='azureml_job_name') }}}}",
    )
"""


def run_sensors(
    airflow_home: Path, emulator, tmp_path: Path, project: Path, job: str, mode: str = "poke"
) -> str:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "sensors_azure.py").write_text(SENSOR_DAG.format(project=project, job=job, mode=mode))
    return dags_test_on_emulator(airflow_home, dags, "sensors_azure", emulator)


def release_after_looks(emulator, job: str, looks: int, release: Path) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if len(emulator.requests(method="GET", path_regex=rf"/jobs/{job}$")) >= looks:
            release.write_text("go")
            return
        time.sleep(0.1)


# What `airflow dags test` logs when a task waits in each mode.
WAITED = {
    "poke": "Job hand_job is Running",  # a second poke: the first found it not done
    "reschedule": "Rescheduling task",
    "deferrable": "Pausing task as DEFERRED",
}


@pytest.mark.e2e
@pytest.mark.timeout(900)
@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_the_sensor_waits_for_a_running_job_in_every_mode(
    airflow_home: Path, azureml_emulator, make_project, monkeypatch, tmp_path: Path, mode: str
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    release = tmp_path / "release"
    script = UNTIL_RELEASED.format(release=str(release))
    job = submit_hand_job(azureml_emulator, tmp_path / "hand", "hand_job", script)
    project = make_project(catalog={"raw": {"type": "json.JSONDataset", "filepath": "in/r.json"}})
    # The job ends only after the sensor has looked at it three times: it must have waited.
    releaser = threading.Thread(
        target=release_after_looks, args=(azureml_emulator, job, 3, release), daemon=True
    )
    releaser.start()

    output = run_sensors(airflow_home, azureml_emulator, tmp_path, project, job, mode)

    assert "state=success" in output, output[-6000:]
    assert azureml_emulator.job_status(job) == "Completed"
    assert re.search(r"Job hand_job (is )?Running", output)  # from a poke or the trigger
    assert WAITED[mode] in output
    assert "Job hand_job completed" in output or "Job hand_job is Completed" in output
    # the sensor templated from the operator's XCom watched the operator's job
    (operator_job,) = [name for name in azureml_emulator.jobs() if name != job]
    assert f"Job {operator_job} is Completed" in output
    if mode == "deferrable":  # recorded before deferring: the link of the resumed task
        env = emulator_env(airflow_home, tmp_path / "dags", azureml_emulator)
        url = run_xcom(env, "sensors_azure", "2026-01-01T00:00:00+00:00", "hand", "azureml_job_url")
        assert url.startswith("https://") and "hand_job" in url


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_a_failed_job_fails_the_sensor_naming_the_step(
    airflow_home: Path, azureml_emulator, make_project, monkeypatch, tmp_path: Path
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    job = submit_hand_job(azureml_emulator, tmp_path / "hand", "bad_hand_job", FAIL)
    project = make_project(catalog={"raw": {"type": "json.JSONDataset", "filepath": "in/r.json"}})

    output = run_sensors(airflow_home, azureml_emulator, tmp_path, project, job)

    assert "state=failed" in output, output[-6000:]
    assert "step 'work' failed" in output
    assert "the hand job failed on purpose" in output
    assert azureml_emulator.job_status(job) == "Failed"
    assert not azureml_emulator.requests(method="POST", path_regex=r"/cancel")


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_the_example_watch_dag_waits_for_a_job_named_in_its_conf(
    airflow_home: Path, azureml_emulator, monkeypatch, tmp_path: Path
) -> None:
    import shutil

    use_emulator(azureml_emulator, monkeypatch)
    job = submit_hand_job(azureml_emulator, tmp_path / "hand", "watched_job", NAP.format(seconds=3))
    dags = tmp_path / "dags"
    dags.mkdir()
    example = Path(__file__).resolve().parents[2] / "dags_examples" / "azureml_job_watch.py"
    shutil.copy(example, dags)
    output = dags_test_on_emulator(
        airflow_home, dags, "azureml_job_watch", azureml_emulator, conf={"job_name": job}
    )
    assert "state=success" in output, output[-6000:]
    assert "Job watched_job" in output
    assert azureml_emulator.job_status(job) == "Completed"


LOCAL_SENSOR_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator
from airflow_kedro_azureml.sensors.azureml_job import AzureMLJobSensor

with DAG("local_sensor", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    KedroAzureMLPipelineOperator(
        task_id="train", project_path={project!r}, pipeline="toy", deferrable=True,
    ) >> AzureMLJobSensor(
        task_id="watch", poke_interval=0.5, deferrable=True,
        job_name="{{{{ ti.xcom_pull(task_ids='train', key='azureml_job_name') }}}}",
    )
"""


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_on_the_local_backend_the_sensor_reads_the_local_run(
    airflow_home: Path, make_project, tmp_path: Path
) -> None:
    from tests.airflow_cli import dags_test

    project = make_project()
    runs = tmp_path / "runs"
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "local_sensor.py").write_text(LOCAL_SENSOR_DAG.format(project=str(project)))
    result = dags_test(
        airflow_home,
        dags,
        "local_sensor",
        "2026-01-01T00:00:00+00:00",
        {"backend": "local", "local_runs_dir": str(runs)},
    )
    output = result.stdout + result.stderr
    assert "state=success" in output, output[-5000:]
    (run_dir,) = runs.iterdir()
    assert json.loads((run_dir / "job.json").read_text())["status"] == "Completed"
    assert f"Job {run_dir.name} is Completed" in output  # the sensor's look
    # The sensor recorded the run, whose page on the API server its link opens.
    env = airflow_env(airflow_home, dags, {"backend": "local", "local_runs_dir": str(runs)})
    url = run_xcom(env, "local_sensor", "2026-01-01T00:00:00+00:00", "watch", "azureml_job_url")
    assert url == run_dir.as_uri()


def test_on_the_local_backend_a_failed_run_fails_the_sensor(tmp_path: Path, monkeypatch) -> None:
    from airflow_kedro_azureml.hooks.azureml import AzureMLJobFailedException
    from airflow_kedro_azureml.sensors.azureml_job import AzureMLJobSensor
    from airflow_kedro_azureml.statuses import JobState, StepState

    monkeypatch.setenv(
        "AIRFLOW_CONN_AZURE_ML_DEFAULT",
        json.dumps({"conn_type": "azure_ml", "extra": {"backend": "local"}}),
    )
    sensor = AzureMLJobSensor(task_id="watch", job_name="job_1", local_runs_dir=str(tmp_path))
    assert sensor.poke({}) is False  # no run yet
    (tmp_path / "job_1").mkdir()
    state = JobState("job_1", "Failed", "", (StepState("train", "Failed"),))
    (tmp_path / "job_1" / "job.json").write_text(json.dumps(state.to_dict()))
    with pytest.raises(AzureMLJobFailedException, match="step 'train' failed"):
        sensor.poke({})
