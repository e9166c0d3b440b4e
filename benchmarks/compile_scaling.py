"""Compile time and peak memory of synthetic Kedro pipelines from 10 to 2,000 nodes, two shapes.

Shapes (built in memory with ``kedro.pipeline.node``/``Pipeline``, trivial functions, every
dataset in memory):

- ``chain``: node i reads the output of node i-1;
- ``wide``: one source node, N-2 nodes each reading the source's output, one sink reading
  all of them.

Phases, timed separately (medians of several repetitions, without tracemalloc):

- (a) ``compile_selected``: Kedro pipeline -> ``CompiledPipeline`` (a fresh ``Pipeline``
  object per repetition, built outside the timing, so Kedro's topological sort is counted);
- (b) ``to_pipeline_job``: ``CompiledPipeline`` -> azure.ai.ml ``PipelineJob`` (the SDK is
  imported, and one small job built, before any timing);
- (c) ``to_yaml``: ``CompiledPipeline`` -> pipeline job YAML.

Peak memory of each phase is measured in a separate pass with tracemalloc (the peak above
what was allocated before the phase started, result included).

Target: 1,000 nodes compile in at most 1.5 s for (a) + (b), in both shapes; time per node
grows less than ~2x from 100 to 2,000 nodes (linear). The closest peer plugin's published
figures (quadratic) are printed beside ours.

Usage: ``.venv/bin/python benchmarks/compile_scaling.py [--quick] [--repeat N]``
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _bench import machine_note, median, table, verdict
from kedro.pipeline import Pipeline, node

from airflow_kedro_azureml.azure.job_yaml import to_yaml
from airflow_kedro_azureml.azure.pipeline_job import to_pipeline_job
from airflow_kedro_azureml.compiler import CompileOptions, compile_selected
from airflow_kedro_azureml.compiler.kedro_project import KedroProject
from airflow_kedro_azureml.compiler.spec import CompiledPipeline
from airflow_kedro_azureml.config import parse_config

SIZES = (10, 100, 1_000, 2_000)
QUICK_SIZES = (10, 100, 1_000)
SHAPES = ("chain", "wide")
PHASES = ("compile", "sdk", "yaml")
LABELS = {"compile": "(a)", "sdk": "(b)", "yaml": "(c)", "a+b": "a+b"}
TARGET_NODES = 1_000
TARGET_SECONDS = 1.5
LINEAR_RATIO = 2.0
RUN_ID = "2026-11-10T06.00.00.000Z"
PARAMS = {"training": {"window_end": "2026-10"}}
# The closest peer plugin's published compile times (seconds), which grow quadratically.
PEER_SECONDS = {("chain", 1_000): 16.6, ("wide", 1_000): 24.6, ("wide", 2_000): 91.0}


def source() -> int:
    """The first node of a shape: no inputs."""
    return 1


def step(value: int) -> int:
    """A node with one input."""
    return value + 1


def sink(*values: int) -> int:
    """The last node of the wide shape: reads every middle node's output."""
    return len(values)


def build(shape: str, size: int) -> Pipeline:
    """A fresh Kedro pipeline of ``size`` nodes in ``shape``."""
    if shape == "chain":
        nodes = [node(source, inputs=None, outputs="data_0", name="node_0")]
        nodes += [
            node(step, inputs=f"data_{i - 1}", outputs=f"data_{i}", name=f"node_{i}")
            for i in range(1, size)
        ]
        return Pipeline(nodes)
    middle = [f"middle_{i}" for i in range(1, size - 1)]
    nodes = [node(source, inputs=None, outputs="source_data", name="source")]
    nodes += [node(step, inputs="source_data", outputs=name, name=name) for name in middle]
    nodes.append(node(sink, inputs=middle, outputs="sink_data", name="sink"))
    return Pipeline(nodes)


def make_project(folder: Path) -> KedroProject:
    """An opened project whose catalog is empty: every dataset lives in memory."""
    config = parse_config(
        {
            "compute": {"__default__": {"cluster_name": "cpu-cluster"}},
            "execution": {"environment": "benchmark-env@latest"},
        },
        "benchmark azureml.yml",
    )
    return KedroProject(
        path=folder,
        package_name="benchmark",
        env=None,
        config=config,
        catalog_config={},
        parameters=PARAMS,
    )


def options() -> CompileOptions:
    """What every compilation compiles."""
    return CompileOptions(pipeline_name="__default__", run_id=RUN_ID, params=PARAMS)


