"""This package next to its peers, measured in one run: compile time and a whole local DAG run.

Peers, installed from PyPI into a scratch virtualenv (``--venv``, default a temp dir;
it sees this project's packages through a ``.pth`` file, so only the peers and what
they add are installed there, and this project's environment is left as it is):

- ``kedro-azureml-pipeline==0.1.0``: its ``AzureMLPipelineGenerator`` compiles a Kedro
  pipeline into an Azure ML pipeline job (``azure.ai.ml`` objects), one step per node;
- ``kedro-airflow==0.11.0``: ``kedro airflow create --group-by memory`` writes a DAG
  that runs the Kedro nodes inside the Airflow worker, one task per group.

Measured:

1. **Compile**, synthetic pipelines of 1,000 and 2,000 trivial nodes, ``chain`` and
   ``wide`` (as in ``compile_scaling.py``), every dataset in memory. Ours: compile
   plus the SDK pipeline job (``compile_selected`` + ``to_pipeline_job``); the peer:
   ``AzureMLPipelineGenerator.generate()``. Each sample in a fresh process, the
   libraries imported before the clock starts; medians.
2. **A whole local DAG run**: ``airflow dags test`` of the example DAG
   (``demand_forecasting_monthly``, local backend, 11 steps) against ``airflow dags
   test`` of the DAG kedro-airflow generates for the same project (memory-grouped),
   each in its own AIRFLOW_HOME and dags folder, alternating; wall time of the whole
   ``airflow`` process, medians.

3. **Submission** of a 100-step chain (the project of ``submission.py``) to the
   package's emulator of the Azure ML REST API, twice, each in a fresh process as a
   new Airflow task would: cold (empty workspace) and warm (the same job again).
   Ours: compute check + ``submit_compiled`` through ``AzureMLHook``; the peer:
   ``AzureMLPipelinesClient.run`` with an ``MLClient`` on the emulator's credential
   (its own credential chain is beside the point here). Requests counted by the
   emulator (token requests and blob transfers apart), time inside the process
   around the submission.

4. **One step's overhead**: the one-node project of ``step_overhead.py``; ours, the
   step command ``python -m airflow_kedro_azureml.compute.execute`` (output pickled to a
   folder); the peer, its step command ``kedro azureml execute --node add_one
   --az-output result FOLDER``, in a second scratch virtualenv that holds the peer and
   Kedro only (its ``kedro azureml`` group and this package's cannot share one
   environment). Each against a bare ``KedroSession.run`` of the node in its own
   environment, interleaved; the ratios are compared.

Command: ``.venv/bin/python benchmarks/peers.py [--quick] [--venv DIR]`` (full run:
about 10 minutes, plus the install on first use). Runs on demand, not in CI.
"""

from __future__ import annotations

import argparse
import json
import shutil
import site
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._bench import (
    EXAMPLE_PROJECT,
    PYTHON,
    REPO,
    child_env,
    copy_example_project,
    machine_note,
    median,
    run_child,
    spread,
    table,
)

PEERS = ("kedro-azureml-pipeline==0.1.0", "kedro-airflow==0.11.0")
MARKER = "PEER_SECONDS "
SIZES = (1_000, 2_000)
SHAPES = ("chain", "wide")

# Builds the synthetic pipeline in the child (the same shapes as compile_scaling.py).
PIPELINE = """
import sys, time
sys.path.insert(0, {benchmarks!r})
from compile_scaling import build
"""

OURS = (
    PIPELINE
    + """
import tempfile
from pathlib import Path
from airflow_kedro_azureml.azure.pipeline_job import to_pipeline_job
from airflow_kedro_azureml.compiler import compile_selected
from compile_scaling import make_project, options
import azure.ai.ml  # imported before the clock starts, as for the peer

project = make_project(Path(tempfile.mkdtemp()))
pipeline = build({shape!r}, {size})
start = time.perf_counter()
compiled = compile_selected(project, pipeline, options())
to_pipeline_job(compiled)
print({marker!r} + str(time.perf_counter() - start))
"""
)

