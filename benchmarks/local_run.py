"""Local backend: example ``training`` pipeline, ``kedro azureml run-local`` vs plain ``kedro run``.

The example project is copied to a temp dir (without run outputs) and
``kedro run --pipeline data_processing`` runs there once, untimed, to write
``data/05_model_input`` that ``training`` reads. Then, interleaved, the order swapping
each round:

- ``kedro run --pipeline training``: one process, Kedro's sequential runner;
- ``kedro azureml run-local -p training``: compiles the pipeline job and runs each step
  as its own process (``airflow_kedro_azureml.compute.execute``, forked from a warm server by
  default), independent steps in parallel up to ``execution.local.max_parallel`` (2 by
  default), in-memory datasets pickled between steps.

Also timed, for comparison only: ``run-local --node-grouping memory``, where nodes joined
by in-memory datasets share one step. Wall time of the whole ``kedro`` process, medians.
Diagnostics (skipped with ``--quick``): one step process alone, with ``-X importtime``, and
one run through the package API (in a child process) that records when each step starts
and ends, to show where the local backend's time goes.

Target: ``run-local`` takes at most 1.5x ``kedro run``.

Usage: ``.venv/bin/python benchmarks/local_run.py [--quick] [--repeat N]``
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import yaml
from _bench import (
    KEDRO,
    PYTHON,
    check_ok,
    child_env,
    copy_example_project,
    machine_note,
    median,
    run_child,
    spread,
    table,
    verdict,
)

TARGET_RATIO = 1.5
PIPELINE = "training"
MARKER = "LOCAL_TIMELINE "

# Runs the compiled job once through the package API and reports each step's start and end.
TIMELINE = textwrap.dedent(
    f"""
    import json, time
    from pathlib import Path

    from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
    from airflow_kedro_azureml.compiler.kedro_project import open_project
    from airflow_kedro_azureml.local.pipeline_run import LocalPipelineRun
    from airflow_kedro_azureml.local.steps import steps_from_spec

    start = time.perf_counter()
    project = open_project(Path.cwd())
    compiled = compile_pipeline(
        project, CompileOptions(pipeline_name={PIPELINE!r}, run_id="2026-11-10T06.00.00.000Z")
    )
    compiled_at = time.perf_counter() - start
    events = {{}}
    run = LocalPipelineRun(
        steps_from_spec(compiled),
        pipeline_inputs=compiled.pipeline_inputs,
        code_dir=compiled.code_directory,
        run_dir=Path.cwd() / ".azureml-local" / "runs" / "timeline",
        max_parallel=project.config.execution.local.max_parallel,
        fork_server=project.config.execution.local.fork_server,
        on_status=lambda step, status: events.setdefault(step, {{}}).setdefault(
            status, time.perf_counter() - start
        ),
    )
    status = run.run()
    print({MARKER!r} + json.dumps({{
        "status": status,
        "compile": compiled_at,
        "total": time.perf_counter() - start,
        "max_parallel": project.config.execution.local.max_parallel,
        "events": events,
        "nodes": {{s.name: list(s.node_names) for s in compiled.steps}},
    }}))
    """
)


def step_graph(job_yaml: str) -> dict[str, set[str]]:
    """Each step of the compiled job YAML and the steps whose outputs it reads."""
    document = yaml.safe_load(job_yaml)
    graph: dict[str, set[str]] = {}
    for name, job in document["jobs"].items():
        upstream = set()
        for binding in (job.get("inputs") or {}).values():
            if isinstance(binding, str) and binding.startswith("${{parent.jobs."):
                upstream.add(binding[len("${{parent.jobs.") :].split(".", 1)[0])
        graph[name] = upstream
    return graph


def longest_chain(graph: dict[str, set[str]]) -> list[str]:
    """The longest dependency chain of steps (the critical path, counted in steps)."""
    memo: dict[str, list[str]] = {}

    def chain(name: str) -> list[str]:
        if name not in memo:
            best = max((chain(up) for up in graph[name]), key=len, default=[])
            memo[name] = [*best, name]
        return memo[name]

    return max((chain(name) for name in graph), key=len)


def step_process_command(job_yaml: str, step: str, folder: Path) -> list[str]:
    """The command of ``step`` as the local backend would run it, placeholders filled in
    (outputs go under ``folder``; the step must read no other step's output)."""
    document = yaml.safe_load(job_yaml)
    job = document["jobs"][step]
    words = shlex.split(job["command"])
    filled = []
    for word in words:
        if word.startswith("${{inputs.") and word.endswith("}}"):
            binding = job["inputs"][word[len("${{inputs.") : -2]]
            assert binding.startswith("${{parent.inputs."), f"{step} reads another step"
            word = str(document["inputs"][binding[len("${{parent.inputs.") : -2]])
        elif word.startswith("${{outputs.") and word.endswith("}}"):
            word = str(folder / word[len("${{outputs.") : -2])
        filled.append(word)
    assert filled[0] == "python", filled
    return filled[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="1 run of each; no grouped variant, no timeline"
    )
    parser.add_argument("--repeat", type=int, default=None, help="runs of each")
    arguments = parser.parse_args()
    repeat = arguments.repeat or (1 if arguments.quick else 3)

    print(f"Local backend vs kedro run: pipeline {PIPELINE!r} of the example project")
    print(machine_note())
    print(f"{repeat} run(s) of each, interleaved; medians\n")

    root = Path(tempfile.mkdtemp(prefix="local_run_"))
    env = child_env(PYTHONUNBUFFERED="1")
    timeline: dict[str, Any] | None = None
    try:
        project = copy_example_project(root / "demand_forecasting")
        # `training` alone reads model_input_table, which data_processing (run below) leaves
        # on this disk: without the switch, compiling it for Azure ML is an error.
        azureml_yml = project / "conf" / "base" / "azureml.yml"
        settings = yaml.safe_load(azureml_yml.read_text(encoding="utf-8"))
        settings.setdefault("execution", {})["upload_local_files"] = True
        azureml_yml.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        setup = check_ok(
            run_child([KEDRO, "run", "--pipeline", "data_processing"], cwd=project, env=env),
            "kedro run --pipeline data_processing",
        )
        print(f"setup: kedro run --pipeline data_processing took {setup.seconds:.2f} s (untimed)")
        job_file = root / "job.yml"
        compiled = check_ok(
            run_child(
                [KEDRO, "azureml", "compile", "-p", PIPELINE, "-o", str(job_file)],
                cwd=project,
                env=env,
            ),
            "kedro azureml compile",
        )
        job_yaml = job_file.read_text(encoding="utf-8")
        graph = step_graph(job_yaml)
        critical = longest_chain(graph)
        print(
            f"compiled job: {len(graph)} steps; longest chain {len(critical)} steps "
            f"({' -> '.join(critical)}); `kedro azureml compile` took {compiled.seconds:.2f} s"
        )

        base_name = f"kedro run --pipeline {PIPELINE}"
        ours_name = f"kedro azureml run-local -p {PIPELINE}"
        grouped_name = f"{ours_name} --node-grouping memory"
        commands = {
            base_name: [KEDRO, "run", "--pipeline", PIPELINE],
            ours_name: [KEDRO, "azureml", "run-local", "-p", PIPELINE],
        }
        if not arguments.quick:
            commands[grouped_name] = [*commands[ours_name], "--node-grouping", "memory"]
            grouped_file = root / "grouped.yml"
            check_ok(
                run_child(
                    [
                        *(KEDRO, "azureml", "compile", "-p", PIPELINE),
                        *("--node-grouping", "memory", "-o", str(grouped_file)),
                    ],
                    cwd=project,
                    env=env,
                ),
                "kedro azureml compile --node-grouping memory",
            )
            grouped_steps = len(step_graph(grouped_file.read_text(encoding="utf-8")))
            print(f"with --node-grouping memory: {grouped_steps} step(s)")
        print()

        samples: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for round_index in range(repeat):
            order = names if round_index % 2 == 0 else list(reversed(names))
            for name in order:
                run = check_ok(run_child(commands[name], cwd=project, env=env), name)
                samples[name].append(run.seconds)

        first = critical[0]
        traced: Any = None
        plain_step: Any = None
        reads_pipeline_inputs_only = all(
            isinstance(binding, str) and binding.startswith("${{parent.inputs.")
            for binding in (yaml.safe_load(job_yaml)["jobs"][first].get("inputs") or {}).values()
        )
        if not reads_pipeline_inputs_only:
            print(f"(step diagnostics skipped: step {first} reads a data asset or another step)")
        if not arguments.quick and reads_pipeline_inputs_only:
            traced = check_ok(
                run_child(
                    [
                        PYTHON,
                        "-X",
                        "importtime",
                        *step_process_command(job_yaml, first, root / "out"),
                    ],
                    cwd=project,
                    env=env,
                ),
                f"step {first} with -X importtime",
            )
            plain_step = check_ok(
                run_child(
                    [PYTHON, *step_process_command(job_yaml, first, root / "out2")],
                    cwd=project,
                    env=env,
                ),
                f"step {first}",
            )
        if not arguments.quick:
            timeline_run = check_ok(
                run_child([PYTHON, "-c", TIMELINE], cwd=project, env=env), "timeline run"
            )
            line = next(x for x in timeline_run.stdout.splitlines() if x.startswith(MARKER))
            timeline = json.loads(line[len(MARKER) :])
    finally:
        shutil.rmtree(root, ignore_errors=True)

    base = median(samples[base_name])
    print(
        table(
            ["command", "median s", "min..max s", "x kedro run"],
            [
                [
                    name,
                    f"{median(samples[name]):.2f}",
                    spread(samples[name]),
                    f"{median(samples[name]) / base:.2f}",
                ]
                for name in names
            ],
        )
    )

    if traced is not None and plain_step is not None:
        imports = top_level_imports(traced.stderr)
        importing = sum(us for _, us in imports) / 1e6
        print(
            f"\nOne step process alone ({first}, a light node): {plain_step.seconds:.2f} s wall; "
            f"with -X importtime, {importing:.2f} s of it importing modules. Largest top-level "
            "imports:"
        )
        print(
            table(
                ["module", "ms"],
                [[name, f"{us / 1000:.0f}"] for name, us in imports[:8]],
            )
        )

    if timeline is not None:
        print(
            f"\nOne run-local through the package API ({timeline['status']}, "
            f"max_parallel {timeline['max_parallel']}): open project + compile "
            f"{timeline['compile']:.2f} s, whole run {timeline['total']:.2f} s"
        )
        rows = []
        busy = 0.0
        ordered = sorted(timeline["events"].items(), key=lambda item: item[1]["Running"])
        for step, events in ordered:
            started = events["Running"]
            ended = events.get("Completed", events.get("Failed", float("nan")))
            busy += ended - started
            rows.append(
                [
                    step,
                    f"{started:.2f}",
                    f"{ended:.2f}",
                    f"{ended - started:.2f}",
                ]
            )
        print(table(["step", "start s", "end s", "step process s"], rows))
        print(f"Sum of step processes: {busy:.2f} s")

    print(
        f"\nThe {len(critical)} steps of the longest chain run one after another. Each is a "
        "process forked from a warm server that imported Kedro and the project once "
        "(execution.local.fork_server); each still opens its own Kedro session, config and "
        "catalog, which `kedro run` does once."
    )
    ours = median(samples[ours_name])
    print()
    print(
        verdict(
            f"run-local <= {TARGET_RATIO}x kedro run",
            ours <= TARGET_RATIO * base,
            f"{ours / base:.2f}x ({ours:.2f} s vs {base:.2f} s)",
        )
    )
    if grouped_name in samples:
        grouped = median(samples[grouped_name])
        print(
            verdict(
                f"run-local --node-grouping memory <= {TARGET_RATIO}x kedro run (not the target)",
                grouped <= TARGET_RATIO * base,
                f"{grouped / base:.2f}x ({grouped:.2f} s vs {base:.2f} s)",
            )
        )


def top_level_imports(stderr: str) -> list[tuple[str, int]]:
    """Top-level imports of ``-X importtime`` output, most cumulative microseconds first."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|", 2)
        if not name.startswith("  "):
            rows.append((name.strip(), int(cumulative)))
    return sorted(rows, key=lambda item: item[1], reverse=True)


if __name__ == "__main__":
    main()
