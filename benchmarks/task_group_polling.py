"""Task group polling: Azure ML requests per poll interval while a 10- and a 200-step job runs.

What: for N = 10 and 200, a throw-away Kedro project whose pipeline has N trivial nodes
(a source, four namespaced chains, a fan-in) is compiled with
``kedro azureml compile --node-grouping none --manifest FILE`` (one step per node), and
a ``KedroAzureMLTaskGroup`` is drawn from that manifest. Against the package's HTTPS
emulator of the Azure ML REST API (steps run there as local processes, 2 at a time):

- the group's ``submit`` task (``KedroAzureMLSubmitOperator.execute``, watching in the
  worker: the group drawn with ``deferrable=False`` for it) runs in a thread with a
  stand-in task instance whose ``xcom_push`` keeps the values in memory (as JSON);
  it compiles, submits the ONE job, watches it every ``POLL`` seconds and publishes the
  job state to the XCom ``azureml_job_state``;
- at the same time, the N step tasks run as Airflow runs them: ``execute`` (which
  defers), their N ``KedroAzureMLStepTrigger``s in ONE asyncio loop (a triggerer), and
  ``execute_complete`` when a trigger fires. Their ``look`` is replaced by one that reads
  the in-memory XCom and the submit thread's state: it stands in for Airflow's API, not
  for Azure ML. Each resume gets a new hook, as a new task process would. All N step
  tasks start at once, the most a triggerer can hold for one group (Airflow starts a step
  task once the step tasks upstream of it succeeded, so fewer wait at a time).

Counted: the emulator's recorded requests, by path, from the submit task's first look at
the job to its last, per ``POLL``-second interval; and, on the client side, which thread
sent each request (submit task, triggers, step tasks after their step ended). Baseline,
same run: N independent pollers, each with its own hook calling ``get_job_state`` on the
same job once per interval (what N sensors or N single-job tasks would do), run for real
at 10 and taken as 2 requests x N at 200: 200 SDK clients listing 200 steps every second
do not fit on 2 cores (the script times one look alone at each size, client CPU included,
to show what they would need).

Usage: ``.venv/bin/python benchmarks/task_group_polling.py [--sizes 10 200] [--poll 1.0]``
(about 5 minutes on 2 cores, most of it the 200 steps' processes; ``--quick``: 10 steps
only, under a minute)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._bench import (  # noqa: E402
    KEDRO,
    child_env,
    emulated_workspace,
    machine_note,
    table,
)

RUN_ID = "manual__2026-01-01T00:00:00+00:00"
BASELINE_INTERVALS = 10
BRANCHES = 4

NODES = """
def load(raw):
    return sum(raw)


def step(value):
    return value + 1


def combine(first, second, third, fourth):
    return first + second + third + fourth
"""

# ``{package}`` is filled by write_project; doubled braces are the registry's own.
REGISTRY = """
from kedro.pipeline import Pipeline, node
from {package} import nodes

SIZE = @SIZE@
BRANCHES = @BRANCHES@


