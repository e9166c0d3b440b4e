"""Runs submitted jobs with the project's local backend and mirrors their progress into the state.

A pipeline job moves NotStarted -> Running -> Completed / Failed / Canceled; each
step is a child run (listed by run history) with its own status. The code snapshot
uploaded for the job is unpacked into ``<runs_dir>/<job>/code`` and steps run in
``<runs_dir>/<job>/run`` (outputs in ``<step>/outputs/<port>``, logs in
``<step>/user_logs/std_log.txt``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_kedro_azureml import statuses
from airflow_kedro_azureml.local.pipeline_run import LocalPipelineRun
from airflow_kedro_azureml.testing.context import DEFAULT_DATASTORE, EmulatorContext
from airflow_kedro_azureml.testing.data_download import DataDownloader
from airflow_kedro_azureml.testing.rest_to_local import (
    LocalJobPlan,
    command_job_to_local,
    pipeline_job_to_local,
)
from airflow_kedro_azureml.testing.state import TERMINAL_JOB_STATUSES, system_data, utc_now_iso
from airflow_kedro_azureml.testing.step_reuse import (
    CompletedStep,
    ReuseIndex,
    ReusePlan,
    plan_reuse,
)

logger = logging.getLogger(__name__)

RUNNABLE_JOB_TYPES = frozenset({"Pipeline", "Command"})
EMULATOR_LOG_SOURCE = "emulator"
_MAX_LOG_LINES = 200_000


@dataclass
class JobPlan:
    """A job accepted for running: its name, kind and local plan."""

    name: str
    job_type: str
    local: LocalJobPlan


@dataclass
class _ActiveJob:
    plan: JobPlan
    thread: threading.Thread | None = None
    run: LocalPipelineRun | None = None
    cancel_requested: bool = False
    reuse: ReusePlan | None = None
    # (source, line) in arrival order; source is a step name or EMULATOR_LOG_SOURCE
    log_lines: list[tuple[str, str]] = field(default_factory=list)


def child_run_id(job_name: str, step: str) -> str:
    """The run id of step ``step`` of pipeline job ``job_name``."""
    return f"{job_name}_{step}"


class JobExecutor:
    """Plans, starts, cancels and records local runs of submitted jobs; thread-safe."""

    def __init__(
        self,
        context: EmulatorContext,
        *,
        runs_dir: Path,
        max_parallel: int = 2,
        python_executable: str | None = None,
    ) -> None:
        self.context = context
        self.runs_dir = runs_dir
        self.max_parallel = max_parallel
        self.python_executable = python_executable
        self.downloader = DataDownloader(context)
        self.reuse_index = ReuseIndex()
        self._lock = threading.Lock()
        self._jobs: dict[str, _ActiveJob] = {}

    # -- submission -------------------------------------------------------------------------

    @staticmethod
    def can_run(properties: Mapping[str, Any]) -> bool:
        """Whether a job body is of a kind the emulator runs."""
        return properties.get("jobType") in RUNNABLE_JOB_TYPES

    def plan(self, name: str, properties: Mapping[str, Any]) -> JobPlan:
        """Check that the job can run and work out its steps; raise ``ValueError`` if not."""
        job_type = str(properties.get("jobType"))
        if job_type == "Pipeline":
            local = pipeline_job_to_local(properties, self._component)
        else:
            local = command_job_to_local(name, properties)
        if local.code is not None and self._code_uri(local) is None:
            raise ValueError(f"code {local.code.name}:{local.code.version} does not exist")
        return JobPlan(name=name, job_type=job_type, local=local)

    def launch(self, plan: JobPlan) -> None:
        """Register the job's step runs and start running it in a background thread."""
        active = _ActiveJob(plan=plan)
        if plan.job_type == "Pipeline":
            for step in plan.local.steps:
                self.context.state.add_child_run(
                    plan.name, self._child_run_body(plan.name, step.name)
                )
        thread = threading.Thread(
            target=self._run, args=(active,), name=f"emulator-job-{plan.name}", daemon=True
        )
        active.thread = thread
        with self._lock:
            self._jobs[plan.name] = active
        thread.start()

    def cancel(self, name: str) -> bool:
        """Ask a job to stop; ``False`` when this executor does not know the job."""
        with self._lock:
            active = self._jobs.get(name)
            if active is None:
                return False
            active.cancel_requested = True
            run = active.run
        if self.context.state.job_status(name) not in TERMINAL_JOB_STATUSES:
            self.context.state.update_job_status(name, "CancelRequested")
        if run is not None:
            # LocalPipelineRun.cancel waits for the processes to end: keep the HTTP answer quick.
            threading.Thread(target=run.cancel, name=f"emulator-cancel-{name}", daemon=True).start()
        return True

    def shutdown(self, timeout: float = 15.0) -> None:
        """Cancel every unfinished job and wait (up to ``timeout`` s each) for its thread."""
        with self._lock:
            jobs = list(self._jobs.values())
        for active in jobs:
            if active.thread is not None and active.thread.is_alive():
                self.cancel(active.plan.name)
        for active in jobs:
            if active.thread is not None:
                active.thread.join(timeout)

    # -- what tests read --------------------------------------------------------------------

    def job_dir(self, name: str) -> Path:
        """The folder of job ``name``."""
        return self.runs_dir / name

    def run_dir(self, name: str) -> Path:
        """Where the steps of job ``name`` run and write outputs and logs."""
        return self.job_dir(name) / "run"

    def code_dir(self, name: str) -> Path:
        """Where the code snapshot of job ``name`` is unpacked."""
        return self.job_dir(name) / "code"

    def log(self, name: str, step: str | None = None) -> str:
        """Log lines of one step (a reused step's: the reused run's), or of all steps
        prefixed ``[step]`` (own notes ``[emulator]``)."""
        with self._lock:
            active = self._jobs.get(name)
            if active is None:
                raise KeyError(f"the emulator has not run a job named {name!r}")
            earlier = None if active.reuse is None else active.reuse.reused.get(step or "")
            if step is not None and earlier is None:
                return "\n".join(line for source, line in active.log_lines if source == step)
            if earlier is None:
                return "\n".join(f"[{source}] {line}" for source, line in active.log_lines)
        # A reused step shows the log of the run it reused, as Azure ML's studio does.
        return self.log(earlier.job_name, earlier.step)

    # -- running ----------------------------------------------------------------------------

    def _component(self, component_id: str) -> Mapping[str, Any] | None:
        parts = component_id.removeprefix("azureml:").rstrip("/").split("/")
        if len(parts) < 4 or parts[-4] != "components" or parts[-2] != "versions":
            return None
        return self.context.state.get_asset("components", parts[-3], parts[-1])

    def _code_uri(self, local: LocalJobPlan) -> str | None:
        if local.code is None:
            return None
        body = self.context.state.get_asset("codes", local.code.name, local.code.version)
        return None if body is None else body["properties"].get("codeUri")

    def _append_log(self, active: _ActiveJob, source: str, line: str) -> None:
        with self._lock:
            if len(active.log_lines) < _MAX_LOG_LINES:
                active.log_lines.append((source, line))

    def _child_run_body(self, job_name: str, step: str) -> dict[str, Any]:
        run_id = child_run_id(job_name, step)
        job = self.context.state.get_job(job_name) or {}
        experiment = (job.get("properties") or {}).get("experimentName", "Default")
        return {
            "runId": run_id,
            "runUuid": run_id,
            "parentRunId": job_name,
            "rootRunId": job_name,
            "name": step,
            "displayName": step,
            "experimentId": experiment,
            "status": statuses.NOT_STARTED,
            "runType": "azureml.StepRun",
            "createdUtc": utc_now_iso(),
            "tags": {},
            "properties": {"azureml.nodeid": step, "azureml.pipelinerunid": job_name},
            "services": {
                "Studio": {"endpoint": self.context.studio_url(run_id), "type": "Studio"},
            },
        }

    def _on_step_status(self, active: _ActiveJob, step: str, status: str) -> None:
        if active.plan.job_type != "Pipeline":
            return
        reuse = active.reuse
        if reuse is not None and step in reuse.reused:
            self._mark_reused(active.plan.name, step, reuse.reused[step])
            return
        if status == statuses.COMPLETED and reuse is not None:
            self.reuse_index.record(
                reuse.keys[step],
                CompletedStep(
                    job_name=active.plan.name,
                    step=step,
                    run_id=child_run_id(active.plan.name, step),
                    folder=self.run_dir(active.plan.name) / step,
                ),
            )
        fields: dict[str, Any] = {"status": status}
        if status == statuses.RUNNING:
            fields["startTimeUtc"] = utc_now_iso()
        if status in TERMINAL_JOB_STATUSES:
            fields["endTimeUtc"] = utc_now_iso()
        self.context.state.update_child_run(child_run_id(active.plan.name, step), **fields)

    def _mark_reused(self, job_name: str, step: str, earlier: CompletedStep) -> None:
        """A reused step: completed at once, saying which run it reused (as Azure ML does)."""
        run_id = child_run_id(job_name, step)
        child = self.context.state.get_child_run(run_id) or {}
        now = utc_now_iso()
        properties = {
            **(child.get("properties") or {}),
            "azureml.isreused": "true",
            "azureml.reusedrunid": earlier.run_id,
            "azureml.reusedpipelinerunid": earlier.job_name,
            "azureml.reusednodeid": earlier.step,
        }
        self.context.state.update_child_run(
            run_id,
            status=statuses.COMPLETED,
            startTimeUtc=now,
            endTimeUtc=now,
            properties=properties,
        )

    def _plan_reuse(self, active: _ActiveJob) -> ReusePlan | None:
        if active.plan.job_type != "Pipeline":
            return None
        job = self.context.state.get_job(active.plan.name) or {}
        return plan_reuse(
            active.plan.name,
            job.get("properties") or {},
            list(active.plan.local.steps),
            self._component,
            self.reuse_index,
            child_run_id,
        )

    def _prepare(self, active: _ActiveJob) -> LocalPipelineRun:
        name = active.plan.name
        active.reuse = self._plan_reuse(active)
        reused = {} if active.reuse is None else active.reuse.reused
        for step, earlier in sorted(reused.items()):
            self._append_log(
                active, EMULATOR_LOG_SOURCE, f"step {step!r} reuses run {earlier.run_id}"
            )
        code_dir = self.code_dir(name)
        code_dir.mkdir(parents=True, exist_ok=True)
        local = active.plan.local
        code_uri = self._code_uri(local)
        if code_uri is not None:
            downloader = self.downloader
            location = downloader.blob_location(code_uri) or downloader.datastore_location(code_uri)
            if location is None:
                raise ValueError(f"the emulator cannot read the code snapshot at {code_uri!r}")
            count = self.context.blobs.export(*location, code_dir)
            self._append_log(active, EMULATOR_LOG_SOURCE, f"unpacked {count} code file(s)")
        inputs_dir = self.job_dir(name) / "inputs"
        local = local.with_data_paths(lambda uri: self.downloader.download(uri, inputs_dir))
        return LocalPipelineRun(
            local.steps,
            pipeline_inputs=local.pipeline_inputs,
            code_dir=code_dir,
            run_dir=self.run_dir(name),
            max_parallel=self.max_parallel,
            on_log=lambda step, line: self._append_log(active, step, line),
            on_status=lambda step, status: self._on_step_status(active, step, status),
            python_executable=self.python_executable,
            reused={step: earlier.folder for step, earlier in reused.items()},
            continue_on_step_failure=local.continue_on_step_failure,
        )

    def _run(self, active: _ActiveJob) -> None:
        name = active.plan.name
        state = self.context.state
        try:
            run = self._prepare(active)
            with self._lock:
                canceled_before_start = active.cancel_requested
                if not canceled_before_start:
                    active.run = run
            if canceled_before_start:
                self._finish_canceled(active)
                return
            run.start()
            state.update_job_status(name, statuses.RUNNING)
            final = run.wait()
            for step, tail in run.step_errors.items():
                state.update_child_run(
                    child_run_id(name, step),
                    error={"error": {"code": "UserError", "message": tail}},
                )
                self._append_log(active, EMULATOR_LOG_SOURCE, f"step {step!r} failed")
            if final == statuses.FAILED:
                state.set_job_error(name, run.failure_message() or "a step failed")
            if active.cancel_requested and final != statuses.COMPLETED:
                final = statuses.CANCELED
            if final == statuses.COMPLETED:
                self._register_output_assets(active)
            state.update_job_status(name, final)
            self._append_log(active, EMULATOR_LOG_SOURCE, f"job finished: {final}")
        except Exception as error:  # anything that stops the run fails the job, visibly
            logger.exception("emulator could not run job %s", name)
            self._append_log(active, EMULATOR_LOG_SOURCE, f"job failed to run: {error}")
            for child in state.children(name):
                state.update_child_run(child["runId"], status=statuses.CANCELED)
            state.set_job_error(name, f"the emulator could not run the job: {error}")
            state.update_job_status(name, statuses.FAILED)

    def _register_output_assets(self, active: _ActiveJob) -> None:
        """Register each step output that names a data asset as that asset's new version.

        The output folder's files go to the default datastore under
        ``azureml/<job>/<step>/<port>/``, as Azure ML stores a job's outputs, and the
        asset version points there, so later jobs can read it as an input.
        """
        context = self.context
        name = active.plan.name
        job = context.state.get_job(name) or {}
        for step, node in ((job.get("properties") or {}).get("jobs") or {}).items():
            for port, output in (node.get("outputs") or {}).items():
                if not isinstance(output, dict) or not output.get("name"):
                    continue
                folder = (
                    active.run.output_dir(step, port)
                    if active.run is not None
                    else self.run_dir(name) / step / "outputs" / port
                )
                prefix = f"azureml/{name}/{step}/{port}"
                for path in sorted(folder.rglob("*")):
                    if path.is_file():
                        relative = path.relative_to(folder).as_posix()
                        context.blobs.put(
                            context.storage_account,
                            context.default_container,
                            f"{prefix}/{relative}",
                            path.read_bytes(),
                        )
                asset = str(output["name"])
                versions = context.state.asset_versions("data", asset)
                version = str(output.get("version") or len(versions) + 1)
                body = {
                    "id": context.state.identity.resource_id("data", asset, "versions", version),
                    "name": version,
                    "type": "Microsoft.MachineLearningServices/workspaces/data/versions",
                    "properties": {
                        "dataType": str(output.get("job_output_type", "uri_folder")),
                        "dataUri": f"azureml://datastores/{DEFAULT_DATASTORE}/paths/{prefix}/",
                        "isAnonymous": False,
                        "isArchived": False,
                        "provisioningState": "Succeeded",
                        "tags": {"azureml.jobName": name},
                    },
                    "systemData": system_data(),
                }
                context.state.put_asset("data", asset, version, body)
                self._append_log(
                    active,
                    EMULATOR_LOG_SOURCE,
                    f"registered data asset {asset}:{version} from {step}.{port}",
                )

    def _finish_canceled(self, active: _ActiveJob) -> None:
        for child in self.context.state.children(active.plan.name):
            self.context.state.update_child_run(child["runId"], status=statuses.CANCELED)
        self.context.state.update_job_status(active.plan.name, statuses.CANCELED)
        self._append_log(active, EMULATOR_LOG_SOURCE, "job canceled before it started")
