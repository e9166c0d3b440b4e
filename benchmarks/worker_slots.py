"""Worker time per job: a deferred task holds its worker slot only to submit.

What: the same Kedro job (one step that runs ``SECONDS`` seconds, standing in for a
long training) runs twice through ``airflow dags test`` against the package's
emulator of the Azure ML REST API: once waiting in the worker, once deferred to
the triggerer. From the task log, the worker time is the time between each
"running task" line and the end of that run of the task (its end, or its pause as
DEFERRED); the triggerer's wait is not worker time.

Printed: the worker seconds per job in both modes and the job's own duration.

Command: ``.venv/bin/python benchmarks/worker_slots.py`` (about 2 minutes).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._bench import machine_note, table, verdict

SECONDS = 10 if "--quick" in sys.argv else 45

DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator

with DAG("slots", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    KedroAzureMLPipelineOperator(
        task_id="train", project_path={project!r}, pipeline="nap",
        deferrable={deferrable}, poll_interval=2,
    )
"""
# The state a run of the task leaves it in (its run in the worker is over then).
_END_OF_RUN = re.compile(r"Task instance state updated.*new_state=(success|failed|deferred)")
_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+)Z")


def stamp(line: str) -> datetime | None:
    match = _STAMP.match(line)
    return datetime.fromisoformat(match.group(1)) if match else None


def worker_seconds(output: str) -> float:
    """Seconds between each start of the task and the state that run left it in."""
    total, started = 0.0, None
    for line in output.splitlines():
        moment = stamp(line)
        if moment is None:
            continue
        if "running task <TaskInstance: slots.train" in line:
            started = moment
        elif started is not None and _END_OF_RUN.search(line):
            total += (moment - started).total_seconds()
            started = None
    return total


def main() -> int:
    from airflow_kedro_azureml.testing import AzureMLEmulator
    from tests.airflow_cli import dags_test_on_emulator, migrate
    from tests.conftest import write_project

    print(machine_note())
    work = Path(tempfile.mkdtemp(prefix="bench-slots-"))
    home = work / "airflow-home"
    migrate(home)
    catalog = {"raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"}}
    parameters = {"factor": 2, "label": "toy", "nap_seconds": SECONDS}
    rows, results = [], {}
    emulator = AzureMLEmulator(computes=["cpu-cluster"])
    with emulator, emulator.patched_environment():
        from azure.ai.ml.entities import Environment

        emulator.ml_client().environments.create_or_update(
            Environment(name="kedro-env", version="1", image="python:3.11-slim")
        )
        for mode, deferrable in (("worker", False), ("deferred", True)):
            project = write_project(
                work / mode / "project", f"slots_{mode}", catalog=catalog, parameters=parameters
            )
            dags = work / mode / "dags"
            dags.mkdir()
            (dags / "slots.py").write_text(DAG.format(project=str(project), deferrable=deferrable))
            output = dags_test_on_emulator(home, dags, "slots", emulator)
            if "state=success" not in output:
                print(output[-4000:])
                return 1
            results[mode] = worker_seconds(output)
            rows.append((mode, f"{results[mode]:.1f}", str(SECONDS)))
    print(table(["waiting", "worker seconds per job", "the step's own seconds"], rows))
    print(json.dumps(results))
    # The job's run is worker time in worker mode only: what deferring saves is about it.
    saved = results["worker"] - results["deferred"]
    ok = saved >= 0.8 * SECONDS
    print(
        verdict(
            "deferring takes the job's run out of the worker's time",
            ok,
            f"deferred {results['deferred']:.1f} s, worker mode {results['worker']:.1f} s, "
            f"saved {saved:.1f} s of a {SECONDS} s step",
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
