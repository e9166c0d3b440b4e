"""Shared helpers of the benchmark scripts: timing, child processes, tables, verdicts and
an emulated Azure ML workspace."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
EXAMPLE_DAG = REPO / "dags_examples" / "demand_forecasting_monthly.py"
EXAMPLE_PROJECT = REPO / "dags_examples" / "demand_forecasting"
KEDRO = str(Path(PYTHON).parent / "kedro")


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: ours, Kedro telemetry off, plus ``extra``."""
    env = os.environ.copy()
    env["KEDRO_DISABLE_TELEMETRY"] = "true"
    env.pop("KEDRO_LOGGING_CONFIG", None)
    env.update(extra)
    return env


@dataclass(frozen=True)
class ChildRun:
    """One finished child process: its wall time and what it printed."""

    seconds: float
    returncode: int
    stdout: str
    stderr: str


def run_child(
    args: Sequence[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> ChildRun:
    """Run ``args`` to the end and time the whole process (start to exit) with perf_counter."""
    start = time.perf_counter()
    done = subprocess.run(
        list(args),
        cwd=cwd,
        env=env if env is not None else child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.perf_counter() - start
    return ChildRun(seconds, done.returncode, done.stdout, done.stderr)


def check_ok(run: ChildRun, what: str) -> ChildRun:
    """Stop the benchmark with the child's output if it failed (a broken setup, not a miss)."""
    if run.returncode != 0:
        sys.stderr.write(run.stdout[-4000:] + "\n" + run.stderr[-4000:] + "\n")
        raise SystemExit(f"{what} failed with exit code {run.returncode}")
    return run


def median(values: Iterable[float]) -> float:
    """The median of ``values``."""
    return statistics.median(list(values))


def spread(values: Sequence[float]) -> str:
    """``min..max`` of ``values``, for the tables."""
    return f"{min(values):.3f}..{max(values):.3f}"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain text table with right-aligned columns (the first left-aligned)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        parts = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append("  ".join(parts).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdict(name: str, ok: bool, detail: str) -> str:
    """One target line: ``PASS`` or ``MISS``, the target and the figure."""
    return f"{'PASS' if ok else 'MISS'}  {name}: {detail}"


def machine_note() -> str:
    """Python, core count and load, printed above every result."""
    try:
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        load = "n/a"
    return (
        f"python {sys.version.split()[0]} ({PYTHON}), {os.cpu_count()} cores, load average {load}"
    )


def copy_example_project(target: Path) -> Path:
    """Copy the example Kedro project to ``target``, without run outputs or local state."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in {".azureml-local", "__pycache__", "sessions", "logs"}}
        skipped |= {n for n in names if n in {"info.log", ".telemetry"}}
        if Path(folder).name == "data":
            skipped |= {n for n in names if n[:3] in {f"0{i}_" for i in range(2, 9)}}
        return skipped

    shutil.copytree(EXAMPLE_PROJECT, target, ignore=ignore)
    for index, name in enumerate(
        [
            "intermediate",
            "primary",
            "feature",
            "model_input",
            "models",
            "model_output",
            "reporting",
        ],
        start=2,
    ):
        (target / "data" / f"0{index}_{name}").mkdir(parents=True, exist_ok=True)
    return target


@contextmanager
def emulated_workspace(environment: str = "kedro-env") -> Iterator[Any]:
    """The emulator of an Azure ML workspace with environment ``<environment>:1``
    registered, and this process's ``azure_ml_default`` connection pointing at it."""
    from azure.ai.ml.entities import Environment

    from airflow_kedro_azureml.testing import AzureMLEmulator
    from tests.operators.task_thread import CLIENT_ID, SECRET, TENANT

    with (
        AzureMLEmulator(computes=("cpu-cluster", "gpu-cluster")) as emulator,
        emulator.patched_environment(),
    ):
        connection = emulator.airflow_connection(TENANT, CLIENT_ID, SECRET)
        os.environ["AIRFLOW_CONN_AZURE_ML_DEFAULT"] = json.dumps(connection)
        emulator.ml_client().environments.create_or_update(
            Environment(name=environment, version="1", image="python:3.11-slim")
        )
        yield emulator
