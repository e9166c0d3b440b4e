"""Resume vs rerun: the retry of a 10-step job that failed at step 8, against the emulator.

A chain of N steps (10 by default), each doing ``--work`` seconds of work, whose step
F (8) fails on its first run, as a transient fault would. The operator's first try
fails; its retry submits a new job. Two ways, each from a fresh workspace:
- resume (the default): Azure ML reuses the completed steps 1..F-1, so the retry runs F..N;
- rerun: the retry runs with ``force_rerun=True``, every step again.

Printed: steps run by the retry (counted by the steps themselves), the retry's wall
time (submission to completion, as the task waits for it) and the ratio rerun / resume.
The emulator runs steps as local processes (the local backend), 2 at a time.

Usage: python benchmarks/resume.py [--steps 10] [--fail-at 8] [--work 0.5] [--repeat 1]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._bench import (  # noqa: E402
    emulated_workspace,
    machine_note,
    median,
    spread,
    table,
)

NODES = """
import time
from pathlib import Path


def step(value, log, work, name):
    with open(log, "a") as file:
        file.write(name + "\\n")
    time.sleep(work)
    return value + 1


def flaky(value, log, work, marker, name):
    with open(log, "a") as file:
        file.write(name + "\\n")
    time.sleep(work)
    if not Path(marker).exists():
        Path(marker).write_text("failed once")
        raise RuntimeError(name + " fails on its first run")
    return value + 1
"""

REGISTRY = """
from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node
from {package} import nodes

STEPS = {steps}
FAIL_AT = {fail_at}


def _named(func, name):
    bound = partial(func, name=name)
    update_wrapper(bound, func)
    return bound


def register_pipelines():
    chain = []
    for index in range(1, STEPS + 1):
        source = "raw" if index == 1 else f"v{{index - 1}}"
        inputs = [source, "params:log", "params:work"]
        func = nodes.step
        if index == FAIL_AT:
            inputs.append("params:marker")
            func = nodes.flaky
        chain.append(node(_named(func, f"s{{index}}"), inputs, f"v{{index}}", name=f"s{{index}}"))
    return {{"__default__": Pipeline(chain), "chain": Pipeline(chain)}}
"""


def chain_project(root: Path, steps: int, fail_at: int, work: float) -> tuple[Path, Path]:
    """The project, and the file each step appends its name to when it runs."""
    from tests.conftest import write_project

    name = f"resume_{uuid.uuid4().hex[:8]}"
    log = root / f"{name}-steps.log"
    project = write_project(
        root / name,
        name,
        nodes=NODES,
        registry=REGISTRY.replace("{steps}", str(steps)).replace("{fail_at}", str(fail_at)),
        catalog={"raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"}},
        parameters={"log": str(log), "work": work, "marker": str(root / f"{name}-marker")},
    )
    (project / "inputs" / "raw.json").write_text("0")
    return project, log


def one_scenario(steps: int, fail_at: int, work: float, force_rerun: bool) -> dict[str, Any]:
    """First try fails at ``fail_at``; the retry's steps run and wall time."""
    from tests.operators.task_thread import DagRunStub, TaskInstanceStub, operator_for

    with tempfile.TemporaryDirectory() as scratch:
        project, log = chain_project(Path(scratch), steps, fail_at, work)
        with emulated_workspace():
            for try_number in (1, 2):
                operator = operator_for(
                    project,
                    "chain",
                    poll_interval=0.2,
                    force_rerun=force_rerun and try_number == 2,
                )
                ti = TaskInstanceStub(try_number=try_number)
                before = len(log.read_text().split()) if log.exists() else 0
                started = time.perf_counter()
                try:
                    operator.execute({"ti": ti, "dag_run": DagRunStub()})  # type: ignore[arg-type]
                    failed = False
                except Exception:
                    failed = True
                seconds = time.perf_counter() - started
                ran = log.read_text().split()[before:]
                if try_number == 1 and not failed:
                    raise SystemExit("the first try did not fail: the benchmark is broken")
            if failed:
                raise SystemExit("the retry failed: the benchmark is broken")
            return {"steps_run": len(ran), "seconds": seconds, "ran": ran}


def main() -> None:
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--fail-at", type=int, default=8)
    parser.add_argument("--work", type=float, default=0.5, help="seconds of work per step")
    parser.add_argument("--repeat", type=int, default=1)
    arguments = parser.parse_args()
    print(machine_note())
    print(
        f"{arguments.steps}-step chain, step {arguments.fail_at} fails on its first run, "
        f"{arguments.work} s of work per step; the retry, {arguments.repeat} time(s) each way\n"
    )
    results: dict[str, list[dict[str, Any]]] = {"resume": [], "rerun": []}
    for _ in range(arguments.repeat):
        for label in ("resume", "rerun"):
            results[label].append(
                one_scenario(arguments.steps, arguments.fail_at, arguments.work, label == "rerun")
            )
    rows = []
    for label, runs in results.items():
        seconds = [run["seconds"] for run in runs]
        rows.append(
            (
                label,
                runs[0]["steps_run"],
                " ".join(runs[0]["ran"]),
                f"{median(seconds):.2f}",
                spread(seconds),
            )
        )
    print(table(("retry", "steps run", "which", "median s", "min..max s"), rows))
    resume = median(run["seconds"] for run in results["resume"])
    rerun = median(run["seconds"] for run in results["rerun"])
    steps_resume = results["resume"][0]["steps_run"]
    steps_rerun = results["rerun"][0]["steps_run"]
    print(
        f"\nrerun / resume: {steps_rerun / steps_resume:.2f}x the steps, "
        f"{rerun / resume:.2f}x the wall time"
    )


if __name__ == "__main__":
    main()
