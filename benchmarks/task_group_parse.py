"""Task group parse cost: a DAG drawing a 200-step pipeline from its manifest vs an empty DAG.

What: three DAG files in a temp dir, each parsed in a fresh interpreter per sample the
way Airflow's DAG processor does it: ``airflow.sdk`` is imported first (the processor
has Airflow loaded and pre-imports the ``airflow.*`` modules a file names), then
``DagBag(dag_folder=FILE)`` fills the bag from the one file, and each DAG found is
serialized with ``DagSerialization.to_dict`` (what the processor sends back). Only the
bag fill and the serialization are timed (``perf_counter`` inside the child); the
interpreter start and Airflow's own imports are not.

- ``empty``: a task-less ``with DAG(...)`` importing only ``airflow.sdk``;
- ``group 10`` and ``group 200``: one ``KedroAzureMLTaskGroup`` drawn from a manifest of
  10 or 200 steps (written with ``PipelineManifest(...).write``): four namespaced
  chains with cross links, a fan-in step and a short tail, as a compiled Kedro pipeline
  with ``node_grouping: none`` and namespaces would give;
- ``package import only``: no DAG file, ``import airflow_kedro_azureml.task_groups`` timed
  instead of the bag fill: the part of the groups' cost that does not grow with the steps.

Samples are interleaved in rotating order; medians are compared with the empty DAG's
as a difference and a ratio. Each child lists the ``kedro*`` and ``azure.ai.ml*``
modules loaded after the parse: that list must be empty (the script exits 1 if not).

Usage: ``.venv/bin/python benchmarks/task_group_parse.py [--quick] [--repeat N]``
(full run: about 2 minutes; ``--quick``: 2 samples per file)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_kedro_azureml.compiler.manifest import ManifestStep, PipelineManifest
from benchmarks._bench import PYTHON, check_ok, child_env, machine_note, run_child, table

MARKER = "TASK_GROUP_PARSE_RESULT "
IMPORT_ONLY = "package import only"
SIZES = (10, 200)
BRANCHES = 4
TAIL = ("train_model", "evaluate_model", "publish_report")

EMPTY_DAG = '''"""An empty DAG: no tasks, only airflow.sdk."""

from airflow.sdk import DAG

with DAG(dag_id="empty_for_benchmark", schedule=None) as dag:
    pass
'''

GROUP_DAG = '''"""One KedroAzureMLTaskGroup drawn from a manifest of {steps} steps."""

from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_kedro_azureml.task_groups import KedroAzureMLTaskGroup

HERE = Path(__file__).parent

with DAG(
    dag_id="task_group_{steps}",
    schedule="0 6 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    KedroAzureMLTaskGroup(
        group_id="pipeline",
        manifest=HERE / "manifest_{steps}.json",
        project_path=HERE / "project",
        poll_interval=30,
    )
'''

# The child: Airflow loaded first, then only the bag fill and the serialization are timed.
CHILD = r"""
import json, sys, time
import airflow.sdk  # noqa: F401  (the DAG processor has Airflow loaded)
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization

path = sys.argv[1]
before = set(sys.modules)
start = time.perf_counter()
if path == "--import-only":  # what importing the package costs, without any DAG
    import airflow_kedro_azureml.task_groups  # noqa: F401
    bag = DagBag(dag_folder=None, collect_dags=False)
else:
    bag = DagBag(dag_folder=path)
