"""``kedro azureml compile`` of a 2,000-node pipeline, timed as a whole process.

What: throw-away Kedro projects whose registry builds the ``wide`` shape of
``compile_scaling.py`` (one source, 1,998 nodes reading it, one sink reading them all;
every dataset in memory), or, for scale, the ``chain`` shape (building the pipeline in
the registry is the project's own cost, counted: ``kedro run`` pays it too).
Interleaved, 5 runs each:

- ``kedro azureml compile -p wide -o job.yml`` (writes the job YAML; no SDK import);
- ``kedro azureml compile -p chain -o job.yml``;
- ``kedro --version`` in the same project: Kedro's own start-up, the floor of any
  ``kedro`` command.

Wall time of the whole ``kedro`` process, medians.

Target: the 2,000-node wide compile at most 1.0 s, whole process.

Command: ``.venv/bin/python benchmarks/compile_whole.py [--repeat N]`` (about 1 minute).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._bench import KEDRO, check_ok, machine_note, median, run_child, table, verdict

TARGET_SECONDS = 1.0
NODES = 2_000

REGISTRY = textwrap.dedent(
    """
    from kedro.pipeline import Pipeline, node


    def source():
        return 1


    def step(value):
        return value + 1


    def sink(*values):
        return len(values)


    def register_pipelines():
        size = {size}
        if "{shape}" == "wide":
            middle = [f"middle_{{i}}" for i in range(1, size - 1)]
            nodes = [node(source, inputs=None, outputs="source_data", name="source")]
            nodes += [node(step, inputs="source_data", outputs=n, name=n) for n in middle]
            nodes.append(node(sink, inputs=middle, outputs="sink_data", name="sink"))
        else:
            nodes = [node(source, inputs=None, outputs="data_0", name="node_0")]
            nodes += [
                node(step, inputs=f"data_{{i - 1}}", outputs=f"data_{{i}}", name=f"node_{{i}}")
                for i in range(1, size)
            ]
        pipeline = Pipeline(nodes)
        return {{"{shape}": pipeline, "__default__": pipeline}}
    """
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command")
    parser.add_argument("--quick", action="store_true", help="2 runs of each")
    arguments = parser.parse_args()
    repeat = 2 if arguments.quick else arguments.repeat

    from tests.conftest import write_project

    print(machine_note())
    work = Path(tempfile.mkdtemp(prefix="bench-compile-whole-"))
    projects = {
        shape: write_project(
            work / shape,
            f"{shape}_project",
            # write_project formats the registry: {{ }} there are literal braces.
            registry=REGISTRY.replace("{size}", str(NODES)).replace("{shape}", shape),
            azureml={
                "compute": {"__default__": {"cluster_name": "cpu-cluster"}},
                "execution": {"environment": "benchmark-env@latest"},
            },
        )
        for shape in ("wide", "chain")
    }
    commands = {
        "kedro --version": ([KEDRO, "--version"], projects["wide"]),
        **{
            f"compile {shape} {NODES:,}": (
                [KEDRO, "azureml", "compile", "-p", shape, "-o", str(work / f"{shape}.yml")],
                projects[shape],
            )
            for shape in ("wide", "chain")
        },
    }
    for name, (args, folder) in commands.items():
        check_ok(run_child(args, cwd=folder), f"first {name}")
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for index in range(repeat):
        for name in names if index % 2 == 0 else reversed(names):
            args, folder = commands[name]
            seconds[name].append(check_ok(run_child(args, cwd=folder), name).seconds)
    floor = median(seconds["kedro --version"])
    rows = [
        (name, f"{median(values):.2f}", f"{median(values) - floor:+.2f}")
        for name, values in seconds.items()
    ]
    print(table(["command (whole process)", "median s", "over kedro --version s"], rows))
    wide = median(seconds[f"compile wide {NODES:,}"])
    print(
        verdict(
            f"kedro azureml compile of {NODES:,} nodes wide at most {TARGET_SECONDS} s",
            wide <= TARGET_SECONDS,
            f"{wide:.2f} s whole process ({wide - floor:.2f} s over Kedro's own start-up)",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
