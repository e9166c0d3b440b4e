"""The local backend's side of the fork server: start it, launch steps, learn how they ended."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_kedro_azureml.compiler.child import CompileRequest, CompileResult

SERVER_DIED = -1000
FORK_SERVER_MODULE = "airflow_kedro_azureml.local.forkserver"


COMPILE_STEP = "__compile__"  # forkserver.COMPILE_STEP (that module is not imported here)


class ForkServerClient:
    """Talks to one fork server process (``FORK_SERVER_MODULE``).

    With ``pipeline`` it preloads that pipeline of the project in ``cwd``; without,
    it waits for ``compile()`` and warms up with what the compile imported.
    """

    def __init__(
        self,
        python: str,
        cwd: Path,
        env: Mapping[str, str],
        pipeline: str | None,
        process: _ServerProcess | None = None,
    ) -> None:
        self.stderr_tail: deque[str] = deque(maxlen=40)
        self.on_stderr: Callable[[str], None] | None = None
        start = ["--pipeline", pipeline] if pipeline is not None else ["--compile"]
        self._process: _ServerProcess = process or subprocess.Popen(
            [python, "-m", FORK_SERVER_MODULE, *start],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._lock = threading.Lock()
        self._server_gone = False
        self._queues: dict[str, queue.Queue[dict[str, Any]]] = {}
        self._reader = threading.Thread(target=self._read, name="forkserver-reader", daemon=True)
        self._reader.start()
        self._stderr_reader = threading.Thread(
            target=self._read_stderr, name="forkserver-stderr", daemon=True
        )
        self._stderr_reader.start()

    @classmethod
    def fork_of_this_process(
        cls, cwd: Path, env: Mapping[str, str], project_path: Path, preload_mlflow: bool = True
    ) -> ForkServerClient | None:
        """A server forked from this process, with everything it has imported already warm.

        For a process that has just compiled the project itself (``kedro azureml
        run-local``): the server then skips a new interpreter, Kedro's import and the
        project's. None when forking would not be safe (another thread is running,
        or the platform has no ``fork``); start a server the usual way then.
        """
        if not hasattr(os, "fork") or threading.active_count() != 1:
            return None
        to_server, from_server, server_errors = os.pipe(), os.pipe(), os.pipe()
        pid = os.fork()
        if pid == 0:  # the server: it never returns from here
            from airflow_kedro_azureml.local.forkserver import serve_in_fork

            os.close(to_server[1])
            os.close(from_server[0])
            os.close(server_errors[0])
            serve_in_fork(
                to_server[0],
                from_server[1],
                server_errors[1],
                cwd,
                env,
                project_path,
                preload_mlflow,
            )
        os.close(to_server[0])
        os.close(from_server[1])
        os.close(server_errors[1])
        process = _ForkedServer(pid, to_server[1], from_server[0], server_errors[0])
        return cls("", cwd, env, None, process=process)

    def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        for raw in self._process.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.stderr_tail.append(line)
            if self.on_stderr is not None:
                self.on_stderr(line)

    def _queue(self, step: str) -> queue.Queue[dict[str, Any]]:
        with self._lock:
            pending = self._queues.get(step)
            if pending is None:
                pending = self._queues[step] = queue.Queue()
                if self._server_gone:  # nothing will answer: say so at once
                    pending.put({"exit": SERVER_DIED})
            return pending

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            message = json.loads(line)
            self._queue(message["step"]).put(message)
        with self._lock:
            self._server_gone = True
            waiting = list(self._queues.values())
        for pending in waiting:
            pending.put({"exit": SERVER_DIED})

    def compile(self, request: CompileRequest, warm: bool | None = None) -> CompileResult:
        """Have the server open the project and compile (then warm up, if ``warm``).

        ``warm`` None: as the project's ``execution.local.fork_server`` says. Raises
        what the compile raised, or ``CompileChildError`` if the server died.
        """
        from airflow_kedro_azureml.compiler.child import (
            CompileChildError,
            encode_request,
            result_of,
        )

        if not self._send({"compile": encode_request(request), "warm": warm}):
            message: dict[str, Any] = {}
        else:
            message = self._queue(COMPILE_STEP).get()
        if "compiled" not in message:
            tail = "\n".join(self.stderr_tail)
            raise CompileChildError(
                "the fork server stopped before it compiled the project"
                + (f":\n{tail}" if tail else "")
            )
        return result_of(message["compiled"])

    def _send(self, request: dict[str, Any]) -> bool:
        """Write one request; False if the server is gone."""
        assert self._process.stdin is not None
        try:
            with self._lock:
                self._process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
                self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def launch(self, step: str, argv: list[str], env: Mapping[str, str], log: Path) -> int | None:
        """Fork ``execute argv`` for ``step``; return its pid (None if the server is gone)."""
        request = {"step": step, "argv": argv, "env": dict(env), "log": str(log)}
        if not self._send(request):
            return None
        message = self._queue(step).get()
        return message.get("pid")

    def exit_code(self, step: str, timeout: float) -> int | None:
        """The step's exit code once it ended, or None if it is still running after ``timeout``."""
        try:
            message = self._queue(step).get(timeout=timeout)
        except queue.Empty:
            return None
        return int(message["exit"])

    def close(self) -> None:
        """Let the server finish and stop."""
        try:
            if self._process.stdin is not None:
                self._process.stdin.close()
            self._process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()

    def kill(self) -> None:
        """Stop the server and every step it forked."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, 9)


class _ForkedServer:
    """The parts of ``subprocess.Popen`` the client uses, for a server made by ``os.fork``."""

    def __init__(self, pid: int, stdin: int, stdout: int, stderr: int) -> None:
        self.pid = pid
        self.stdin: IO[bytes] | None = os.fdopen(stdin, "wb")
        self.stdout: IO[bytes] | None = os.fdopen(stdout, "rb")
        self.stderr: IO[bytes] | None = os.fdopen(stderr, "rb")
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        """Reap the server; ``subprocess.TimeoutExpired`` if it is still running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, 0 if deadline is None else os.WNOHANG)
            if pid != 0:
                self.returncode = os.waitstatus_to_exitcode(status)
                break
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"fork server {self.pid}", timeout or 0)
            time.sleep(0.02)
        return self.returncode


_ServerProcess = subprocess.Popen[bytes] | _ForkedServer
