"""Step overhead: the step command (``execute``) of one trivial node vs a bare KedroSession.run.

A tiny Kedro project is written to a temp dir (one node, ``add_one``: ``params:start`` ->
``result``). Each sample is a whole child process, timed from start to exit:

- ``baseline``: ``python -c`` that runs ``bootstrap_project``, ``KedroSession.create`` and
  ``session.run(pipeline_names=[...], node_names=["add_one"])``, with Kedro's default
  logging (rich, when installed);
- ``baseline, plain logging``: the same with ``KEDRO_LOGGING_CONFIG`` set to Kedro's plain
  ``default_logging.yml``, which is what the step command chooses for itself;
- ``step``: the step command the compiler writes,
  ``python -m airflow_kedro_azureml.compute.execute``, with ``--params`` and one
  ``--output result FOLDER`` (so the catalog rewiring runs and the result is pickled
  into the folder).

Samples are interleaved, the order rotating each round; medians are compared. The baseline
runs in the same virtualenv as the step: that equals "without this package", because the
package registers no ``kedro.hooks`` entry point and a bare session never imports it (both
are checked and printed). One extra run of each with ``-X importtime`` shows what the step
process imports (expected: neither ``azure.ai.ml`` nor ``airflow``) and where import time goes.

Target: the step takes at most 1.5x the baseline.

Usage: ``.venv/bin/python benchmarks/step_overhead.py [--quick] [--repeat N]``
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import shutil
import tempfile
import textwrap
from pathlib import Path

from _bench import (
    PYTHON,
    check_ok,
    child_env,
    machine_note,
    median,
    run_child,
    spread,
    table,
    verdict,
)

from airflow_kedro_azureml.compute.arg_codec import encode_json, encode_value
from airflow_kedro_azureml.datasets import FolderPickleDataset

TARGET_RATIO = 1.5
PACKAGE = "step_bench"
PIPELINE = "bench"
NODE = "add_one"
RUN_ID = "2026-11-10T06.00.00.000Z"
PARAMS = {"start": 41}
MARKER = "STEP_BENCH "

BASELINE = textwrap.dedent(
    f"""
    import sys
    from pathlib import Path

    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    path = Path.cwd()
    bootstrap_project(path)
    with KedroSession.create(project_path=path, runtime_params={PARAMS!r}) as session:
        outputs = session.run(pipeline_names=[{PIPELINE!r}], node_names=[{NODE!r}])
    assert outputs["result"].load() == {PARAMS["start"] + 1}, outputs
    print({MARKER!r} + str("airflow_kedro_azureml" in sys.modules))
    """
)


def write_project(root: Path) -> Path:
    """Write the one-node Kedro project under ``root``; return its folder."""
    project = root / "project"
    package = project / "src" / PACKAGE
    package.mkdir(parents=True)
    (project / "conf" / "base").mkdir(parents=True)
    (project / "conf" / "local").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [tool.kedro]
            package_name = "{PACKAGE}"
            project_name = "{PACKAGE}"
            kedro_init_version = "1.7.0"
            source_dir = "src"
            """
        ),
        encoding="utf-8",
    )
    (package / "__init__.py").write_text('"""One-node project."""\n', encoding="utf-8")
    (package / "settings.py").write_text(
        'CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local"}\n',
        encoding="utf-8",
    )
    (package / "pipeline_registry.py").write_text(
        textwrap.dedent(
            f"""
            from kedro.pipeline import Pipeline, node


            def add_one(start):
                return start + 1


            def register_pipelines():
                pipeline = Pipeline(
                    [node(add_one, inputs="params:start", outputs="result", name="{NODE}")]
                )
                return {{"__default__": pipeline, "{PIPELINE}": pipeline}}
            """
        ),
        encoding="utf-8",
    )
    (project / "conf" / "base" / "catalog.yml").write_text(
        "# 'result' has no entry: it stays in memory in a session, and travels as a\n"
        "# pickle in a step output folder when run by the step command.\n"
        "unused_input:\n  type: MemoryDataset\n",
        encoding="utf-8",
    )
    (project / "conf" / "base" / "parameters.yml").write_text("start: 1\n", encoding="utf-8")
    return project


