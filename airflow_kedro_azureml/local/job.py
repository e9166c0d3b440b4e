"""One local run of a Kedro pipeline, shared by ``kedro azureml run-local`` and the operator.

The fork server starts first, opens the project and compiles (so the caller
never imports the project's modules), then warms up for the steps; a compile
that fails stops it, leaving nothing behind. The steps then run under
``runs_dir/job_name``, and the outcome says, in the one status vocabulary, how
the run ended and why.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml import statuses
from airflow_kedro_azureml.compiler.bindings import read_parent_output
from airflow_kedro_azureml.compiler.child import CompileRequest, CompileResult
from airflow_kedro_azureml.compiler.spec import DONE_PORT, PARAMS_FILE_INPUT, PARAMS_FILE_NAME
from airflow_kedro_azureml.compute.mlflow_tracking import RUN_TAGS_VARIABLE
from airflow_kedro_azureml.local.forkserver_client import ForkServerClient
from airflow_kedro_azureml.local.pipeline_run import LocalPipelineRun, step_process_env
from airflow_kedro_azureml.local.steps import steps_from_spec

if TYPE_CHECKING:
    from airflow_kedro_azureml.compiler.kedro_project import KedroProject
    from airflow_kedro_azureml.compiler.spec import CompiledPipeline

logger = logging.getLogger(__name__)
JOB_STATE_FILE = "job.json"
# In job.json: the steps a run reused, each with the step folder whose outputs it offers.
REUSED_FOLDERS_KEY = "reused_folders"
LogLine = Callable[[str, str], None]
_LEVEL_IN_LINE = re.compile(r" - (DEBUG|INFO|WARNING|ERROR|CRITICAL) - ")
_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}
_WARNING_IN_LINE = re.compile(r"\b[A-Z][A-Za-z]*Warning: ")


class StepLogLevels:
    """The logging level of each step log line, so WARNING and ERROR stay what they are.

    Kedro's plain log format names the level (``... - name - WARNING - message``);
    Python's warnings print ``...: UserWarning: ...``. A line without either (a
    traceback, a continued message) has the level of the step's line before it.
    """

    def __init__(self) -> None:
        self._last: dict[str, int] = {}
        self._lock = threading.Lock()

    def level_of(self, step: str, line: str) -> int:
        """The level of ``line`` of step ``step``."""
        match = _LEVEL_IN_LINE.search(line)
        with self._lock:
            if match is not None:
                level = _LEVELS[match.group(1)]
            elif _WARNING_IN_LINE.search(line):
                level = logging.WARNING
            else:
                level = self._last.get(step, logging.INFO)
            self._last[step] = level
        return level


@dataclass(frozen=True)
class LocalRunSettings:
    """Where local runs go, how many steps run at once, whether steps are forked, how many
    run folders are kept."""

    runs_dir: Path
    max_parallel: int
    fork_server: bool
    keep_runs: int | None = None

    @classmethod
    def for_project(
        cls,
        project: KedroProject,
        runs_dir: str | Path | None = None,
        max_parallel: int | None = None,
        fork_server: bool | None = None,
    ) -> LocalRunSettings:
        """``execution.local`` of azureml.yml, with the given values winning.

        A relative ``runs_dir`` is relative to the project folder.
        """
        local = project.config.execution.local
        folder = Path(runs_dir or local.runs_dir).expanduser()
        return cls(
            runs_dir=folder if folder.is_absolute() else project.path / folder,
            max_parallel=max_parallel or local.max_parallel,
            fork_server=local.fork_server if fork_server is None else fork_server,
            keep_runs=local.keep_runs,
        )


@dataclass(frozen=True)
class LocalRunOutcome:
    """How a local run ended: its status, each step's status, and what failed."""

    job_name: str
    status: str
    step_statuses: dict[str, str]
    failure: str

    @property
    def succeeded(self) -> bool:
        """True when every step completed."""
        return statuses.is_success(self.status)

    def summary(self) -> str:
        """E.g. ``prepare: Completed, train: Failed``."""
        return ", ".join(f"{name}: {status}" for name, status in self.step_statuses.items())

    def failure_message(self) -> str:
        """The failed steps with the ends of their logs, or the status alone."""
        return self.failure or f"job {self.job_name} ended {self.status}"


