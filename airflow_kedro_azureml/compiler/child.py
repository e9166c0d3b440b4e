"""Compile in a child process, so the caller never imports the project's own modules.

A Kedro project's node modules import whatever its nodes need (pandas,
scikit-learn, torch...): hundreds of MiB that an Airflow task would carry for
the whole run, although it only submits the job and waits. The child opens the
project, compiles, and hands back the opened project (its settings) and the
compiled pipeline, both plain data, pickled over a pipe::

    result = compile_in_child(CompileRequest(Path("."), None, {}, CompileOptions("training")))
    result.project.config, result.compiled.steps

``python -m airflow_kedro_azureml.compiler.child`` reads one pickled
``CompileRequest`` on stdin and writes one answer on stdout; what it logs goes
to stderr. The local backend's fork server answers the same requests with the
same functions (it keeps the imports warm for the steps it then forks).
"""

from __future__ import annotations

import base64
import os
import pickle
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml.errors import KedroAzureMLError

if TYPE_CHECKING:
    from airflow_kedro_azureml.compiler.job_compiler import CompileOptions
    from airflow_kedro_azureml.compiler.kedro_project import KedroProject
    from airflow_kedro_azureml.compiler.spec import CompiledPipeline

CHILD_MODULE = "airflow_kedro_azureml.compiler.child"


@dataclass(frozen=True)
class CompileRequest:
    """Which project to open, with which runtime params, and what to compile (None: nothing)."""

    project_path: Path
    env: str | None
    runtime_params: dict[str, Any] = field(default_factory=dict)
    options: CompileOptions | None = None


@dataclass(frozen=True)
class CompileResult:
    """The opened project (its azureml.yml settings) and the compiled pipeline, if asked for."""

    project: KedroProject
    compiled: CompiledPipeline | None


class CompileChildError(RuntimeError):
    """The compile child failed in a way that is not a problem of the project (a crash)."""


def carry_out(request: CompileRequest) -> CompileResult:
    """Open the project and compile, in this process."""
    from airflow_kedro_azureml.compiler.job_compiler import compile_pipeline
    from airflow_kedro_azureml.compiler.kedro_project import open_project
    from airflow_kedro_azureml.compute.warning_filters import quiet_config_loader_warnings

    quiet_config_loader_warnings()
    project = open_project(
        request.project_path, env=request.env, runtime_params=request.runtime_params
    )
    compiled = None if request.options is None else compile_pipeline(project, request.options)
    return CompileResult(project, compiled)


def answer_for(request: CompileRequest) -> tuple[str, CompileResult | None]:
    """The encoded answer to ``request``, and the result when it succeeded.

    The package's own errors (a bad config, an unknown pipeline...) travel as
    themselves, so the caller raises exactly what an in-process compile would;
    anything else travels as its traceback.
    """
    try:
        result = carry_out(request)
    except KedroAzureMLError as error:
        return _encode(("error", error)), None
    except Exception:
        return _encode(("crash", traceback.format_exc())), None
    return _encode(("ok", result)), result


def encode_request(request: CompileRequest) -> str:
    """``request`` as one line of text."""
    return _encode(request)


def decode_request(text: str) -> CompileRequest:
    """The request ``encode_request`` wrote."""
    request = pickle.loads(base64.b64decode(text))
    if not isinstance(request, CompileRequest):
        raise TypeError(f"expected a CompileRequest, got {type(request).__name__}")
    return request


def result_of(answer: str) -> CompileResult:
    """The result an answer carries; raise the error it carries instead."""
    kind, value = pickle.loads(base64.b64decode(answer))
    if kind == "ok":
        return value
    if kind == "error":
        raise value
    raise CompileChildError(f"compiling the Kedro project failed:\n{value}")


def _encode(value: Any) -> str:
    return base64.b64encode(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")


def compile_in_child(
    request: CompileRequest,
    python: str | None = None,
    on_line: Callable[[str], None] | None = None,
) -> CompileResult:
    """Answer ``request`` in a fresh Python process; its log lines go to ``on_line``."""
    process = subprocess.run(
        [python or sys.executable, "-m", CHILD_MODULE],
        input=encode_request(request).encode("ascii") + b"\n",
        capture_output=True,
        cwd=request.project_path if request.project_path.is_dir() else None,
        check=False,
    )
    lines = process.stderr.decode("utf-8", errors="replace").splitlines()
    for line in lines:
        if on_line is not None:
            on_line(line)
    answer = process.stdout.decode("ascii", errors="replace").strip()
    if process.returncode != 0 or not answer:
        tail = "\n".join(lines[-30:])
        raise CompileChildError(
            f"the compile process ({CHILD_MODULE}) exited with code {process.returncode}"
            + (f":\n{tail}" if tail else "")
        )
    return result_of(answer)


def main() -> int:
    """Entry point: one request on stdin, one answer on stdout."""
    channel = os.dup(1)
    os.dup2(2, 1)  # whatever the project prints goes to stderr, not into the answer
    request = decode_request(sys.stdin.readline().strip())
    answer, _ = answer_for(request)
    os.write(channel, answer.encode("ascii") + b"\n")
    return 0


if __name__ == "__main__":
    # Run the imported module's main, so what is pickled names this module, not __main__.
    from airflow_kedro_azureml.compiler import child

    sys.exit(child.main())