def register_pipelines():
    chained = SIZE - 2
    lengths = [chained // BRANCHES + (1 if b < chained % BRANCHES else 0) for b in range(BRANCHES)]
    made = [node(nodes.load, "raw", "base", name="load")]
    ends = []
    for branch, length in enumerate(lengths):
        previous = "base"
        for depth in range(length):
            output = f"part_{{branch}}.value_{{depth:03d}}"
            made.append(
                node(nodes.step, previous, output, name=f"step_{{depth:03d}}",
                     namespace=f"part_{{branch}}")
            )
            previous = output
        ends.append(previous)
    made.append(node(nodes.combine, ends, "total", name="combine"))
    pipeline = Pipeline(made)
    return {{"__default__": pipeline, "bench": pipeline}}
"""


# -- who sent what ------------------------------------------------------------------------------


@dataclass
class Sent:
    """One HTTP request this process sent: when, from which thread, what."""

    at: float
    thread: str
    method: str
    url: str


class Senders:
    """Records every request sent through ``requests`` (the SDK's transport, MSAL, log reads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[Sent] = []

    def install(self) -> None:
        import requests

        original = requests.sessions.Session.send
        senders = self

        def send(session: Any, request: Any, **kwargs: Any) -> Any:
            with senders._lock:
                senders.sent.append(
                    Sent(time.time(), threading.current_thread().name, request.method, request.url)
                )
            return original(session, request, **kwargs)

        requests.sessions.Session.send = send  # type: ignore[method-assign,assignment]

    def between(self, start: float, end: float) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if start <= s.at <= end]


def source_of(thread: str) -> str:
    """The part of the set-up a thread belongs to (by the names given below)."""
    for prefix in ("submit", "triggerer", "step-task", "poller"):
        if thread.startswith(prefix):
            return prefix
    return f"other ({thread})"


def kind_of(method: str, path: str, job: str) -> str:
    """A short name for a recorded request."""
    if path.endswith(f"/jobs/{job}") and method == "GET":
        return "job GET"
    if path.endswith(f"/runs/{job}/children"):
        return "step listing"
    if "openid-configuration" in path:
        return "authority metadata"
    if "/oauth2/" in path:
        return "token"
    if path.startswith("/discovery/"):
        return "workspace discovery"
    if path.startswith("/history/") and "/runs/" in path:
        return "step run details"
    if path.startswith("/logs/") or (path.startswith("/emulatorstorage/") and method == "GET"):
        return "step log read"
    if path.rsplit("/", 2)[-2] == "workspaces":
        return "workspace GET"
    return f"other {method} {path[-40:]}"


def quiet_logs() -> None:
    """Task logs off (Airflow sets up structlog when it is first used: set it again after)."""
    import structlog

    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))


# -- the project, its manifest and the group ----------------------------------------------------


def write_pipeline_project(root: Path, size: int) -> Path:
    """A Kedro project whose ``bench`` pipeline has ``size`` trivial nodes."""
    from tests.conftest import write_project

    name = f"polling_{uuid.uuid4().hex[:8]}"
    registry = REGISTRY.replace("@SIZE@", str(size)).replace("@BRANCHES@", str(BRANCHES))
    return write_project(
        root / name,
        name,
        nodes=NODES,
        registry=registry,
        catalog={"raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"}},
    )