def timed(action: Callable[[], Any]) -> float:
    """Seconds one call of ``action`` takes (garbage collected before)."""
    gc.collect()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def peak_mb(action: Callable[[], Any]) -> tuple[float, Any]:
    """Peak MB that ``action`` allocates above what was allocated before it, and its result."""
    gc.collect()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    result = action()
    _, peak = tracemalloc.get_traced_memory()
    return (peak - before) / 1e6, result


@contextlib.contextmanager
def sdk_key_check_timer() -> Iterator[list[float]]:
    """Time spent in the SDK's check of a step's input names, while the block runs.

    ``azure.ai.ml`` compares every input name of a ``command()`` with every other one
    (``GroupInput.validate_conflict_keys``), which is quadratic in the inputs of one step;
    the wide shape's sink has N-2 inputs. Yields ``[seconds]`` (``[nan]`` if the SDK has
    no such function).
    """
    spent = [0.0]
    try:
        from azure.ai.ml.entities._inputs_outputs.group_input import GroupInput
    except ImportError:
        yield [float("nan")]
        return
    original = GroupInput.__dict__.get("validate_conflict_keys")
    if not isinstance(original, staticmethod):
        yield [float("nan")]
        return
    check = original.__func__

    def timed_check(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return check(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    GroupInput.validate_conflict_keys = staticmethod(timed_check)  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        GroupInput.validate_conflict_keys = original  # type: ignore[method-assign]


def measure(
    project: KedroProject, shape: str, size: int, repeat: int, output_dir: Path
) -> tuple[dict[str, float], dict[str, float], int]:
    """Median seconds and peak MB of each phase, and the number of steps.

    The seconds also hold ``key_check``: the SDK's input-name check inside (b), and
    ``sdk_rest``: (b) minus the check (medians over the same runs; the timing wrapper
    adds two ``perf_counter`` calls per step, negligible).
    """
    seconds: dict[str, list[float]] = {phase: [] for phase in PHASES}
    compiled: CompiledPipeline | None = None
    assert size >= 3, "a shape needs at least 3 nodes"
    for _ in range(repeat):
        pipeline = build(shape, size)
        gc.collect()
        start = time.perf_counter()
        compiled = compile_selected(project, pipeline, options())
        seconds["compile"].append(time.perf_counter() - start)
    assert compiled is not None
    seconds["key_check"], seconds["sdk_rest"] = [], []
    for _ in range(repeat):
        with sdk_key_check_timer() as spent:
            whole = timed(lambda: to_pipeline_job(compiled))
        seconds["sdk"].append(whole)
        seconds["key_check"].append(spent[0])
        seconds["sdk_rest"].append(whole - spent[0])
        seconds["yaml"].append(timed(lambda: to_yaml(compiled, output_dir)))

    tracemalloc.start()
    try:
        pipeline = build(shape, size)
        memory: dict[str, float] = {}
        memory["compile"], traced = peak_mb(lambda: compile_selected(project, pipeline, options()))
        memory["sdk"], _ = peak_mb(lambda: to_pipeline_job(traced))
        memory["yaml"], _ = peak_mb(lambda: to_yaml(traced, output_dir))
    finally:
        tracemalloc.stop()
    return {phase: median(values) for phase, values in seconds.items()}, memory, len(compiled.steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="up to 1,000 nodes, 2 repetitions")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions per size")
    arguments = parser.parse_args()
    sizes = QUICK_SIZES if arguments.quick else SIZES
    repeat = arguments.repeat or (2 if arguments.quick else 5)

    print("Compile scaling of synthetic pipelines")
    print(machine_note())
    print(f"sizes {', '.join(f'{s:,}' for s in sizes)}; {repeat} repetitions; medians\n")

    with tempfile.TemporaryDirectory(prefix="compile_scaling_") as folder:
        output_dir = Path(folder)
        project = make_project(output_dir)
        # Import the SDK and build one small job before any timing.
        sdk_start = time.perf_counter()
        to_pipeline_job(compile_selected(project, build("chain", 3), options()))
        sdk_import = time.perf_counter() - sdk_start
        print(f"azure.ai.ml import and first small job (untimed below): {sdk_import:.2f} s\n")

        results: dict[tuple[str, int], tuple[dict[str, float], dict[str, float], int]] = {}
        for shape in SHAPES:
            for size in sizes:
                results[(shape, size)] = measure(project, shape, size, repeat, output_dir)

    rows = []
    for (shape, size), (seconds, memory, steps) in results.items():
        both = seconds["compile"] + seconds["sdk"]
        rows.append(
            [
                f"{shape} {size:,}",
                steps,
                *(f"{seconds[p]:.4f}" for p in PHASES),
                f"{both:.4f}",
                *(f"{seconds[p] / size * 1e6:.0f}" for p in PHASES),
                *(f"{memory[p]:.1f}" for p in PHASES),
            ]
        )
    print(
        table(
            [
                "shape nodes",
                "steps",
                "(a) s",
                "(b) s",
                "(c) s",
                "a+b s",
                "(a) us/node",
                "(b) us/node",
                "(c) us/node",
                "(a) MB",
                "(b) MB",
                "(c) MB",
            ],
            rows,
        )
    )
    print(
        "(a) compile_selected, (b) to_pipeline_job, (c) to_yaml; MB = tracemalloc peak of the phase"
    )

    print("\nWhere (b) goes: the SDK's check of each step's input names (quadratic in one")
    print("step's inputs: the wide shape's sink has N-2) vs everything else; medians")
    split_rows = []
    for (shape, size), (seconds, _, _) in results.items():
        split_rows.append(
            [
                f"{shape} {size:,}",
                f"{seconds['key_check']:.4f}",
                f"{seconds['sdk_rest']:.4f}",
                f"{seconds['sdk_rest'] / size * 1e6:.0f}",
            ]
        )
    print(table(["shape nodes", "input-name check s", "rest of (b) s", "rest us/node"], split_rows))

    largest = max(sizes)
    print(f"\nLinearity: time per node at {largest:,} nodes / time per node at 100 nodes")
    linear_rows = []
    failing: list[str] = []
    for shape in SHAPES:
        small, _, _ = results[(shape, 100)]
        large, _, _ = results[(shape, largest)]
        ratios = {p: (large[p] / largest) / (small[p] / 100) for p in (*PHASES, "sdk_rest")}
        ratios["a+b"] = ((large["compile"] + large["sdk"]) / largest) / (
            (small["compile"] + small["sdk"]) / 100
        )
        judged = ("compile", "sdk", "yaml", "a+b")
        failing += [f"{shape} {LABELS[k]}" for k in judged if ratios[k] >= LINEAR_RATIO]
        shape_linear = all(ratios[k] < LINEAR_RATIO for k in judged)
        linear_rows.append(
            [
                shape,
                *(f"{ratios[k]:.2f}" for k in (*judged, "sdk_rest")),
                "linear" if shape_linear else "NOT linear",
            ]
        )
    print(
        table(
            ["shape", "(a)", "(b)", "(c)", "a+b", "(b) without input-name check", "verdict"],
            linear_rows,
        )
    )
    for shape in SHAPES:
        seconds = results[(shape, largest)][0]
        share = seconds["key_check"] / seconds["sdk"]
        if share > 0.2:
            print(
                f"Note: in {shape} {largest:,}, {share:.0%} of (b) is azure.ai.ml's input-name "
                "check, which is quadratic in the inputs of one step (the sink's); (b) "
                "without it stays linear. A step with thousands of inputs will grow (b) "
                "quadratically inside the SDK."
            )

    print("\nAgainst the closest peer plugin's published figures (its compile, our a+b)")
    peer_rows = []
    for (shape, size), peer in PEER_SECONDS.items():
        if (shape, size) not in results:
            continue
        seconds = results[(shape, size)][0]
        ours = seconds["compile"] + seconds["sdk"]
        peer_rows.append(
            [f"{shape} {size:,}", f"{peer:.1f}", f"{ours:.3f}", f"{peer / ours:.0f}x faster"]
        )
    print(table(["shape nodes", "peer s", "ours s", "ratio"], peer_rows))

    print()
    for shape in SHAPES:
        seconds = results[(shape, TARGET_NODES)][0]
        both = seconds["compile"] + seconds["sdk"]
        print(
            verdict(
                f"{shape} {TARGET_NODES:,} nodes, (a)+(b) <= {TARGET_SECONDS} s",
                both <= TARGET_SECONDS,
                f"{both:.3f} s",
            )
        )
    print(
        verdict(
            f"linear: time per node at {largest:,} / at 100 < {LINEAR_RATIO}",
            not failing,
            "every shape and phase"
            if not failing
            else f"not linear: {', '.join(failing)} (see the tables above)",
        )
    )


if __name__ == "__main__":
    main()