PEER = (
    PIPELINE
    + """
from kedro.io import DataCatalog
from kedro_azureml_pipeline.config import KedroAzureMLConfig
from kedro_azureml_pipeline.generator import AzureMLPipelineGenerator
import azure.ai.ml

config = KedroAzureMLConfig.model_validate({{
    "workspace": {{"__default__": {{"subscription_id": "00000000-0000-0000-0000-000000000000",
                                   "resource_group": "rg", "name": "ws"}}}},
    "compute": {{"__default__": {{"cluster_name": "cpu-cluster"}}}},
    "execution": {{"environment": "benchmark-env@latest", "code_directory": "."}},
}})
pipeline = build({shape!r}, {size})
generator = AzureMLPipelineGenerator(
    "__default__", "local", config, {{"training": {{"window_end": "2026-10"}}}}, DataCatalog()
)
generator.get_kedro_pipeline = lambda: pipeline
start = time.perf_counter()
generator.generate()
print({marker!r} + str(time.perf_counter() - start))
"""
)


SUBMIT_OURS = """
import sys, tempfile, time
from pathlib import Path
from airflow_kedro_azureml.azure.code_snapshot import build_snapshot
from airflow_kedro_azureml.azure.pipeline_job import JobIdentity
from airflow_kedro_azureml.azure.submission import submit_compiled
from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
from airflow_kedro_azureml.compiler.kedro_project import open_project
from airflow_kedro_azureml.hooks.azureml import AzureMLHook

compiled = compile_pipeline(open_project(Path.cwd()), CompileOptions(pipeline_name="toy"))
hook = AzureMLHook()
hook.workspace
code = Path(tempfile.mkdtemp())
build_snapshot(Path.cwd(), code)
start = time.perf_counter()
for target in compiled.computes.values():
    assert hook.compute_exists(target.cluster_name)
submit_compiled(
    hook, compiled, JobIdentity(name={name!r}, experiment_name="bench"), code,
    computes_checked=True,
)
print({marker!r} + str(time.perf_counter() - start))
"""

SUBMIT_PEER = """
import time
from pathlib import Path
from azure.ai.ml import MLClient
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog
from kedro_azureml_pipeline.client import AzureMLPipelinesClient
from kedro_azureml_pipeline.config import KedroAzureMLConfig
from kedro_azureml_pipeline.generator import AzureMLPipelineGenerator
from airflow_kedro_azureml.testing.credentials import EmulatorCredential

bootstrap_project(Path.cwd())
config = KedroAzureMLConfig.model_validate({{
    "workspace": {{"__default__": {{"subscription_id": {subscription!r},
                                   "resource_group": {resource_group!r}, "name": {workspace!r}}}}},
    "compute": {{"__default__": {{"cluster_name": "cpu-cluster"}}}},
    "execution": {{"environment": "kedro-env@latest", "code_directory": "."}},
}})
catalog = DataCatalog.from_config(
    {{"raw": {{"type": "json.JSONDataset", "filepath": "inputs/raw.json"}}}}
)
generator = AzureMLPipelineGenerator("toy", "local", config, {{}}, catalog)
job = generator.generate()
job.name = {name!r}
client = MLClient(EmulatorCredential(), {subscription!r}, {resource_group!r}, {workspace!r})
start = time.perf_counter()
AzureMLPipelinesClient(job).run(
    config.workspace.root["__default__"], config.compute, ml_client=client,
    experiment_name="bench",
)
print({marker!r} + str(time.perf_counter() - start))
"""
SUBMIT_STEPS = 100

BARE_SESSION = """
from pathlib import Path
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

bootstrap_project(Path.cwd())
with KedroSession.create(project_path=Path.cwd()) as session:
    session.run(pipeline_names=["bench"], node_names=["add_one"])
"""


