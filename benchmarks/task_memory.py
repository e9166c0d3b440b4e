"""Memory of the Airflow task process: the operator over a bare task, local backend and Azure ML.

What: ``airflow dags test`` runs a one-task DAG in one process (Airflow 3 runs the
task in the CLI process). The process reports its own peak resident memory
(``getrusage(RUSAGE_SELF).ru_maxrss``: this process only, not its children) when
it exits. Three DAGs, same Airflow, same example project (pandas, scikit-learn):

- ``bare``: a task whose ``execute`` does nothing (the baseline);
- ``local``: ``KedroAzureMLPipelineOperator`` on the local backend (the whole
  example pipeline runs);
- ``azure``: the operator against the package's Azure ML emulator (worker mode:
  it submits, then waits for the job the emulator runs).

The project is compiled in a child process (the fork server on the local backend),
so its modules never enter the task process. The children's own peaks are printed
too, from the ``RUSAGE_CHILDREN`` of the same process (the largest child).

Target: the operator's task process at most 150 MiB over the bare task, both backends.

Command: ``.venv/bin/python benchmarks/task_memory.py [--repeat N]`` (about 3 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._bench import (
    PYTHON,
    copy_example_project,
    machine_note,
    median,
    table,
    verdict,
)

TARGET_MIB = 150
MARKER = "TASK_MEMORY "

DAG = """
import pendulum
from airflow.sdk import DAG, BaseOperator


class Bare(BaseOperator):
    def execute(self, context):
        return None


with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    if "{kind}" == "bare":
        Bare(task_id="task")
    else:
        from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator

        KedroAzureMLPipelineOperator(
            task_id="task", project_path={project!r}, pipeline="__default__", poll_interval=1
        )
"""

# Runs the Airflow CLI in this process and reports the process's own peak and its children's.
WRAPPER = f"""
import atexit, json, resource, sys

def report():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print({MARKER!r} + json.dumps({{"own_kib": own, "children_kib": children}}), file=sys.stderr)

atexit.register(report)
from airflow.__main__ import main
sys.argv = ["airflow", *sys.argv[1:]]
main()
"""


def run_dag(env: dict[str, str], dag_id: str) -> dict[str, float]:
    """``airflow dags test dag_id`` in a fresh process; its peak and its children's, MiB."""
    done = subprocess.run(
        [PYTHON, "-c", WRAPPER, "dags", "test", dag_id, "2026-01-10T06:00:00+00:00"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    if "state=success" not in output or MARKER not in output:
        raise SystemExit(f"airflow dags test {dag_id} failed:\n{output[-4000:]}")
    line = next(line for line in output.splitlines() if line.startswith(MARKER))
    figures = json.loads(line[len(MARKER) :])
    return {
        "own": figures["own_kib"] / 1024,
        "children": figures["children_kib"] / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each DAG")
    parser.add_argument("--quick", action="store_true", help="one run of each")
    arguments = parser.parse_args()
    repeat = 1 if arguments.quick else arguments.repeat

    from airflow_kedro_azureml.testing import AzureMLEmulator
    from tests.airflow_cli import airflow_env, migrate
    from tests.operators.task_thread import CLIENT_ID, SECRET, TENANT

    print(machine_note())
    work = Path(tempfile.mkdtemp(prefix="bench-task-memory-"))
    project = copy_example_project(work / "demand_forecasting")
    dags = work / "dags"
    dags.mkdir()
    for kind in ("bare", "local", "azure"):
        text = DAG.format(dag_id=f"memory_{kind}", kind=kind, project=str(project))
        (dags / f"memory_{kind}.py").write_text(text)
    home = work / "airflow-home"
    migrate(home)
    samples: dict[str, list[dict[str, float]]] = {"bare": [], "local": [], "azure": []}
    emulator = AzureMLEmulator(computes=["cpu-cluster"])
    with emulator, emulator.patched_environment():
        from azure.ai.ml.entities import Data, Environment

        client = emulator.ml_client()
        client.environments.create_or_update(
            Environment(name="demand-forecasting-env", version="1", image="python:3.11-slim")
        )
        raw = project / "data" / "01_raw" / "sell_in_history" / "1"
        client.data.create_or_update(
            Data(name="sell_in_history", version="1", type="uri_folder", path=str(raw))
        )
        connection = emulator.airflow_connection(TENANT, CLIENT_ID, SECRET)
        connection.pop("conn_type")
        local_env = airflow_env(home, dags, {"backend": "local"})
        azure_env = airflow_env(home, dags, None, connection=connection)
        for _ in range(repeat):
            samples["bare"].append(run_dag(local_env, "memory_bare"))
            samples["local"].append(run_dag(local_env, "memory_local"))
            samples["azure"].append(run_dag(azure_env, "memory_azure"))
            print(".", end="", flush=True)
    print()
    bare = median(sample["own"] for sample in samples["bare"])
    rows, ok = [], True
    for kind, runs in samples.items():
        own = median(sample["own"] for sample in runs)
        children = median(sample["children"] for sample in runs)
        over = own - bare
        if kind != "bare":
            ok = ok and over <= TARGET_MIB
        rows.append(
            (kind, f"{own:.0f}", "" if kind == "bare" else f"{over:+.0f}", f"{children:.0f}")
        )
    print(
        table(
            [
                "task",
                "task process peak MiB",
                "over bare MiB",
                "largest child peak MiB",
            ],
            rows,
        )
    )
    over = {kind: median(s["own"] for s in samples[kind]) - bare for kind in ("local", "azure")}
    print(
        verdict(
            f"the operator's task process at most {TARGET_MIB} MiB over a bare task",
            ok,
            f"local backend {over['local']:+.0f} MiB, Azure ML {over['azure']:+.0f} MiB "
            f"(median of {repeat})",
        )
    )
    print(json.dumps({"samples": samples, "pid": os.getpid()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
