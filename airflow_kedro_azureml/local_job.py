"""Run a compiled pipeline with the local backend, the way the operator and CLI do."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from airflow_kedro_azureml.job_spec import CompiledPipeline
from airflow_kedro_azureml.local import LocalPipelineRun, step_process_env
from airflow_kedro_azureml.local_forkserver_client import ForkServerClient

logger = logging.getLogger(__name__)


def start_fork_server(code_dir: Path, pipeline: str) -> ForkServerClient:
    """Start the warm process steps fork from, before compiling, so the two overlap.

    It writes no file: a project that fails to compile leaves nothing behind.
    """
    return ForkServerClient(sys.executable, code_dir, step_process_env(sys.executable), pipeline)


def local_run_for(
    compiled: CompiledPipeline,
    job_name: str,
    runs_dir: Path,
    max_parallel: int,
    on_log: Callable[[str, str], None] | None = None,
    fork_server: bool | ForkServerClient = False,
) -> LocalPipelineRun:
    """A not-yet-started local run of ``compiled`` under ``runs_dir/job_name``."""
    run_dir = runs_dir / job_name
    return LocalPipelineRun(
        compiled.local_steps(),
        pipeline_inputs=compiled.pipeline_inputs,
        code_dir=compiled.code_directory,
        run_dir=run_dir,
        max_parallel=max_parallel,
        on_log=on_log or (lambda step, line: logger.info("[%s] %s", step, line)),
        fork_server=fork_server,
    )