def install_step_venv(venv: Path) -> Path:
    """A virtualenv with the peer and Kedro only (no Airflow, not this package)."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            PEERS[0],
            "kedro==1.7.0",
        ],
        check=True,
    )
    return python


def step_table(step_python: Path, work: Path, repeat: int) -> list[tuple]:
    """Rows: tool, step s, bare session s (same environment), ratio."""
    from benchmarks.step_overhead import step_command, write_project

    project = write_project(work / "step")
    commands = {
        "ours: step": step_command(work / "step-out-ours"),
        "ours: bare session": [PYTHON, "-c", BARE_SESSION],
        "peer: step": [
            str(step_python),
            "-m",
            "kedro",
            "azureml",
            "execute",
            "--pipeline",
            "bench",
            "--node",
            "add_one",
            "--az-output",
            "result",
            str(work / "step-out-peer"),
        ],
        "peer: bare session": [str(step_python), "-c", BARE_SESSION],
    }
    for folder in ("step-out-ours", "step-out-peer"):
        (work / folder).mkdir()
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for index in range(repeat):
        for name in names if index % 2 == 0 else reversed(names):
            run = run_child(commands[name], cwd=project, timeout=600)
            if run.returncode != 0:
                raise SystemExit(f"{name} failed:\n{run.stderr[-3000:]}")
            seconds[name].append(run.seconds)
    rows = []
    for tool in ("ours", "peer"):
        step = median(seconds[f"{tool}: step"])
        bare = median(seconds[f"{tool}: bare session"])
        label = "airflow-kedro-azureml" if tool == "ours" else "kedro-azureml-pipeline"
        rows.append((label, f"{step:.2f}", f"{bare:.2f}", f"{step / bare:.2f}"))
    return rows


def submission_table(peer_python: Path, work: Path) -> list[tuple]:
    """Rows: tool, cold/warm, workspace requests, blob requests, seconds."""
    import os

    from airflow_kedro_azureml.testing import AzureMLEmulator
    from benchmarks.submission import chain_project
    from tests.operators.task_thread import CLIENT_ID, SECRET, TENANT

    rows = []
    for tool, python, template in (
        ("airflow-kedro-azureml", Path(PYTHON), SUBMIT_OURS),
        ("kedro-azureml-pipeline", peer_python, SUBMIT_PEER),
    ):
        project = chain_project(work / f"submit-{tool}", SUBMIT_STEPS)
        with (
            AzureMLEmulator(execute_jobs=False, computes=("cpu-cluster",)) as emulator,
            emulator.patched_environment(),
        ):
            from azure.ai.ml.entities import Environment

            emulator.ml_client().environments.create_or_update(
                Environment(name="kedro-env", version="1", image="python:3.11-slim")
            )
            connection = emulator.airflow_connection(TENANT, CLIENT_ID, SECRET)
            env = child_env(AIRFLOW_CONN_AZURE_ML_DEFAULT=json.dumps(connection))
            env.update(os.environ)
            env["AIRFLOW_CONN_AZURE_ML_DEFAULT"] = json.dumps(connection)
            for label in ("cold", "warm"):
                code = template.format(
                    name=f"bench_{label}",
                    marker=MARKER,
                    subscription=emulator.subscription_id,
                    resource_group=emulator.resource_group,
                    workspace=emulator.workspace_name,
                )
                emulator.reset_requests()
                run = run_child([str(python), "-c", code], cwd=project, env=env, timeout=1200)
                lines = [x for x in run.stdout.splitlines() if x.startswith(MARKER)]
                if run.returncode != 0 or not lines:
                    raise SystemExit(f"{tool} {label} submission failed:\n{run.stderr[-4000:]}")
                recorded = emulator.requests()
                blobs = sum(1 for r in recorded if r.path.startswith("/emulatorstorage/"))
                tokens = sum(1 for r in recorded if "/oauth2/" in r.path or "openid" in r.path)
                rows.append(
                    (
                        tool,
                        label,
                        str(len(recorded) - blobs - tokens),
                        str(blobs),
                        f"{float(lines[-1][len(MARKER) :]):.2f}",
                    )
                )
    return rows


def install_peers(venv: Path) -> Path:
    """A virtualenv with the peers, seeing this project's packages; its python."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
        own_site = site.getsitepackages()[0]
        peer_site = subprocess.run(
            [str(python), "-c", "import site; print(site.getsitepackages()[0])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        # ``addsitedir`` also reads that folder's .pth files (this package's editable install).
        Path(peer_site, "zz_project_packages.pth").write_text(
            f"import site; site.addsitedir({own_site!r})\n"
        )
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PEERS],
        check=True,
    )
    return python