def _job_record(runs_dir: Path, job_name: str) -> dict[str, Any] | None:
    """The ``job.json`` a local run of job ``job_name`` keeps; None before it starts."""
    path = runs_dir / job_name / JOB_STATE_FILE
    if not path.is_file():
        return None
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return record


def read_local_job_state(runs_dir: Path, job_name: str) -> statuses.JobState | None:
    """The state a local run of job ``job_name`` left in ``runs_dir``; None before it starts."""
    record = _job_record(runs_dir, job_name)
    return None if record is None else statuses.JobState.from_dict(record)


def reusable_steps(runs_dir: Path, job_name: str) -> dict[str, Path]:
    """The steps local job ``job_name`` completed, each with the folder holding its outputs.

    A later job of the same run passes them as ``reused``, so only the steps that
    did not complete run again (the local counterpart of Azure ML's reuse). A step
    the job itself reused points at the run it reused.
    """
    record = _job_record(runs_dir, job_name)
    if record is None:
        return {}
    earlier = record.get(REUSED_FOLDERS_KEY) or {}
    state = statuses.JobState.from_dict(record)
    return {
        step.name: Path(earlier.get(step.name) or runs_dir / job_name / step.name)
        for step in state.steps or ()
        if step.status == statuses.COMPLETED
    }


def pipeline_run_for(
    compiled: CompiledPipeline,
    run_dir: Path,
    max_parallel: int,
    on_log: LogLine | None = None,
    fork_server: bool | ForkServerClient = False,
    on_status: Callable[[str, str], None] | None = None,
    step_env: Mapping[str, str] | None = None,
    reused: Mapping[str, Path] | None = None,
) -> LocalPipelineRun:
    """A not-yet-started local run of ``compiled`` in ``run_dir``.

    Params too long for a command line are written to ``run_dir/params.json``, the
    file the steps' ``params_file`` input names (as the SDK uploads it on Azure ML).
    ``step_env`` adds to every step's environment variables. ``reused`` maps steps
    that complete at once to the folder of an earlier run of the same step.
    """
    pipeline_inputs = dict(compiled.pipeline_inputs)
    if compiled.params_file_text is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        params_file = run_dir / PARAMS_FILE_NAME
        params_file.write_text(compiled.params_file_text, encoding="utf-8")
        pipeline_inputs[PARAMS_FILE_INPUT] = str(params_file)
    steps = steps_from_spec(compiled)
    if step_env:
        steps = [
            dataclasses.replace(
                step, environment_variables={**step.environment_variables, **step_env}
            )
            for step in steps
        ]
    return LocalPipelineRun(
        steps,
        pipeline_inputs=pipeline_inputs,
        code_dir=compiled.code_directory,
        run_dir=run_dir,
        max_parallel=max_parallel,
        on_log=on_log or (lambda step, line: logger.info("[%s] %s", step, line)),
        on_status=on_status,
        fork_server=fork_server,
        reused=reused,
        continue_on_step_failure=compiled.continue_on_step_failure,
    )


def mlflow_environment(
    run_dir: Path, experiment_name: str, run_tags: Mapping[str, str]
) -> dict[str, str]:
    """What the steps need to log to MLflow locally, as on Azure ML (nothing without mlflow).

    A file store in the run folder, unless ``MLFLOW_TRACKING_URI`` is set here already
    (then that server); the job's experiment; the Airflow and Kedro tags of the run.
    """
    if importlib.util.find_spec("mlflow") is None:
        return {}
    env = {
        "MLFLOW_EXPERIMENT_NAME": experiment_name,
        RUN_TAGS_VARIABLE: json.dumps(dict(run_tags), sort_keys=True),
    }
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        env["MLFLOW_TRACKING_URI"] = (run_dir / "mlruns").resolve().as_uri()
        # MLflow keeps its file store for those who opt in; a run folder needs no database.
        env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    return env


def register_asset_outputs(
    compiled: CompiledPipeline, run: LocalPipelineRun, job_name: str
) -> None:
    """Keep each written data asset as a new local version, as Azure ML registers one.

    ``local_root/<asset>/<version>``: the run id as version (or the job's name for a
    schedule's job), so a later local run reading the asset's latest version gets it.
    """
    version = compiled.written_asset_version(job_name)
    for step in compiled.steps:
        for binding in step.asset_outputs:
            if binding.local_root is None:
                continue
            target = binding.local_root / binding.asset_name / version
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(run.output_dir(step.name, binding.port), target)


