"""A warm process that forks local-backend steps, so each step skips Kedro's start-up.

``python -m airflow_kedro_azureml.local.forkserver --pipeline NAME`` starts in the
project folder, imports Kedro, bootstraps the project, builds the requested
pipeline (importing its node modules) and the catalog's dataset classes, then
forks one child per step request. A child is a separate process that runs
``airflow_kedro_azureml.compute.execute`` with the step's arguments, exactly as the
command line would, writing its output to the step's log file. The server
itself runs no node, no hook and no thread, so forking it is safe.

Started with ``--compile`` instead, it first answers one compile request (see
``compiler.child``): it opens the project and compiles in this process, so the
caller never imports the project's modules, and what the compile imported is
already warm for the steps. It then moves to the compiled job's code directory
and, when asked to (``warm``), imports the rest (dataset classes, plugins).

Protocol, one JSON object per line: requests on stdin
``{"step", "argv", "env", "log"}``; answers on stdout ``{"step", "pid"}`` when the
child started and ``{"step", "exit"}`` when it ended (negative: killed by signal).
A compile request is ``{"compile": <encoded request>, "warm": true|false|null}``
(null: as ``execution.local.fork_server`` says), answered by
``{"step": COMPILE_STEP, "compiled": <encoded answer>}``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import select
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

COMPILE_STEP = "__compile__"


def _preload(pipeline_name: str) -> None:
    """Import what every step of ``pipeline_name`` would import (best effort)."""
    from airflow_kedro_azureml.compute.execute import use_plain_logging

    project = Path.cwd()
    use_plain_logging(project)
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    pipelines.set_requested([pipeline_name])
    pipelines[pipeline_name]
    _preload_step_imports(project)


def _preload_step_imports(project: Path) -> None:
    """Import what every step imports beyond its pipeline: the session, plugins, datasets."""
    from kedro.framework.project import settings
    from kedro.framework.session import KedroSession  # noqa: F401 - imported for the children
    from kedro.io.core import parse_dataset_definition

    import airflow_kedro_azureml.compute.runner  # noqa: F401 - imported for the children

    _import_session_plugins()
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(project / settings.CONF_SOURCE), **settings.CONFIG_LOADER_ARGS
    )
    for config in dict(loader["catalog"]).values():
        if isinstance(config, dict) and "type" in config:
            try:
                parse_dataset_definition({"type": config["type"]})
            except Exception:  # a dataset the step will report properly, if it uses it
                continue


def _preload_mlflow() -> None:
    """Import mlflow once here when it is installed: every step that logs to it would
    import it anew (about a second each)."""
    if importlib.util.find_spec("mlflow") is not None:
        importlib.import_module("mlflow")


def _import_session_plugins() -> None:
    """Import what every KedroSession imports lazily: hook plugins, parameter validation.

    Only modules are imported (as each session would); no hook is registered or called.
    """
    from importlib.metadata import entry_points

    # pydantic.main: Kedro's parameter validation imports it lazily, in every step.
    for name in (
        "kedro.validation.parameter_validator",
        "kedro.framework.cli.hooks",
        "pydantic.main",
    ):
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    for entry_point in entry_points(group="kedro.hooks"):
        try:
            importlib.import_module(entry_point.module)
        except Exception:  # a broken plugin fails in the step, where it is reported
            continue


def _run_child(request: dict[str, Any], channel: int) -> None:
    """In the forked child: become the step process, run ``execute``, exit."""
    code = 1
    try:
        os.close(channel)
        os.setsid()
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        _rebind_output_streams()
        os.environ.update(request["env"])
        from airflow_kedro_azureml.compute import EXECUTE_MODULE
        from airflow_kedro_azureml.compute.execute import main

        sys.argv = [EXECUTE_MODULE, *request["argv"]]

        code = main(request["argv"])
    except SystemExit as exit_request:
        code = exit_request.code if isinstance(exit_request.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        _exit_now(code)


def _rebind_output_streams() -> None:
    """Point ``sys.stdout`` and ``sys.stderr`` at fds 1 and 2 after they were redirected."""
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)


def _exit_now(code: int) -> NoReturn:
    """Flush what was written and leave at once, without tearing down imported modules.

    Used where the process must not run its parent's clean-up (a forked child) or has
    nothing left to clean up but heavy modules (a server whose steps all ended).
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _answer(channel: int, message: dict[str, Any]) -> None:
    os.write(channel, (json.dumps(message) + "\n").encode("utf-8"))