def step_command(output_folder: Path) -> list[str]:
    """The step command, as the compiler writes it, with its folders filled in."""
    return [
        PYTHON,
        "-m",
        "airflow_kedro_azureml.compute.execute",
        "--pipeline",
        encode_value(PIPELINE),
        "--nodes",
        encode_value(NODE),
        "--run-id",
        RUN_ID,
        "--params",
        encode_json(PARAMS),
        "--output",
        encode_value("result"),
        str(output_folder),
    ]


def plain_logging_file() -> str:
    """Kedro's plain logging config, the one the step command picks."""
    spec = importlib.util.find_spec("kedro")
    assert spec is not None and spec.origin is not None
    return str(Path(spec.origin).parent / "framework" / "project" / "default_logging.yml")


def parse_importtime(stderr: str) -> list[tuple[str, int]]:
    """``(module, cumulative us)`` of each top-level import in ``-X importtime`` output."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        head, cumulative, name = line[len("import time:") :].split("|", 2)
        del head
        rows.append((name.rstrip(), int(cumulative)))
    return rows


def module_names(rows: list[tuple[str, int]]) -> set[str]:
    """Every module named in ``-X importtime`` rows."""
    return {name.strip() for name, _ in rows}


def top_level(rows: list[tuple[str, int]], count: int) -> list[tuple[str, int]]:
    """The ``count`` top-level imports with the most cumulative time."""
    tops = [(name.strip(), us) for name, us in rows if not name.startswith("  ")]
    return sorted(tops, key=lambda item: item[1], reverse=True)[:count]


def has_package(names: set[str], package: str) -> bool:
    """Whether ``package`` or one of its submodules is in ``names``."""
    return any(name == package or name.startswith(package + ".") for name in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 samples of each")
    parser.add_argument("--repeat", type=int, default=None, help="samples of each")
    arguments = parser.parse_args()
    repeat = arguments.repeat or (5 if arguments.quick else 9)

    print("Step overhead: one trivial node, whole child process")
    print(machine_note())
    print(f"{repeat} samples of each, interleaved; medians\n")

    root = Path(tempfile.mkdtemp(prefix="step_overhead_"))
    try:
        project = write_project(root)
        outputs = root / "outputs"
        plain = child_env(KEDRO_LOGGING_CONFIG=plain_logging_file())
        counter = iter(range(1_000_000))

        def baseline() -> float:
            run = check_ok(run_child([PYTHON, "-c", BASELINE], cwd=project), "baseline")
            assert f"{MARKER}False" in run.stdout, "a bare session imported this package"
            return run.seconds

        def baseline_plain() -> float:
            run = run_child([PYTHON, "-c", BASELINE], cwd=project, env=plain)
            return check_ok(run, "baseline, plain logging").seconds

        def step() -> float:
            folder = outputs / f"run_{next(counter)}"
            run = check_ok(run_child(step_command(folder), cwd=project), "step")
            result = FolderPickleDataset(str(folder)).load()
            assert result == PARAMS["start"] + 1, f"step wrote {result!r}"
            return run.seconds

        def interpreter() -> float:
            return check_ok(run_child([PYTHON, "-c", "pass"]), "python -c pass").seconds

        variants = {
            "baseline: bare KedroSession.run": baseline,
            "baseline, plain logging": baseline_plain,
            "step: python -m airflow_kedro_azureml.compute.execute": step,
            "python -c pass (interpreter start)": interpreter,
        }
        for action in variants.values():  # untimed: bytecode caches and file cache
            action()
        samples: dict[str, list[float]] = {name: [] for name in variants}
        names = list(variants)
        for round_index in range(repeat):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                samples[name].append(variants[name]())

        trace_step = check_ok(
            run_child(
                [PYTHON, "-X", "importtime", *step_command(outputs / "importtime")[1:]],
                cwd=project,
            ),
            "step with -X importtime",
        )
        trace_base = check_ok(
            run_child([PYTHON, "-X", "importtime", "-c", BASELINE], cwd=project),
            "baseline with -X importtime",
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)

    base = median(samples[names[0]])
    base_plain = median(samples[names[1]])
    ours = median(samples[names[2]])
    rows = []
    for name in names:
        value = median(samples[name])
        rows.append([name, f"{value:.3f}", spread(samples[name]), f"{value / base:.2f}"])
    print(table(["child process", "median s", "min..max s", "x baseline"], rows))

    step_rows = parse_importtime(trace_step.stderr)
    base_rows = parse_importtime(trace_base.stderr)
    step_modules = module_names(step_rows)
    base_modules = module_names(base_rows)
    print()
    print(
        table(
            ["-X importtime", "modules", "azure.ai.ml", "airflow", "airflow_kedro_azureml"],
            [
                [
                    label,
                    len(mods),
                    "imported" if has_package(mods, "azure.ai.ml") else "no",
                    "imported" if has_package(mods, "airflow") else "no",
                    "imported" if has_package(mods, "airflow_kedro_azureml") else "no",
                ]
                for label, mods in (("step", step_modules), ("baseline", base_modules))
            ],
        )
    )
    only_step = sorted({name.split(".")[0] for name in step_modules - base_modules} - {"__main__"})
    print(f"Top-level packages the step imports and the baseline does not: {only_step}")
    print("\nTop-level imports of the step process by cumulative time (ms; one run each, noisy)")
    print(
        table(
            ["module", "step ms", "baseline ms"],
            [
                [
                    name,
                    f"{us / 1000:.0f}",
                    f"{dict(top_level(base_rows, 10_000)).get(name, 0) / 1000:.0f}",
                ]
                for name, us in top_level(step_rows, 12)
            ],
        )
    )

    print("\nEntry points (importlib.metadata):")
    hooks = importlib.metadata.entry_points(group="kedro.hooks")
    for entry in hooks:
        owner = entry.dist.name if entry.dist else "?"
        print(f"  kedro.hooks: {entry.name} = {entry.value} (from {owner})")
    ours_dist = importlib.metadata.distribution("airflow-kedro-azureml")
    for entry in ours_dist.entry_points:
        print(f"  airflow-kedro-azureml registers {entry.group}: {entry.name} = {entry.value}")
    registers_hooks = any(entry.group == "kedro.hooks" for entry in ours_dist.entry_points)
    print(
        "  => this package registers "
        + (
            "a kedro.hooks entry point: the baseline is NOT package-free"
            if registers_hooks
            else "no kedro.hooks entry point, and the bare session never imported it "
            "(checked in every baseline run): running the baseline in this virtualenv "
            "equals running it without this package"
        )
    )
    print("  (kedro.project_commands is read only by the `kedro` CLI, never by a session)")

    print()
    print(
        verdict(
            f"step <= {TARGET_RATIO}x baseline (Kedro's default logging)",
            ours <= TARGET_RATIO * base,
            f"{ours / base:.2f}x ({ours:.3f} s vs {base:.3f} s)",
        )
    )
    print(
        verdict(
            f"step <= {TARGET_RATIO}x baseline (plain logging, like the step)",
            ours <= TARGET_RATIO * base_plain,
            f"{ours / base_plain:.2f}x ({ours:.3f} s vs {base_plain:.3f} s)",
        )
    )
    clean = not has_package(step_modules, "azure.ai.ml") and not has_package(
        step_modules, "airflow"
    )
    print(verdict("step process imports neither azure.ai.ml nor airflow", clean, "-X importtime"))


if __name__ == "__main__":
    main()
