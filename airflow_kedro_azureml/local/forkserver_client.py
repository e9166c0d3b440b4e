"""The local backend's side of the fork server: start it, launch steps, learn how they ended."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import threading
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SERVER_DIED = -1000
FORK_SERVER_MODULE = "airflow_kedro_azureml.local.forkserver"


class ForkServerClient:
    """Talks to one fork server process (``FORK_SERVER_MODULE``)."""

    def __init__(
        self,
        python: str,
        code_dir: Path,
        env: Mapping[str, str],
        pipeline: str,
    ) -> None:
        self.stderr_tail: deque[str] = deque(maxlen=40)
        self._process = subprocess.Popen(
            [python, "-m", FORK_SERVER_MODULE, "--pipeline", pipeline],
            cwd=code_dir,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._lock = threading.Lock()
        self._queues: dict[str, queue.Queue[dict[str, Any]]] = {}
        self._reader = threading.Thread(target=self._read, name="forkserver-reader", daemon=True)
        self._reader.start()
        self._stderr_reader = threading.Thread(
            target=self._read_stderr, name="forkserver-stderr", daemon=True
        )
        self._stderr_reader.start()

    def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        for raw in self._process.stderr:
            self.stderr_tail.append(raw.decode("utf-8", errors="replace").rstrip("\n"))

    def _queue(self, step: str) -> queue.Queue[dict[str, Any]]:
        with self._lock:
            return self._queues.setdefault(step, queue.Queue())

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            message = json.loads(line)
            self._queue(message["step"]).put(message)
        with self._lock:
            waiting = list(self._queues.values())
        for pending in waiting:
            pending.put({"exit": SERVER_DIED})

    def launch(self, step: str, argv: list[str], env: Mapping[str, str], log: Path) -> int | None:
        """Fork ``execute argv`` for ``step``; return its pid (None if the server is gone)."""
        request = {"step": step, "argv": argv, "env": dict(env), "log": str(log)}
        assert self._process.stdin is not None
        try:
            with self._lock:
                self._process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
                self._process.stdin.flush()
        except (BrokenPipeError, OSError):
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