filled = time.perf_counter()
serialized = [DagSerialization.to_dict(dag) for dag in bag.dags.values()]
done = time.perf_counter()
new = set(sys.modules) - before
leaked = sorted(
    name for name in sys.modules
    if name == "kedro" or name.startswith(("kedro.", "kedro_"))
    or name == "azure.ai.ml" or name.startswith("azure.ai.ml.")
)
print("TASK_GROUP_PARSE_RESULT " + json.dumps({
    "fill": filled - start,
    "serialize": done - filled,
    "dags": len(bag.dags),
    "tasks": sum(len(dag.tasks) for dag in bag.dags.values()),
    "import_errors": {str(k): str(v)[-300:] for k, v in bag.import_errors.items()},
    "serialized_bytes": len(json.dumps(serialized, default=str)),
    "new_modules": len(new),
    "new_top_level": sorted({name.split(".")[0] for name in new}),
    "leaked": leaked,
}))
"""


def pipeline_steps(count: int) -> tuple[ManifestStep, ...]:
    """``count`` steps: a source, four namespaced chains, a fan-in, a short tail.

    Every fifth step of a chain also reads the step at the same depth of the chain
    before it (a second fan-in edge), so the graph is not only parallel chains.
    """
    if count < 2 + BRANCHES + len(TAIL):
        raise ValueError(f"at least {2 + BRANCHES + len(TAIL)} steps")
    steps = [ManifestStep("load_sell_in", ("load_sell_in",), ())]
    chain_total = count - 2 - len(TAIL)
    lengths = [
        chain_total // BRANCHES + (1 if b < chain_total % BRANCHES else 0) for b in range(BRANCHES)
    ]
    chains: list[list[str]] = []
    for branch, length in enumerate(lengths):
        namespace = f"region_{branch}"
        names: list[str] = []
        for depth in range(length):
            name = f"{namespace}_feature_{depth:03d}"
            upstream = [names[-1] if names else "load_sell_in"]
            if depth % 5 == 4 and branch > 0 and depth < len(chains[branch - 1]):
                upstream.append(chains[branch - 1][depth])
            steps.append(
                ManifestStep(
                    name,
                    (f"{namespace}.feature_{depth:03d}",),
                    tuple(sorted(upstream)),
                    namespace,
                )
            )
            names.append(name)
        chains.append(names)
    steps.append(
        ManifestStep("combine_regions", ("combine_regions",), tuple(c[-1] for c in chains))
    )
    previous = "combine_regions"
    for name in TAIL:
        steps.append(ManifestStep(f"model_{name}", (f"model.{name}",), (previous,), "model"))
        previous = f"model_{name}"
    assert len(steps) == count
    return tuple(steps)


def write_files(folder: Path) -> dict[str, Path | None]:
    """The DAG files (and the manifests they read): ``empty`` and ``group N``; None stands
    for no file: importing ``airflow_kedro_azureml.task_groups`` alone."""
    files: dict[str, Path | None] = {}
    empty = folder / "empty" / "empty_dag.py"
    empty.parent.mkdir()
    empty.write_text(EMPTY_DAG, encoding="utf-8")
    files["empty"] = empty
    for size in SIZES:
        sub = folder / f"group_{size}"
        sub.mkdir()
        PipelineManifest(
            pipeline="__default__",
            env=None,
            node_grouping="none",
            selection={},
            steps=pipeline_steps(size),
            package_name="sell_in_forecast",
        ).write(sub / f"manifest_{size}.json")
        (sub / "project").mkdir()  # the group keeps the path; nothing is read there
        dag_file = sub / f"task_group_{size}.py"
        dag_file.write_text(GROUP_DAG.format(steps=size), encoding="utf-8")
        files[f"group {size}"] = dag_file
    files[IMPORT_ONLY] = None
    return files


def sample(dag_file: Path | None, env: dict[str, str]) -> dict[str, Any]:
    """One fresh interpreter parsing ``dag_file`` (None: importing the package): its report."""
    argument = "--import-only" if dag_file is None else str(dag_file)
    run = check_ok(run_child([PYTHON, "-c", CHILD, argument], env=env), f"parse {argument}")
    line = next(x for x in run.stdout.splitlines() if x.startswith(MARKER))
    report: dict[str, Any] = json.loads(line[len(MARKER) :])
    if report["import_errors"]:
        raise SystemExit(f"{dag_file} did not parse: {report['import_errors']}")
    return report


def quartiles(values: list[float]) -> tuple[float, float]:
    """First and third quartiles of ``values``."""
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 samples per file")
    parser.add_argument("--repeat", type=int, default=None, help="samples per file")
    options = parser.parse_args()
    repeat = options.repeat or (2 if options.quick else 9)

    print("Task group parse cost: DagBag fill (+ serialization) in a fresh interpreter")
    print(machine_note())
    print(f"{repeat} samples per DAG file, interleaved in rotating order; medians\n")

    fills: dict[str, list[float]] = {}
    totals: dict[str, list[float]] = {}
    reports: dict[str, dict[str, Any]] = {}
    leaked: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="task_group_parse_") as scratch:
        folder = Path(scratch)
        files = write_files(folder)
        extra = {"AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        if "AIRFLOW_HOME" not in os.environ:  # scripts/env.sh not sourced: a throw-away home
            (folder / "airflow-home").mkdir()
            extra["AIRFLOW_HOME"] = str(folder / "airflow-home")
        env = child_env(**extra)
        names = list(files)
        for name in names:  # untimed: warms the file cache and writes the bytecode caches
            sample(files[name], env)
        for round_index in range(repeat):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                report = sample(files[name], env)
                fills.setdefault(name, []).append(report["fill"] * 1000)
                totals.setdefault(name, []).append((report["fill"] + report["serialize"]) * 1000)
                reports[name] = report
                leaked.update(report["leaked"])

    empty_fill = statistics.median(fills["empty"])
    empty_total = statistics.median(totals["empty"])
    rows = []
    for name in names:
        fill, total = statistics.median(fills[name]), statistics.median(totals[name])
        q1, q3 = quartiles(fills[name])
        report = reports[name]
        rows.append(
            [
                name,
                "-" if name == IMPORT_ONLY else f"{report['dags']}/{report['tasks']}",
                f"{fill:.1f}",
                f"{q1:.1f} .. {q3:.1f}",
                f"{fill - empty_fill:+.1f}",
                f"{fill / empty_fill:.2f}",
                f"{total:.1f}",
                f"{total - empty_total:+.1f}",
                f"{total / empty_total:.2f}",
                report["new_modules"],
            ]
        )
    print(
        table(
            [
                "DAG file",
                "dags/tasks",
                "fill ms",
                "fill quartiles ms",
                "fill - empty ms",
                "fill ratio",
                "fill+serialize ms",
                "- empty ms",
                "ratio",
                "new modules",
            ],
            rows,
        )
    )
    small, large = (statistics.median(fills[f"group {size}"]) for size in SIZES)
    small_total, large_total = (statistics.median(totals[f"group {size}"]) for size in SIZES)
    per_step = (large - small) / (SIZES[1] - SIZES[0])
    per_step_total = (large_total - small_total) / (SIZES[1] - SIZES[0])
    print(
        f"\nPer extra step ({SIZES[0]} -> {SIZES[1]} steps): {per_step:.2f} ms to fill the bag, "
        f"{per_step_total:.2f} ms with the serialization"
    )
    print(
        f"Serialized DAG: {reports[f'group {SIZES[1]}']['serialized_bytes'] / 1024:.0f} KiB at "
        f"{SIZES[1]} steps, {reports['empty']['serialized_bytes'] / 1024:.1f} KiB empty"
    )
    largest = reports[f"group {SIZES[1]}"]
    print(
        f"Modules imported by the parse of group {SIZES[1]}: {largest['new_modules']} (empty: "
        f"{reports['empty']['new_modules']}), from: {', '.join(largest['new_top_level'])}"
    )
    print(
        "kedro* / azure.ai.ml* modules loaded after the parse (every sample): "
        + (", ".join(sorted(leaked)) if leaked else "none")
    )
    return 1 if leaked else 0


if __name__ == "__main__":
    sys.exit(main())