def write_manifest(project: Path, manifest: Path) -> None:
    """``kedro azureml compile --node-grouping none --manifest`` in the project's folder."""
    command = [KEDRO, "azureml", "compile", "--pipeline", "bench", "--node-grouping", "none"]
    done = subprocess.run(
        [*command, "--manifest", str(manifest)],
        cwd=project,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"compile failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def draw_group(manifest: Path, project: Path, poll: float, deferrable: bool) -> Any:
    """A DAG with one ``KedroAzureMLTaskGroup`` drawn from ``manifest`` (as a DAG file would)."""
    import pendulum
    from airflow.sdk import DAG

    from airflow_kedro_azureml.task_groups import KedroAzureMLTaskGroup

    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    with DAG("task_group_polling", schedule=None, start_date=start):
        return KedroAzureMLTaskGroup(
            group_id="pipeline",
            manifest=manifest,
            project_path=project,
            poll_interval=poll,
            deferrable=deferrable,
        )


# -- Airflow's side, in memory --------------------------------------------------------------------


class XComStore:
    """XComs of one task, kept as JSON text as Airflow stores them."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def push(self, key: str, value: Any) -> None:
        text = json.dumps(value)
        with self._lock:
            self._values[key] = text

    def get(self, key: str) -> Any:
        with self._lock:
            text = self._values.get(key)
        return None if text is None else json.loads(text)


@dataclass
class TaskInstance:
    """What the operators read of a task instance; ``xcom_push`` goes to ``store``."""

    store: XComStore = field(default_factory=XComStore)
    run_id: str = RUN_ID
    map_index: int = -1
    try_number: int = 1

    def xcom_push(self, key: str, value: Any) -> None:
        self.store.push(key, value)


class SubmitTask:
    """The group's submit task, its ``execute`` in a thread named ``submit-task``."""

    def __init__(self, operator: Any) -> None:
        from tests.operators.task_thread import DagRunStub

        self.operator = operator
        self.ti = TaskInstance()
        self.state = "running"
        self.error: BaseException | None = None
        self.ended_at: float | None = None
        self._context = {"ti": self.ti, "dag_run": DagRunStub()}
        self.thread = threading.Thread(target=self._execute, name="submit-task", daemon=True)
        self.thread.start()

    def _execute(self) -> None:
        try:
            self.operator.execute(self._context)
            self.state = "success"
        except BaseException as error:
            self.error = error
            self.state = "failed"
        self.ended_at = time.time()


@dataclass
class StepOutcome:
    """How one step task ended."""

    deferred: bool
    event: dict[str, Any] | None
    result: str
    resumed_at: float | None = None
    resume_seconds: float = 0.0


class Triggerer:
    """The N step tasks: ``execute``, then their triggers in ONE asyncio loop, then resume."""

    def __init__(self, group: Any, submit: SubmitTask) -> None:
        self.group = group
        self.submit = submit
        self.looks: list[float] = []
        self._counting = threading.Lock()
        self.deferred_now = 0
        self.deferred_max = 0
        self.outcomes: dict[str, StepOutcome] = {}

    def look(self, dag_id: str, run_id: str, submit_task_id: str, step_name: str) -> Any:
        """Stand-in for the two reads of Airflow's API: the submit task's XCom and state."""
        from airflow_kedro_azureml.published_job import JOB_STATE_XCOM_KEY, PublishedJob
        from airflow_kedro_azureml.step_lookup import StepLook

        if threading.current_thread().name.startswith("triggerer"):  # not a step task's own
            with self._counting:
                self.looks.append(time.time())
        data = self.submit.ti.store.get(JOB_STATE_XCOM_KEY)
        job = PublishedJob.from_xcom(data) if isinstance(data, dict) else None
        return StepLook(job, self.submit.state, step_name)

    def run(self) -> None:
        """Run every step task to its end (call in a thread named ``triggerer``)."""
        asyncio.run(self._all())

    async def _all(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(4, thread_name_prefix="triggerer-look"))
        # One worker slot: step tasks start and resume one at a time (each resume builds a
        # new hook, as a new task process would).
        with ThreadPoolExecutor(1, thread_name_prefix="step-task") as worker:
            await asyncio.gather(
                *(self._follow(name, task, worker) for name, task in self.group.step_tasks.items())
            )

    async def _follow(self, name: str, task: Any, worker: ThreadPoolExecutor) -> None:
        from airflow.sdk.exceptions import TaskDeferred

        from airflow_kedro_azureml.triggers.pipeline_step import KedroAzureMLStepTrigger

        loop = asyncio.get_running_loop()
        context = {"ti": TaskInstance()}
        first = await loop.run_in_executor(worker, _call, task.execute, context)
        if not isinstance(first, TaskDeferred):
            self.outcomes[name] = StepOutcome(False, None, _result(first), time.time())
            return
        _path, kwargs = first.trigger.serialize()  # the triggerer rebuilds it from this
        trigger = KedroAzureMLStepTrigger(**kwargs)
        self.deferred_now += 1
        self.deferred_max = max(self.deferred_max, self.deferred_now)
        event: dict[str, Any] = {}
        async for fired in trigger.run():
            event = dict(fired.payload)
            break
        self.deferred_now -= 1
        resumed_at = time.time()

        def resume() -> Any:
            submit = task.dag.get_task(task.submit_task_id)
            submit._hook = None  # a new task process: a new hook and credential
            started = time.perf_counter()
            outcome = _call(task.execute_complete, context, event)
            return outcome, time.perf_counter() - started

        outcome, seconds = await loop.run_in_executor(worker, resume)
        self.outcomes[name] = StepOutcome(True, event, _result(outcome), resumed_at, seconds)


def _call(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``, or the exception it raised (``TaskDeferred`` is a BaseException)."""
    try:
        return function(*args)
    except BaseException as error:
        return error


def _result(outcome: Any) -> str:
    if isinstance(outcome, BaseException):
        return f"{type(outcome).__name__}: {str(outcome)[:200]}"
    if isinstance(outcome, dict):
        return str(outcome.get("status"))
    return str(outcome)


# -- one size -------------------------------------------------------------------------------------


@dataclass
class Measured:
    """The figures of one size."""

    size: int
    job: str
    job_seconds: float
    intervals: float
    by_kind: Counter[str]
    by_source: Counter[str]
    per_interval: list[int]
    submit_looks: int
    look_period: float
    trigger_looks: int
    deferred_max: int
    step_task_requests: Counter[str]
    step_task_kinds: Counter[str]
    outcomes: Counter[str]
    resumes: int
    resume_seconds: float
    baseline: dict[str, Any] | None = None
    one_look: tuple[float, float] = (0.0, 0.0)


def measure(size: int, scratch: Path, emulator: Any, senders: Senders, poll: float) -> Measured:
    from airflow_kedro_azureml.operators import pipeline_step as step_operator_module
    from airflow_kedro_azureml.triggers import pipeline_step as step_trigger_module

    project = write_pipeline_project(scratch, size)
    manifest = scratch / f"manifest_{size}.json"
    write_manifest(project, manifest)
    # The submit task's process (it watches in the worker), and the step tasks' (they defer).
    submit_group = draw_group(manifest, project, poll, deferrable=False)
    steps_group = draw_group(manifest, project, poll, deferrable=True)
    if len(steps_group.step_tasks) != size:
        raise SystemExit(f"the manifest has {len(steps_group.step_tasks)} steps, not {size}")

    quiet_logs()
    emulator.reset_requests()
    submit = SubmitTask(submit_group.submit_task)
    triggerer = Triggerer(steps_group, submit)
    step_operator_module.look = triggerer.look
    step_trigger_module.look = triggerer.look
    loop_thread = threading.Thread(target=triggerer.run, name="triggerer", daemon=True)
    loop_thread.start()
    submit.thread.join(timeout=900)
    loop_thread.join(timeout=120)
    if submit.thread.is_alive() or loop_thread.is_alive():
        raise SystemExit("the job or the step tasks did not end in time")
    if submit.error is not None:
        raise SystemExit(f"the submit task failed: {submit.error!r}")
    finished = time.time()

    job = str(submit.ti.store.get("azureml_job_name"))
    recorded = emulator.requests()
    looks = [r for r in recorded if r.method == "GET" and r.path.endswith(f"/jobs/{job}")]
    put = next(r for r in recorded if r.method == "PUT" and r.path.endswith(f"/jobs/{job}"))
    watching = [r for r in looks if r.started_at > put.started_at]
    start, end = watching[0].started_at, submit.ended_at or finished
    intervals = (end - start) / poll
    in_window = [r for r in recorded if start <= r.started_at <= end]
    by_kind = Counter(kind_of(r.method, r.path, job) for r in in_window)
    buckets = Counter(
        min(int((r.started_at - start) / poll), math.ceil(intervals) - 1) for r in in_window
    )
    per_interval = [buckets.get(i, 0) for i in range(math.ceil(intervals))]
    by_source = Counter(source_of(s.thread) for s in senders.between(start, end))
    after_submission = senders.between(put.started_at + put.duration, finished)
    step_sent = [s for s in after_submission if source_of(s.thread) == "step-task"]
    resumed = [o for o in triggerer.outcomes.values() if o.deferred]
    return Measured(
        size=size,
        job=job,
        job_seconds=end - start,
        intervals=intervals,
        by_kind=by_kind,
        by_source=by_source,
        per_interval=per_interval,
        submit_looks=len(watching),
        look_period=statistics.median(b.started_at - a.started_at for a, b in pairwise(watching)),
        trigger_looks=len([at for at in triggerer.looks if start <= at <= end]),
        deferred_max=triggerer.deferred_max,
        step_task_requests=Counter(source_of(s.thread) for s in after_submission),
        step_task_kinds=Counter(kind_of(s.method, urlsplit(s.url).path, job) for s in step_sent),
        outcomes=Counter(o.result for o in triggerer.outcomes.values()),
        resumes=len(resumed),
        resume_seconds=statistics.median(o.resume_seconds for o in resumed) if resumed else 0.0,
    )


def baseline(count: int, job: str, emulator: Any, senders: Senders, poll: float) -> dict[str, Any]:
    """``count`` independent pollers of ``job``, each its own hook, for a few intervals."""
    from airflow_kedro_azureml.hooks.azureml import AzureMLHook

    ready = threading.Barrier(count + 1)
    go = threading.Event()
    stop = threading.Event()
    looks: Counter[str] = Counter()

    def poller(index: int) -> None:
        hook = AzureMLHook()
        hook.get_job_state(job)  # start-up: token, client, first look (not counted)
        ready.wait()
        go.wait()
        while not stop.is_set():
            hook.get_job_state(job)
            looks[f"poller-{index}"] += 1
            stop.wait(poll)

    threads = [
        threading.Thread(target=poller, args=(i,), name=f"poller-{i}", daemon=True)
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    ready.wait(timeout=300)
    emulator.reset_requests()
    start = time.time()
    go.set()
    time.sleep(BASELINE_INTERVALS * poll)
    stop.set()
    end = time.time()
    for thread in threads:
        thread.join(timeout=60)
    recorded = [r for r in emulator.requests() if r.started_at <= end]
    total_looks = sum(looks.values())
    return {
        "requests": len(recorded),
        "intervals": (end - start) / poll,
        "looks": total_looks,
        "per_look": len(recorded) / max(total_looks, 1),
        "kinds": Counter(kind_of(r.method, r.path, job) for r in recorded),
        "sent": len([s for s in senders.between(start, end) if source_of(s.thread) == "poller"]),
    }


def one_look(job: str, looks: int = 7) -> tuple[float, float]:
    """Median wall and client CPU seconds of one ``get_job_state`` of ``job``, nothing else
    running (a fresh hook; its first look, which sets the client up, is left out)."""
    from airflow_kedro_azureml.hooks.azureml import AzureMLHook

    hook = AzureMLHook()
    hook.get_job_state(job)
    walls, cpus = [], []
    for _ in range(looks):
        wall, cpu = time.perf_counter(), time.thread_time()
        hook.get_job_state(job)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.thread_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


# -- report ---------------------------------------------------------------------------------------


def report(results: list[Measured], poll: float) -> None:
    print(f"\nRequests to Azure ML while the job runs, per {poll:g} s poll interval")
    rows = []
    for m in results:
        looked = m.by_kind["job GET"] + m.by_kind["step listing"]
        polling = looked / m.intervals
        if m.baseline is not None:
            base_rate = m.baseline["requests"] / m.baseline["intervals"]
            base_text = f"{base_rate:.2f} (measured)"
        else:
            base_rate = 2.0 * m.size
            base_text = f"{base_rate:.0f} (2 x {m.size}, arithmetic)"
        rows.append(
            [
                f"{m.size} steps",
                f"{m.job_seconds:.0f}",
                f"{m.submit_looks}",
                f"{m.look_period:.2f}",
                f"{looked / m.submit_looks:.2f}",
                f"{polling:.2f}",
                base_text,
                f"{base_rate / polling:.1f}x",
                f"{sum(m.by_kind.values()) / m.intervals:.2f}",
                f"{max(m.per_interval)}",
            ]
        )
    print(
        table(
            [
                "job",
                "watched s",
                "looks",
                "look every s",
                "polling req/look",
                "polling req/interval",
                "N pollers req/interval",
                "N pollers / group",
                "all req/interval",
                "max in one interval",
            ],
            rows,
        )
    )
    print(
        "looks, polling: the submit task's looks at the job (a job GET and a step listing each; "
        "it sleeps one interval after each look); all: every request recorded in the window, "
        "the submit task's first-look set-up and the step tasks' one-offs included"
    )

    print("\nEvery request in the window: what it was (recorded) and who sent it (client side)")
    rows = []
    for m in results:
        rows.append(
            [
                f"{m.size} steps",
                f"{sum(m.by_kind.values())}",
                ", ".join(f"{kind} {n}" for kind, n in sorted(m.by_kind.items())),
                ", ".join(f"{source} {n}" for source, n in sorted(m.by_source.items())),
            ]
        )
    print(table(["job", "requests", "by kind", "by sender thread"], rows))

    print("\nThe step tasks and their triggers, submission to the last step task's end")
    rows = []
    for m in results:
        from_triggers = m.step_task_requests.get("triggerer", 0)
        from_steps = m.step_task_requests.get("step-task", 0)
        rows.append(
            [
                f"{m.size} steps",
                ", ".join(f"{k} {n}" for k, n in sorted(m.outcomes.items())),
                f"{m.resumes}",
                f"{m.deferred_max}",
                f"{m.trigger_looks / m.intervals:.1f}",
                f"{from_triggers}",
                f"{from_steps} ({from_steps / m.size:.2f} per step)",
                f"{m.resume_seconds * 1000:.0f}",
            ]
        )
    print(
        table(
            [
                "job",
                "step tasks ended",
                "resumed",
                "deferred at once (max)",
                "trigger looks/interval",
                "Azure ML req. by triggers",
                "Azure ML req. by step tasks",
                "resume ms (median)",
            ],
            rows,
        )
    )
    for m in results:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(m.step_task_kinds.items()))
        print(f"{m.size} steps, the step tasks' requests: {kinds or 'none'}")
    for m in results:
        if m.baseline is not None:
            b = m.baseline
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(b["kinds"].items()))
            print(
                f"\nBaseline at {m.size}: {m.size} pollers, {b['looks']} looks in "
                f"{b['intervals']:.1f} intervals, {b['requests']} requests ({kinds}): "
                f"{b['per_look']:.2f} per look; {b['sent']} sent by the pollers (client side)"
            )
    print()
    for m in results:
        wall, cpu = m.one_look
        print(
            f"One get_job_state of the {m.size}-step job alone: {wall * 1000:.0f} ms, "
            f"{cpu * 1000:.0f} ms of client CPU: {m.size} pollers would need "
            f"{m.size * cpu:.2f} CPU s per {poll:g} s interval"
        )
    print(
        "\nTrigger looks are reads of Airflow's API (the stand-in here: two reads per look), "
        "never Azure ML. The step tasks' requests come from each one's resume after its step "
        "ended: a new hook (token, workspace) and the step's log tail."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 200])
    parser.add_argument("--poll", type=float, default=1.0, help="poll interval, seconds")
    parser.add_argument("--quick", action="store_true", help="10 steps only")
    options = parser.parse_args()
    sizes = [10] if options.quick else options.sizes
    quiet_logs()
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
    os.environ["TQDM_DISABLE"] = "1"  # the SDK's upload progress bar

    print(machine_note())
    print(f"poll interval {options.poll:g} s; sizes {sizes}; steps run 2 at a time\n")
    senders = Senders()
    senders.install()
    results = []
    with tempfile.TemporaryDirectory(prefix="task_group_polling_") as scratch:
        for size in sizes:
            with emulated_workspace() as emulator:
                began = time.monotonic()
                measured = measure(size, Path(scratch), emulator, senders, options.poll)
                print(
                    f"{size} steps: job {measured.job} watched {measured.job_seconds:.0f} s "
                    f"({time.monotonic() - began:.0f} s with compile and submission)",
                    flush=True,
                )
                measured.one_look = one_look(measured.job)
                if size <= 10:
                    measured.baseline = baseline(
                        size, measured.job, emulator, senders, options.poll
                    )
                results.append(measured)
    report(results, options.poll)
    print("\n" + machine_note())
    bad = [m for m in results if set(m.outcomes) != {"Completed"}]
    from_triggers = sum(m.step_task_requests.get("triggerer", 0) for m in results)
    return 1 if bad or from_triggers else 0


if __name__ == "__main__":
    sys.exit(main())