def compile_seconds(python: Path, template: str, shape: str, size: int) -> float:
    """One compile in a fresh process, timed inside it."""
    code = template.format(
        benchmarks=str(REPO / "benchmarks"), shape=shape, size=size, marker=MARKER
    )
    run = run_child([str(python), "-c", code], cwd=REPO, timeout=1800)
    lines = [line for line in run.stdout.splitlines() if line.startswith(MARKER)]
    if run.returncode != 0 or not lines:
        raise SystemExit(f"compile {shape} {size} failed:\n{run.stderr[-3000:]}")
    return float(lines[-1][len(MARKER) :])


def compile_table(peer_python: Path, repeat: int, sizes: tuple[int, ...]) -> list[tuple]:
    """Rows: shape, nodes, ours s, peer s, peer/ours."""
    rows = []
    for shape in SHAPES:
        for size in sizes:
            ours, peer = [], []
            for _ in range(repeat):
                ours.append(compile_seconds(Path(PYTHON), OURS, shape, size))
                peer.append(compile_seconds(peer_python, PEER, shape, size))
            rows.append(
                (
                    shape,
                    f"{size:,}",
                    f"{median(ours):.2f}",
                    f"{median(peer):.2f}",
                    f"{median(peer) / median(ours):.1f}x",
                )
            )
            print(f"  compiled {shape} {size}", flush=True)
    return rows


def airflow_env(home: Path, dags: Path, local_backend: bool) -> dict[str, str]:
    """The environment of one ``airflow dags test``: its own home and dags folder."""
    env = child_env(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        DO_NOT_TRACK="1",
    )
    if local_backend:
        env["AIRFLOW_CONN_AZURE_ML_DEFAULT"] = json.dumps(
            {"conn_type": "azure_ml", "extra": {"backend": "local"}}
        )
    return env


def prepare_dag_runs(work: Path, peer_python: Path) -> dict[str, tuple[list[str], Path, dict]]:
    """For each tool: the ``airflow dags test`` command, its working folder and environment."""
    airflow = str(Path(PYTHON).parent / "airflow")
    runs = {}
    # Ours: the example DAG and project, copied.
    ours = work / "ours"
    shutil.copytree(
        REPO / "dags_examples",
        ours / "dags",
        ignore=shutil.ignore_patterns("__pycache__", ".azureml-local", "0[2-8]_*"),
    )
    copy_example_project(ours / "project")
    shutil.rmtree(ours / "dags" / "demand_forecasting")
    shutil.move(str(ours / "project"), str(ours / "dags" / "demand_forecasting"))
    # The other example DAGs of the folder are not part of this comparison.
    for extra in (ours / "dags").glob("*.py"):
        if extra.name != "demand_forecasting_monthly.py":
            extra.unlink()
    env = airflow_env(ours / "home", ours / "dags", local_backend=True)
    _migrate(airflow, env)
    runs["airflow-kedro-azureml"] = (
        [airflow, "dags", "test", "demand_forecasting_monthly", "2026-01-10T06:00:00+00:00"],
        ours / "dags" / "demand_forecasting",
        env,
    )
    # kedro-airflow: its DAG for the same project, memory-grouped, run from the project.
    peer = work / "kedro-airflow"
    project = copy_example_project(peer / "project")
    created = run_child(
        [
            str(peer_python),
            "-m",
            "kedro",
            "airflow",
            "create",
            "--group-by",
            "memory",
            "--target-dir",
            str(peer / "dags"),
        ],
        cwd=project,
        timeout=600,
    )
    if created.returncode != 0:
        raise SystemExit(f"kedro airflow create failed:\n{created.stderr[-3000:]}")
    dag_file = next((peer / "dags").glob("*.py"))
    dag_id = _dag_id(dag_file)
    env = airflow_env(peer / "home", peer / "dags", local_backend=False)
    # kedro-airflow's DAG imports the project's package: its docs install it into
    # Airflow's environment; its source folder on the path is the same here.
    env["PYTHONPATH"] = str(project / "src")
    _migrate(airflow, env)
    runs["kedro-airflow"] = (
        [airflow, "dags", "test", dag_id, "2026-01-10T06:00:00+00:00"],
        project,
        env,
    )
    return runs