def _compile(request: dict[str, Any], channel: int) -> None:
    """Answer a compile request; then move to the job's code directory and warm up."""
    from airflow_kedro_azureml.compiler.child import answer_for, decode_request
    from airflow_kedro_azureml.compute.execute import use_plain_logging

    compile_request = decode_request(request["compile"])
    use_plain_logging(compile_request.project_path.resolve())
    answer, result = answer_for(compile_request)
    _answer(channel, {"step": COMPILE_STEP, "compiled": answer})
    if result is None or result.compiled is None:
        return
    os.chdir(result.compiled.code_directory)
    warm = request.get("warm")
    if warm is None:
        warm = result.project.config.execution.local.fork_server
    if warm:
        try:
            _preload_step_imports(result.project.path)
            if result.project.config.execution.mlflow:
                _preload_mlflow()
        except Exception:
            traceback.print_exc(file=sys.stderr)


def serve(pipeline_name: str | None) -> int:
    """Preload (or compile first), then fork a child per request until stdin closes."""
    # Answers go to the original stdout; anything printed or logged goes to stderr.
    channel = os.dup(1)
    os.dup2(2, 1)
    if pipeline_name is not None:
        try:
            _preload(pipeline_name)
        except Exception:
            traceback.print_exc(file=sys.stderr)
    children: dict[int, str] = {}
    open_input = True
    buffer = b""
    while open_input or children:
        if open_input:
            ready, _, _ = select.select([sys.stdin.fileno()], [], [], 0.05)
            if ready:
                chunk = os.read(sys.stdin.fileno(), 65536)
                if not chunk:
                    open_input = False
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    request = json.loads(line)
                    if "compile" in request:
                        _compile(request, channel)
                        continue
                    sys.stdout.flush()
                    sys.stderr.flush()
                    pid = os.fork()
                    if pid == 0:
                        _run_child(request, channel)
                    children[pid] = request["step"]
                    _answer(channel, {"step": request["step"], "pid": pid})
        else:
            select.select([], [], [], 0.05)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            step = children.pop(pid, None)
            if step is not None:
                _answer(channel, {"step": step, "exit": os.waitstatus_to_exitcode(status)})
    return 0


def serve_in_fork(
    stdin: int,
    stdout: int,
    stderr: int,
    cwd: Path,
    env: Any,
    project_path: Path,
    preload_mlflow: bool = True,
) -> None:
    """Become a fork server in a child made by ``os.fork`` of a warm process; never returns.

    The process keeps everything its parent imported. It leads its own session,
    reads requests on ``stdin``, answers on ``stdout``, and logs Kedro's plain lines
    (the parent may have set up Kedro's terminal logging). ``preload_mlflow``: the
    steps log to MLflow (``execution.mlflow``), so mlflow is imported once here.
    """
    code = 1
    try:
        os.setsid()
        for target, source in ((0, stdin), (1, stdout), (2, stderr)):
            os.dup2(source, target)
            os.close(source)
        sys.stdin = os.fdopen(0, "r", closefd=False)
        _rebind_output_streams()
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        _use_plain_logging_now(project_path)
        if preload_mlflow:
            _preload_mlflow()
        code = serve(None)
    except BaseException:
        traceback.print_exc()
    finally:
        _exit_now(code)


def _use_plain_logging_now(project_path: Path) -> None:
    """Kedro's plain logging config, applied now (Kedro is imported already)."""
    from airflow_kedro_azureml.compute.execute import use_plain_logging

    chosen = os.environ.get("KEDRO_LOGGING_CONFIG")
    use_plain_logging(project_path)
    plain = os.environ.get("KEDRO_LOGGING_CONFIG")
    if plain and plain != chosen:  # neither the user nor the project chose a config
        import yaml
        from kedro.framework.project import LOGGING

        LOGGING.configure(yaml.safe_load(Path(plain).read_text(encoding="utf-8")))


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    start = parser.add_mutually_exclusive_group(required=True)
    start.add_argument("--pipeline", help="preload this pipeline of the project in the cwd")
    start.add_argument(
        "--compile", action="store_true", help="answer a compile request first (see above)"
    )
    return serve(parser.parse_args().pipeline)


if __name__ == "__main__":
    # Every step has ended and been answered: skip tearing down the preloaded modules
    # (pandas, scikit-learn...), which would keep the caller waiting for nothing.
    _exit_now(main())
