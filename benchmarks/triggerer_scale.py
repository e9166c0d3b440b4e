"""One triggerer watching many deferred pipeline jobs: requests, CPU and memory.

What: N pipeline jobs (200; 40 with --quick) are created in the package's HTTPS
emulator of the Azure ML REST API and held ``Running``. A child process, standing
in for one triggerer, runs N ``AzureMLJobTrigger``s in one asyncio loop, as the
triggerer does, polling every ``POLL`` seconds for ``WATCH`` seconds; then every
job is marked ``Completed`` and each trigger must yield its success event. The
same is done by one child polling ONE job the way a worker-mode task does, to
compare with N such worker processes.

Printed: requests per poll per job while no step changes (target: at most 2), the
triggerer's CPU seconds per minute of waiting (read from /proc, start-up left out)
and peak memory, and the worker-mode figures for N jobs (N times one worker
process, which holds a worker slot each).

Command: ``.venv/bin/python benchmarks/triggerer_scale.py`` (about 2 minutes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._bench import machine_note, table, verdict

QUICK = "--quick" in sys.argv
JOBS = 40 if QUICK else 200
POLL = 5.0
WATCH = 20.0 if QUICK else 60.0

# A child process: N triggers in one event loop, or one worker-style poll loop.
CHILD = textwrap.dedent(
    """
    import asyncio, json, resource, sys, time

    mode, names = sys.argv[1], json.loads(sys.argv[2])
    poll, watch = float(sys.argv[3]), float(sys.argv[4])
    start_cpu, start = time.process_time(), time.monotonic()
    if mode == "triggerer":
        from airflow_kedro_azureml.triggers.azureml_job import AzureMLJobTrigger

        async def watch_one(name):
            async for event in AzureMLJobTrigger(name, poll_interval=poll).run():
                return event.payload["status"]

        async def main():
            return await asyncio.gather(*(watch_one(name) for name in names))

        outcomes = asyncio.run(main())
    else:
        from airflow_kedro_azureml.hooks.azureml import AzureMLHook

        hook, outcomes = AzureMLHook(), []
        while True:
            state = hook.get_job_state(names[0])
            if state.is_terminal:
                outcomes.append("success" if state.is_success else "failed")
                break
            time.sleep(poll)
    print("RESULT " + json.dumps({
        "outcomes": outcomes,
        "cpu": time.process_time() - start_cpu,
        "wall": time.monotonic() - start,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }), flush=True)
    """
)


def create_jobs(emulator, count: int) -> list[str]:
    """``count`` one-step pipeline jobs that share one registered component; held Running."""
    from azure.ai.ml import command
    from azure.ai.ml.entities import Environment, PipelineJob

    client = emulator.ml_client()
    client.environments.create_or_update(Environment(name="bench-env", version="1", image="py"))
    code = Path(tempfile.mkdtemp(prefix="bench-code-"))
    (code / "step.py").write_text("print('never runs')\n")
    names = []
    for index in range(count):
        step = command(
            name="work",
            command="python step.py",
            code=str(code),
            environment="azureml:bench-env:1",
            compute="cpu-cluster",
        )
        name = f"bench_job_{index:04d}"
        client.jobs.create_or_update(PipelineJob(jobs={"work": step}, name=name))
        emulator.set_job_status(name, "Running")
        names.append(name)
    return names


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def job_looks(emulator) -> list:
    """The recorded GETs of a job (one per look at one job)."""
    return [
        r for r in emulator.requests() if r.method == "GET" and r.path.rsplit("/", 2)[-2] == "jobs"
    ]


def run_child(mode: str, names: list[str], emulator, finish_after: float) -> dict:
    """Run the child; after ``finish_after`` seconds mark every job Completed; its figures."""
    env = dict(os.environ)
    env["AIRFLOW_CONN_AZURE_ML_DEFAULT"] = json.dumps(
        emulator.airflow_connection(
            "11111111-2222-3333-4444-555555555555", "0a1b2c3d-0000-4000-8000-00000000c11e", "s"
        )
    )
    # Forget the requests of anything before (the other child's last looks), or the
    # start-up of this child would count as steady polling.
    emulator.reset_requests()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, json.dumps(names), str(POLL), str(WATCH)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    # Start-up (imports, token, workspace discovery) is over once every job had a look;
    # from then on count the steady polls.
    deadline = time.monotonic() + 120
    watched = set(names)
    while (
        len([r for r in job_looks(emulator) if r.path.rsplit("/", 1)[-1] in watched])
        < 2 * len(names)
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    emulator.reset_requests()
    cpu_before = cpu_seconds(child.pid)
    time.sleep(finish_after)
    cpu_in_window = cpu_seconds(child.pid) - cpu_before
    recorded = emulator.requests()
    gets: Counter[str] = Counter()
    listings: Counter[str] = Counter()
    others = []
    for r in recorded:
        parent, last = r.path.rsplit("/", 2)[-2:]
        if r.method == "GET" and parent == "jobs":  # .../jobs/{job}
            gets[last] += 1
        elif r.method == "GET" and last == "children":  # .../runs/{job}/children
            listings[parent] += 1
        else:
            others.append(f"{r.method} .../{parent}/{last}")
    job_gets = sum(gets.values())
    # A listing whose job GET was sent just before the window opened is not an extra request.
    edge = sum(max(listings[name] - gets[name], 0) for name in listings)
    print(
        f"{mode}: {len(recorded)} requests in {finish_after:.0f} s: {job_gets} job GETs, "
        f"{sum(listings.values())} step listings ({edge} of them for a GET sent before the "
        f"window opened), {len(others)} other requests {sorted(set(others))[:5]}"
    )
    for name in names:
        emulator.set_job_status(name, "Completed")
    output, _ = child.communicate(timeout=300)
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    figures = json.loads(line.removeprefix("RESULT "))
    figures["window_cpu_per_minute"] = cpu_in_window / finish_after * 60
    figures["requests"] = len(recorded) - edge
    figures["job_gets"] = job_gets
    return figures


def main() -> int:
    from airflow_kedro_azureml.testing import AzureMLEmulator

    print(machine_note())
    emulator = AzureMLEmulator(computes=["cpu-cluster"], execute_jobs=False)
    with emulator, emulator.patched_environment():
        started = time.monotonic()
        names = create_jobs(emulator, JOBS)
        print(f"created {JOBS} jobs in {time.monotonic() - started:.1f} s (untimed setup)")
        triggerer = run_child("triggerer", names, emulator, WATCH)
        worker = run_child("worker", [create_jobs(emulator, 1)[0]], emulator, WATCH)
    # A poll is one look at one job (its GET); every other request counts against the polls.
    per_poll = triggerer["requests"] / max(triggerer["job_gets"], 1)
    worker_per_poll = worker["requests"] / max(worker["job_gets"], 1)
    rows = [
        (
            f"1 triggerer, {JOBS} deferred jobs",
            f"{per_poll:.2f}",
            f"{triggerer['window_cpu_per_minute']:.2f}",
            f"{triggerer['peak_mib']:.0f}",
            "0",
        ),
        (
            f"{JOBS} worker-mode tasks (1 measured x {JOBS})",
            f"{worker_per_poll:.2f}",
            f"{JOBS * worker['window_cpu_per_minute']:.2f}",
            f"{JOBS * worker['peak_mib']:.0f}",
            str(JOBS),
        ),
    ]
    print(table(["waiting", "requests/poll/job", "CPU s/min", "peak MiB", "worker slots"], rows))
    ok_events = triggerer["outcomes"] == ["success"] * JOBS
    print(verdict("every trigger ended with its job's success", ok_events, f"{JOBS} events"))
    print(verdict("at most 2 requests per poll per job", per_poll <= 2.0, f"{per_poll:.2f}"))
    return 0 if ok_events and per_poll <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