def _dag_id(dag_file: Path) -> str:
    for line in dag_file.read_text().splitlines():
        if "dag_id=" in line:
            return line.split("dag_id=", 1)[1].strip().strip(",").strip("\"'")
    raise SystemExit(f"no dag_id in {dag_file}")


def _migrate(airflow: str, env: dict[str, str]) -> None:
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    done = run_child([airflow, "db", "migrate"], env=env, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"airflow db migrate failed:\n{done.stderr[-3000:]}")


def dag_table(runs: dict[str, tuple[list[str], Path, dict]], repeat: int) -> list[tuple]:
    """Rows: tool, median s, spread, ratio to the peer."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs)
    for index in range(repeat):
        for name in order if index % 2 == 0 else reversed(order):
            args, cwd, env = runs[name]
            run = run_child(args, cwd=cwd, env=env, timeout=1200)
            if run.returncode != 0 or "state=success" not in run.stdout + run.stderr:
                raise SystemExit(f"{name}: airflow dags test failed:\n{run.stderr[-4000:]}")
            seconds[name].append(run.seconds)
        print(f"  DAG runs: round {index + 1} of {repeat}", flush=True)
    peer = median(seconds["kedro-airflow"])
    return [
        (
            name,
            f"{median(values):.1f}",
            spread(values),
            f"{median(values) / peer:.2f}",
        )
        for name, values in seconds.items()
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 sample each, 1,000 nodes only")
    parser.add_argument("--repeat", type=int, default=None, help="samples of each figure")
    parser.add_argument("--venv", type=Path, default=None, help="scratch virtualenv for peers")
    parser.add_argument(
        "--parts",
        default="compile,submit,step,dag",
        help="comma-separated parts to measure: compile, submit, step, dag (default: all)",
    )
    arguments = parser.parse_args()
    repeat = arguments.repeat or (1 if arguments.quick else 3)
    sizes = SIZES[:1] if arguments.quick else SIZES
    print(machine_note())
    work = Path(tempfile.mkdtemp(prefix="bench-peers-"))
    venv = arguments.venv or work / "peers-venv"
    print(f"Installing {', '.join(PEERS)} into {venv} ...", flush=True)
    peer_python = install_peers(venv)
    assert EXAMPLE_PROJECT.is_dir()

    parts = set(arguments.parts.split(","))
    if "compile" in parts:
        print(f"\nCompile (seconds, median of {repeat}; each sample a fresh process):")
        rows = compile_table(peer_python, repeat, sizes)
        print(table(["shape", "nodes", "ours s", "kedro-azureml-pipeline s", "peer / ours"], rows))

    if "submit" in parts:
        print(f"\nSubmission of a {SUBMIT_STEPS}-step chain to the emulator (fresh processes):")
        rows = submission_table(peer_python, work)
        print(
            table(
                ["tool", "submission", "workspace requests", "blob requests", "seconds"],
                rows,
            )
        )

    if "step" in parts:
        step_venv = venv.parent / f"{venv.name}-step"
        print(f"\nOne step (installing the peer alone into {step_venv}) ...", flush=True)
        rows = step_table(install_step_venv(step_venv), work, max(repeat, 2) * 2)
        print(table(["tool", "step s", "bare KedroSession.run s", "step / bare"], rows))
    if "dag" in parts:
        print("\nThe example project through Airflow, local (airflow dags test, whole process):")
        runs = prepare_dag_runs(work, peer_python)
        rows = dag_table(runs, repeat)
        print(table(["DAG", "median s", "spread", "ratio to kedro-airflow"], rows))
        print(
            textwrap.dedent(
                """
                airflow-kedro-azureml: 11 steps, each its own process forked from a warm server
                (2 at a time), data between steps pickled to disk, as on Azure ML.
                kedro-airflow: memory-grouped tasks, each a KedroSession in the Airflow process.
                """
            ).strip()
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
