"""Submission cost of one pipeline job against the workspace emulator: requests, bytes, time.

For a chain of N steps (N = 10 and 100 by default), it submits the compiled job
with the real azure-ai-ml SDK over HTTPS to ``airflow_kedro_azureml.testing``'s
emulator, twice: cold (fresh workspace) and warm (the same job submitted again,
as the next DAG run would). It prints the HTTP requests by kind, the bytes
uploaded to blob storage and the wall time of ``jobs.create_or_update``.

Target: at most N + 15 requests for N steps, the code snapshot uploaded once per
content, and nothing re-sent on a warm submission that the workspace already has.
The closest peer plugin sends 3N + 20 requests cold and 3N + 6 warm.

Usage: python benchmarks/submission.py [--steps 10 100] [--quick]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUN_ID = "2026-11-10T06.00.00.000Z"


def chain_project(root: Path, steps: int) -> Path:
    """A Kedro project whose pipeline is a chain of ``steps`` in-memory nodes."""
    from tests.conftest import write_project

    nodes = f"""
from kedro.pipeline import Pipeline, node


def step(value):
    return value


def toy_pipeline():
    nodes = [node(step, "raw", "d0", name="n0")]
    nodes += [node(step, f"d{{i - 1}}", f"d{{i}}", name=f"n{{i}}") for i in range(1, {steps})]
    return Pipeline(nodes)


double = total = fail = step
"""
    name = f"bench_{uuid.uuid4().hex[:8]}"
    return write_project(
        root / name,
        name,
        nodes=nodes,
        catalog={"raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"}},
    )


def classify(path: str, method: str) -> str:
    """A short name for the kind of request."""
    rules = [
        (r"/oauth2/|openid-configuration", "token"),
        (r"/computes/", "compute GET"),
        (r"/environments/", "environment " + method),
        (r"/codes/[^/]+/versions\?|/codes/[^/]+/versions$", "code hash lookup"),
        (r"startPendingUpload", "code upload start"),
        (r"/codes/", "code version " + method),
        (r"/components/", "component " + method),
        (r"/jobs/", "job " + method),
        (r"^/emulatorstorage/", "blob " + method),
        (r"/workspaces/[^/]+$", "workspace GET"),
    ]
    for pattern, name in rules:
        if re.search(pattern, path):
            return name
    return f"other {method} {path[:60]}"


def submit(emulator: Any, compiled: Any, code: Path, name: str) -> tuple[float, Counter, int, int]:
    """Submit as the operator does: compute check, then ``submit_compiled``; count requests."""
    from airflow_kedro_azureml.azure.pipeline_job import JobIdentity
    from airflow_kedro_azureml.azure.submission import submit_compiled

    hook = emulator.hook()
    emulator.reset_requests()
    started = time.perf_counter()
    for target in compiled.computes.values():
        assert hook.compute_exists(target.cluster_name)
    submit_compiled(
        hook,
        compiled,
        JobIdentity(name=name, experiment_name="bench"),
        code,
        computes_checked=True,
    )
    elapsed = time.perf_counter() - started
    kinds: Counter = Counter()
    uploaded = 0
    blob_requests = 0
    for recorded in emulator.requests():
        path = recorded.path + ("?" if recorded.query else "")
        kinds[classify(path, recorded.method)] += 1
        if recorded.path.startswith("/emulatorstorage/"):
            blob_requests += 1
            if recorded.method == "PUT":
                uploaded += len(recorded.body or b"")
    return elapsed, kinds, uploaded, blob_requests


def measure(steps: int) -> list[dict[str, Any]]:
    from azure.ai.ml.entities import Environment

    from airflow_kedro_azureml.azure.code_snapshot import build_snapshot
    from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
    from airflow_kedro_azureml.compiler.kedro_project import open_project
    from airflow_kedro_azureml.testing import AzureMLEmulator

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        project = chain_project(scratch_path, steps)
        compiled = compile_pipeline(
            open_project(project), CompileOptions(pipeline_name="toy", run_id=RUN_ID)
        )
        assert len(compiled.steps) == steps
        with (
            AzureMLEmulator(
                execute_jobs=False, computes=("cpu-cluster", "gpu-cluster")
            ) as emulator,
            emulator.patched_environment(),
        ):
            emulator.ml_client().environments.create_or_update(
                Environment(name="kedro-env", version="1", image="python:3.11-slim")
            )
            for label in ("cold", "warm"):
                code = scratch_path / f"snapshot_{label}"
                code.mkdir()
                files = build_snapshot(project, code)
                elapsed, kinds, uploaded, blobs = submit(emulator, compiled, code, f"bench_{label}")
                rows.append(
                    {
                        "steps": steps,
                        "label": label,
                        "seconds": elapsed,
                        "requests": sum(kinds.values()) - blobs,
                        "blob_requests": blobs,
                        "files": len(files),
                        "uploaded": uploaded,
                        "kinds": kinds,
                    }
                )
    return rows


def main() -> None:
    import logging

    logging.getLogger("azure").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--quick", action="store_true", help="10 steps only")
    arguments = parser.parse_args()
    sizes = [10] if arguments.quick else arguments.steps
    print(
        "Workspace API requests (target N + 15; the peer: 3N + 20 cold, 3N + 6 warm) and\n"
        "blob storage requests of the code upload (they grow with the snapshot's files;\n"
        "cold only).\n"
    )
    print(
        f"{'steps':>5} {'run':>5} {'api req':>7} {'target':>6} {'peer':>5} {'blob req':>8} "
        f"{'files':>5} {'uploaded B':>10} {'seconds':>7}  verdict"
    )
    details = []
    for steps in sizes:
        for row in measure(steps):
            target = steps + 15
            peer = 3 * steps + (20 if row["label"] == "cold" else 6)
            verdict = "PASS" if row["requests"] <= target else "MISS"
            if row["label"] == "warm" and row["uploaded"]:
                verdict += " (re-uploaded code)"
            print(
                f"{steps:>5} {row['label']:>5} {row['requests']:>7} {target:>6} {peer:>5} "
                f"{row['blob_requests']:>8} {row['files']:>5} {row['uploaded']:>10} "
                f"{row['seconds']:>7.2f}  {verdict}"
            )
            details.append(row)
    print("\nRequests by kind:")
    for row in details:
        kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(row["kinds"].items()))
        print(f"  {row['steps']} steps, {row['label']}: {kinds}")


if __name__ == "__main__":
    main()