def prune_run_folders(runs_dir: Path, keep: int, current: str) -> list[Path]:
    """Delete all but the ``keep`` newest run folders of ``runs_dir``; return the deleted.

    A run folder is one that holds a ``job.json``; the run ``current`` is always kept.
    Anything else in ``runs_dir`` is left alone.
    """
    runs = [
        folder
        for folder in runs_dir.iterdir()
        if folder.is_dir() and (folder / JOB_STATE_FILE).is_file() and folder.name != current
    ]
    runs.sort(key=lambda folder: (folder / JOB_STATE_FILE).stat().st_mtime, reverse=True)
    deleted = runs[max(keep - 1, 0) :]
    for folder in deleted:
        shutil.rmtree(folder, ignore_errors=True)
        logger.info("Deleted run folder %s (execution.local.keep_runs: %d)", folder, keep)
    return deleted


class LocalJob:
    """One local run: compile in the warm fork server, run the steps, cancel when asked.

    The fork server opens the project and compiles, so the caller never imports the
    project's modules; the same imports then serve the forked steps. Example::

        job = LocalJob(Path("."), "local_1")
        result = job.compile(CompileRequest(Path("."), None, {}, CompileOptions("training")))
        outcome = job.run(result.compiled)
    """

    def __init__(
        self,
        project_path: Path,
        job_name: str,
        on_log: LogLine | None = None,
        on_progress: Callable[[str], None] | None = None,
        on_compile_line: Callable[[str], None] | None = None,
        start_server: bool = True,
    ) -> None:
        self.job_name = job_name
        self._on_log = on_log
        self._on_progress = on_progress or (lambda line: logger.info("%s", line))
        self._settings: LocalRunSettings | None = None
        self._run: LocalPipelineRun | None = None
        self._server: ForkServerClient | None = None
        self._reused: dict[str, Path] = {}
        self.on_state: Callable[[statuses.JobState], None] | None = None
        """Called with the run's state each time a step's status changes (and at the end)."""
        if start_server:
            folder = Path(project_path)  # a missing one is the compile's error to report
            self._server = ForkServerClient(
                sys.executable,
                folder if folder.is_dir() else Path.cwd(),
                step_process_env(sys.executable),
                None,
            )
            self._server.on_stderr = on_compile_line

    @classmethod
    def already_compiled(
        cls,
        project: KedroProject,
        compiled: CompiledPipeline,
        job_name: str,
        on_log: LogLine | None = None,
        on_progress: Callable[[str], None] | None = None,
        max_parallel: int | None = None,
        fork_server: bool | None = None,
    ) -> LocalJob:
        """A run of a pipeline this process opened and compiled itself (``run-local``).

        Steps fork from a fork of this process, which has imported Kedro and the
        project already; when that is not safe, from a server that imports them anew.
        """
        job = cls(project.path, job_name, on_log, on_progress, start_server=False)
        job._settings = LocalRunSettings.for_project(
            project, max_parallel=max_parallel, fork_server=fork_server
        )
        if job._settings.fork_server:
            job._server = ForkServerClient.fork_of_this_process(
                compiled.code_directory,
                step_process_env(sys.executable),
                project.path,
                preload_mlflow=project.config.execution.mlflow,
            )
        return job

    @property
    def settings(self) -> LocalRunSettings:
        """Where runs go and how steps run (known once compiled)."""
        if self._settings is None:
            raise RuntimeError("LocalJob.compile() comes first")
        return self._settings

    @property
    def run_dir(self) -> Path:
        """This run's folder: ``runs_dir/job_name``."""
        return self.settings.runs_dir / self.job_name

    def compile(
        self,
        request: CompileRequest,
        runs_dir: str | Path | None = None,
        max_parallel: int | None = None,
        fork_server: bool | None = None,
    ) -> CompileResult:
        """Compile in the fork server; the run's settings are azureml.yml's, given values winning.

        A failed compile stops the server, leaving nothing behind. With forking
        turned off the server stops after compiling and steps start from scratch.
        """
        assert self._server is not None
        try:
            result = self._server.compile(request, warm=fork_server)
            if result.compiled is None:
                raise ValueError("a local run needs CompileRequest.options (what to compile)")
        except BaseException:
            self._stop_server()
            raise
        finally:
            if self._server is not None:
                self._server.on_stderr = None
        self._settings = LocalRunSettings.for_project(
            result.project, runs_dir=runs_dir, max_parallel=max_parallel, fork_server=fork_server
        )
        if not self._settings.fork_server:
            self._server.close()
            self._server = None
        return result

    def run(
        self,
        compiled: CompiledPipeline,
        run_tags: Mapping[str, str] | None = None,
        experiment_name: str | None = None,
        reused: Mapping[str, Path] | None = None,
    ) -> LocalRunOutcome:
        """Run every step of ``compiled`` (but the ``reused`` ones) and wait for the outcome.

        Progress (``3/7 steps completed, running: ...``) is reported as steps start
        and end, in the same words as on Azure ML. When MLflow is installed, each step
        logs to a file store in the run folder (``mlruns``) under ``experiment_name``
        (the compiled one, else the project's package name), tagged ``run_tags``.
        ``reused`` maps steps that complete at once to the step folder of an earlier
        run whose outputs they offer (see ``reusable_steps``).
        """
        step_statuses: dict[str, str] = {}
        self._reused = {name: Path(folder) for name, folder in (reused or {}).items()}
        total = len(compiled.steps)

        def on_status(step: str, status: str) -> None:
            step_statuses[step] = status
            steps = [statuses.StepState(name, word) for name, word in step_statuses.items()]
            self._on_progress(f"Job {self.job_name}: {statuses.progress_line(steps, total)}")
            self._record(statuses.RUNNING, step_statuses)

        self._run = pipeline_run_for(
            compiled,
            self.run_dir,
            self.settings.max_parallel,
            on_log=self._on_log,
            on_status=on_status,
            fork_server=self._server or self.settings.fork_server,
            step_env=mlflow_environment(
                self.run_dir,
                experiment_name or compiled.experiment_name or compiled.package_name,
                run_tags or {},
            ),
            reused=self._reused,
        )
        self._record(statuses.RUNNING, step_statuses)
        status = self._run.run()
        if status == statuses.COMPLETED:
            register_asset_outputs(compiled, self._run, self.job_name)
        self._record(status, step_statuses)
        if self.settings.keep_runs is not None:
            prune_run_folders(self.settings.runs_dir, self.settings.keep_runs, self.job_name)
        return LocalRunOutcome(
            job_name=self.job_name,
            status=status,
            step_statuses=dict(self._run.step_statuses),
            failure=self._run.failure_message(),
        )

    def summary_lines(self, compiled: CompiledPipeline) -> list[str]:
        """Where this run is: its run id, folder, step logs and final outputs (one per line).

        Final outputs are the step outputs no other step of the job reads (the job's
        results; everything else is data between steps).
        """
        if self._run is None:
            raise RuntimeError("LocalJob.run() comes first")
        run = self._run
        lines = [
            f"run id: {compiled.run_id}",
            f"run folder: {self.run_dir}",
            f"step logs: {run.log_path('<step>')}",
        ]
        read = {
            found
            for step in compiled.steps
            for _, binding in step.inputs
            if (found := read_parent_output(binding)) is not None
        }
        for step in compiled.steps:
            for port in step.outputs:
                folder = run.output_dir(step.name, port)
                if port != DONE_PORT and (step.name, port) not in read and folder.exists():
                    lines.append(f"output {port} of step {step.name}: {folder}")
        return lines

    def _record(self, status: str, step_statuses: dict[str, str]) -> None:
        """Keep the run's state in ``job.json`` of its folder, for a sensor to read."""
        steps = tuple(
            statuses.StepState(name, word, reused=name in self._reused)
            for name, word in step_statuses.items()
        )
        state = statuses.JobState(self.job_name, status, self.run_dir.as_uri(), steps)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        partial = self.run_dir / f"{JOB_STATE_FILE}.partial"
        record = state.to_dict()
        record[REUSED_FOLDERS_KEY] = {name: str(path) for name, path in self._reused.items()}
        partial.write_text(json.dumps(record), encoding="utf-8")
        partial.replace(self.run_dir / JOB_STATE_FILE)
        if self.on_state is not None:
            self.on_state(state)

    def cancel(self) -> None:
        """Stop the running steps (or the warming fork server); the run ends ``Canceled``."""
        if self._run is not None:
            self._run.cancel()
        else:
            self._stop_server()

    def _stop_server(self) -> None:
        if self._server is not None:
            self._server.kill()
            self._server = None
