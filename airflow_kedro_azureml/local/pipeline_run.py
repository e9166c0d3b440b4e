"""Local backend: run the steps of a compiled pipeline job as processes on this machine.

Each step runs the same ``command`` string Azure ML would run, after the same
``${{inputs.X}}`` / ``${{outputs.Y}}`` substitution, through ``bash -c`` in the
code folder. Steps start in dependency order, independent steps in parallel up
to ``max_parallel``; each step's outputs are folders under the run folder. A
failed step stops every step that has not started yet (like Azure ML with
``continue_on_step_failure`` off) and the run ends ``Failed`` naming the step.

Status words are Azure ML's, from the one status module.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from airflow_kedro_azureml.compiler.bindings import (
    PORT_REFERENCE,
    read_parent_input,
    read_parent_output,
)
from airflow_kedro_azureml.compute import EXECUTE_MODULE
from airflow_kedro_azureml.compute.arg_codec import decode_value
from airflow_kedro_azureml.errors import StepRunError
from airflow_kedro_azureml.local.forkserver_client import SERVER_DIED, ForkServerClient
from airflow_kedro_azureml.local.steps import LocalStep, order_steps
from airflow_kedro_azureml.statuses import CANCELED, COMPLETED, FAILED, NOT_STARTED, RUNNING

_ERROR_TAIL_LINES = 40


class LocalPipelineRun:
    """Runs one pipeline job's steps as local processes; start, wait, cancel."""

    def __init__(
        self,
        steps: Sequence[LocalStep],
        *,
        pipeline_inputs: Mapping[str, str],
        code_dir: Path,
        run_dir: Path,
        max_parallel: int = 2,
        on_log: Callable[[str, str], None] | None = None,
        on_status: Callable[[str, str], None] | None = None,
        python_executable: str | None = None,
        fork_server: bool | ForkServerClient = False,
        reused: Mapping[str, Path] | None = None,
        continue_on_step_failure: bool = False,
    ) -> None:
        """``reused`` maps steps that do not run to the folder of an earlier run of the
        same step: they complete at once and offer that run's outputs. With
        ``continue_on_step_failure``, a failed step stops only the steps that depend on it."""
        if max_parallel < 1:
            raise ValueError(f"max_parallel must be at least 1, got {max_parallel}")
        self._steps = order_steps(steps)
        self._pipeline_inputs = dict(pipeline_inputs)
        self._code_dir = Path(code_dir)
        self._run_dir = Path(run_dir)
        self._max_parallel = max_parallel
        self._on_log = on_log or (lambda step, line: None)
        self._on_status = on_status or (lambda step, status: None)
        self._python = python_executable or sys.executable
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._fork_server_enabled = bool(fork_server)
        self._fork_server: ForkServerClient | None = (
            fork_server if isinstance(fork_server, ForkServerClient) else None
        )
        self._forked: dict[str, int] = {}
        self._reused = {name: Path(folder) for name, folder in (reused or {}).items()}
        self._continue_on_step_failure = continue_on_step_failure
        self._timed_out: set[str] = set()
        self._log_tails: dict[str, deque[str]] = {}
        self._cancel_requested = False
        self._thread: threading.Thread | None = None
        self.status = NOT_STARTED
        self.step_statuses: dict[str, str] = {step.name: NOT_STARTED for step in self._steps}
        self.step_errors: dict[str, str] = {}

    # -- public API -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the run in a background thread and return at once."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("this pipeline run was already started")
            self.status = RUNNING
            self._thread = threading.Thread(
                target=self._run_all, name="local-pipeline", daemon=True
            )
        self._thread.start()

    def wait(self, timeout: float | None = None) -> str:
        """Wait until the run ends (or ``timeout`` passes); return the pipeline status."""
        if self._thread is None:
            raise RuntimeError("start() the pipeline run before waiting for it")
        self._thread.join(timeout)
        return self.status

    def run(self) -> str:
        """Run every step and return the final pipeline status."""
        self.start()
        return self.wait()

    def cancel(self) -> None:
        """Stop the running step processes and start no more; the run ends ``Canceled``."""
        with self._changed:
            self._cancel_requested = True
            processes = list(self._processes.values())
            self._changed.notify_all()
            forked = list(self._forked.values())
        for process in processes:
            _terminate(process)
        for pid in forked:
            _terminate_group(pid)

    def output_dir(self, step_name: str, port: str) -> Path:
        """The folder that holds output ``port`` of step ``step_name`` (a reused run's)."""
        if step_name in self._reused:
            return self._reused[step_name] / "outputs" / port
        return self._run_dir / step_name / "outputs" / port

    def log_path(self, step_name: str) -> Path:
        """The file that holds the full log of step ``step_name``."""
        return step_log_path(self._run_dir, step_name)

    def failure_message(self) -> str:
        """A message naming each failed step with the end of its log."""
        parts = [
            f"step {name!r} failed:\n{tail}" for name, tail in sorted(self.step_errors.items())
        ]
        return "\n".join(parts) if parts else ""

    # -- scheduling -------------------------------------------------------------------------

    def _run_all(self) -> None:
        pending = [step for step in self._steps if step.name not in self._reused]
        done: set[str] = set()
        broken: set[str] = set()  # failed steps, and steps that can no longer run after them
        running: dict[str, threading.Thread] = {}
        with self._changed:
            self._complete_reused(done)
            while pending or running:
                stop = self._cancel_requested or (broken and not self._continue_on_step_failure)
                if stop:
                    for step in pending:
                        self._set_status(step.name, CANCELED)
                    pending.clear()
                for step in list(pending):
                    if step.upstream_steps() & broken:
                        # continue_on_step_failure: what depends on a failed step never starts.
                        pending.remove(step)
                        broken.add(step.name)
                        self._set_status(step.name, CANCELED)
                    elif len(running) < self._max_parallel and step.upstream_steps() <= done:
                        pending.remove(step)
                        self._set_status(step.name, RUNNING)
                        worker = threading.Thread(
                            target=self._run_step_thread, args=(step,), daemon=True
                        )
                        running[step.name] = worker
                        worker.start()
                if not running:
                    if pending:
                        continue  # steps were just canceled or unblocked: look again
                    break
                self._changed.wait()
                for name in [n for n in running if self.step_statuses[n] != RUNNING]:
                    running.pop(name)
                    if self.step_statuses[name] == COMPLETED:
                        done.add(name)
                    elif self.step_statuses[name] == FAILED:
                        broken.add(name)
            if self._fork_server is not None:
                self._fork_server.close()
            if self._cancel_requested:
                self.status = CANCELED
            elif any(self.step_statuses[name] == FAILED for name in broken):
                self.status = FAILED
            else:
                self.status = COMPLETED
            self._changed.notify_all()

    def _complete_reused(self, done: set[str]) -> None:
        """Complete the reused steps at once, each log saying which run it reused."""
        for name, folder in self._reused.items():
            log_file = self.log_path(name)
            log_file.parent.mkdir(parents=True, exist_ok=True)
            log_file.write_text(f"reused the completed run in {folder}\n", encoding="utf-8")
            self._set_status(name, COMPLETED)
            done.add(name)

    def _set_status(self, step_name: str, status: str) -> None:
        self.step_statuses[step_name] = status
        self._on_status(step_name, status)

    def _run_step_thread(self, step: LocalStep) -> None:
        try:
            status = self._run_step(step)
        except Exception as error:  # a bug or an OS error must still end the step
            self._log_tails.setdefault(step.name, deque(maxlen=_ERROR_TAIL_LINES)).append(
                f"could not run step: {error!r}"
            )
            status = FAILED
        with self._changed:
            if status == FAILED:
                self.step_errors[step.name] = "\n".join(self._log_tails.get(step.name, ()))
            self._set_status(step.name, status)
            self._changed.notify_all()

    # -- one step ---------------------------------------------------------------------------

    def _run_step(self, step: LocalStep) -> str:
        command = self._substitute(step)
        log_file = self.log_path(step.name)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        env = step_process_env(self._python)
        env.update(step.environment_variables)
        env["AZUREML_RUN_ID"] = step.name
        tail: deque[str] = deque(maxlen=_ERROR_TAIL_LINES)
        self._log_tails[step.name] = tail
        forkable = self._fork_server_enabled and not step.rank_environments
        execute_argv = _execute_argv(command) if forkable else None
        if execute_argv is not None:
            step_env = {
                "PATH": env["PATH"],
                "AZUREML_RUN_ID": step.name,
                **step.environment_variables,
            }
            return self._run_forked(step, execute_argv, env, step_env, log_file, tail)
        return self._run_processes(step, command, env, log_file, tail)

    def _run_forked(
        self,
        step: LocalStep,
        argv: list[str],
        server_env: dict[str, str],
        step_env: dict[str, str],
        log_file: Path,
        tail: deque[str],
    ) -> str:
        """Run an ``execute`` step as a child of the warm fork server, tailing its log."""
        with self._changed:
            if self._cancel_requested:
                return CANCELED
            if self._fork_server is None:
                self._fork_server = ForkServerClient(
                    self._python,
                    self._code_dir,
                    server_env,
                    _argument(argv, "--pipeline"),
                )
            server = self._fork_server
        log_file.write_text(f"{step.notice}\n" if step.notice else "", encoding="utf-8")
        pid = server.launch(step.name, argv, step_env, log_file)
        if pid is None:
            tail.extend(["the fork server stopped:", *server.stderr_tail])
            return FAILED
        with self._changed:
            self._forked[step.name] = pid
            if self._cancel_requested:
                _terminate_group(pid)
        clock = self._start_clock(step, lambda: _terminate_group(pid))
        code: int | None = None
        pending = ""
        with log_file.open("r", encoding="utf-8", errors="replace") as reader:
            while True:
                chunk = reader.readline()
                if chunk:
                    pending += chunk
                    if pending.endswith("\n"):
                        self._emit(step.name, pending.rstrip("\n"), tail)
                        pending = ""
                    continue
                if code is not None:
                    break
                code = server.exit_code(step.name, timeout=0.05)
        if pending:
            self._emit(step.name, pending, tail)
        ended = self._stopped(step, clock, tail, lambda: self._forked.pop(step.name, None))
        if ended is not None:
            return ended
        if code == SERVER_DIED:
            _terminate_group(pid)  # orphaned by the server; stop it too
            tail.extend(["the fork server stopped:", *server.stderr_tail])
            return FAILED
        if code != 0:
            tail.append(f"step {step.name!r} exited with code {code}")
            return FAILED
        return COMPLETED

    def _run_processes(
        self,
        step: LocalStep,
        command: str,
        env: dict[str, str],
        log_file: Path,
        tail: deque[str],
    ) -> str:
        """Run the step's command: once, or once per rank of a distributed step (each with
        its rank's variables). The first process logs to the step log, rank N of a
        distributed step to ``std_log_process_N.txt`` beside it (as Azure ML names them)."""
        ranks = step.rank_environments or ({},)
        processes: list[subprocess.Popen[bytes]] = []
        with self._changed:
            if self._cancel_requested:
                return CANCELED
            for rank, variables in enumerate(ranks):
                output: Any = subprocess.PIPE
                if rank:
                    output = (log_file.parent / f"std_log_process_{rank}.txt").open("wb")
                process = subprocess.Popen(
                    ["bash", "-c", command],
                    cwd=self._code_dir,
                    env={**env, **variables},
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                if rank:
                    output.close()
                processes.append(process)
                self._processes[f"{step.name}#{rank}"] = process

        def stop_all() -> None:
            for process in processes:
                _terminate(process)

        def forget() -> None:
            for rank in range(len(processes)):
                self._processes.pop(f"{step.name}#{rank}", None)

        clock = self._start_clock(step, stop_all)
        leader = processes[0]
        assert leader.stdout is not None
        with log_file.open("w", encoding="utf-8") as log:
            if step.notice:
                log.write(step.notice + "\n")
                self._emit(step.name, step.notice, tail)
            for raw in leader.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                log.write(line + "\n")
                self._emit(step.name, line, tail)
        codes = [process.wait() for process in processes]
        ended = self._stopped(step, clock, tail, forget)
        if ended is not None:
            return ended
        if len(codes) == 1 and codes[0] != 0:
            tail.append(f"step {step.name!r} exited with code {codes[0]}")
            return FAILED
        failed = [(rank, code) for rank, code in enumerate(codes) if code != 0]
        for rank, code in failed:
            tail.append(f"process {rank} of distributed step {step.name!r} exited with code {code}")
        return FAILED if failed else COMPLETED

    def _stopped(
        self,
        step: LocalStep,
        clock: threading.Timer | None,
        tail: deque[str],
        forget: Callable[[], object],
    ) -> str | None:
        """After the step's processes ended: CANCELED or FAILED (its time limit) when that
        is why they ended, None when their exit codes tell. ``forget`` drops them."""
        if clock is not None:
            clock.cancel()
        with self._changed:
            forget()
            if self._cancel_requested:
                return CANCELED
        if step.name in self._timed_out:
            tail.append(_timed_out_line(step))
            return FAILED
        return None

    def _start_clock(self, step: LocalStep, stop: Callable[[], None]) -> threading.Timer | None:
        """Stop the step when its ``timeout`` passes (Azure ML's ``limits.timeout``)."""
        if step.timeout is None:
            return None

        def expire() -> None:
            with self._changed:
                self._timed_out.add(step.name)
            stop()

        clock = threading.Timer(step.timeout, expire)
        clock.daemon = True
        clock.start()
        return clock

    def _emit(self, step_name: str, line: str, tail: deque[str]) -> None:
        tail.append(line)
        self._on_log(step_name, line)

    def _substitute(self, step: LocalStep) -> str:
        values: dict[tuple[str, str], str] = {}
        for port, binding in step.inputs.items():
            values[("inputs", port)] = self._resolve_input(step.name, port, binding)
        for port in step.outputs:
            folder = self.output_dir(step.name, port)
            folder.mkdir(parents=True, exist_ok=True)
            values[("outputs", port)] = str(folder)

        def replace(match: re.Match[str]) -> str:
            key = (match.group(1), match.group(2))
            if key not in values:
                raise StepRunError(
                    f"step {step.name!r} command uses ${{{{{key[0]}.{key[1]}}}}}, "
                    f"which the step does not declare"
                )
            return shlex.quote(values[key])

        return PORT_REFERENCE.sub(replace, step.command)

    def _resolve_input(self, step_name: str, port: str, binding: str) -> str:
        source = read_parent_output(binding)
        if source is not None:
            return str(self.output_dir(*source))
        name = read_parent_input(binding)
        if name is not None:
            if name not in self._pipeline_inputs:
                raise StepRunError(
                    f"step {step_name!r} input {port!r} is bound to pipeline input {name!r}, "
                    "which the pipeline job does not define"
                )
            return self._pipeline_inputs[name]
        return binding


# Airflow's connections, variables and configuration (which can hold secrets: a client
# secret, the metadata database URL, the fernet key) never reach a step, as on Azure ML.
WITHHELD_FROM_STEPS = ("AIRFLOW_CONN_", "AIRFLOW_VAR_", "AIRFLOW__")


def step_log_path(run_dir: Path, step_name: str) -> Path:
    """The full log of step ``step_name`` of the local run in ``run_dir`` (as on Azure ML)."""
    return run_dir / step_name / "user_logs" / "std_log.txt"


def step_process_env(python: str) -> dict[str, str]:
    """The environment of a step process: this one's, less Airflow's connections, variables
    and configuration, with ``python``'s folder first on PATH."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(WITHHELD_FROM_STEPS)
    }
    env["PATH"] = str(Path(python).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _execute_argv(command: str) -> list[str] | None:
    """The arguments of a ``python -m <EXECUTE_MODULE> ...`` command, else None."""
    words = shlex.split(command)
    if words[:3] == ["python", "-m", EXECUTE_MODULE]:
        return words[3:]
    return None


def _argument(argv: list[str], name: str) -> str:
    return decode_value(argv[argv.index(name) + 1])


def _timed_out_line(step: LocalStep) -> str:
    return (
        f"step {step.name!r} ran longer than its limits.timeout of {step.timeout:g} s "
        "and was stopped"
    )


def _terminate_group(pid: int) -> None:
    """Stop a forked step, which leads its own process group."""
    try:
        os.killpg(pid, 15)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, 9)


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """Stop a step process and everything it started."""
    try:
        os.killpg(process.pid, 15)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
