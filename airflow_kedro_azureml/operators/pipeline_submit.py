"""KedroAzureMLSubmitOperator: the task of a ``KedroAzureMLTaskGroup`` that runs its ONE job.

It is ``KedroAzureMLPipelineOperator`` (compile, submit or re-attach, watch, cancel
on kill, fail with the job) with three differences:

- before anything is submitted it checks that the group's manifest still matches
  the project (same steps, nodes and edges); a stale manifest fails the task with
  the command that refreshes it;
- while it watches (in the worker, or deferred: its trigger does the same), it
  publishes the job's state to XCom (``published_job``) for the step tasks;
- after a step failed it keeps the other steps running (``continue_on_step_failure``,
  unless the group turns it off), as Airflow keeps running tasks that do not
  depend on a failed one.

The step tasks also call it back after the job ended: to find the newest job of
the task run and to submit the next one (``resume``), which Azure ML makes a
resume by reusing the steps that completed.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml.errors import AzureMLRequestError, ConfigError
from airflow_kedro_azureml.identity import next_job_name
from airflow_kedro_azureml.operators.pipeline import (
    KedroAzureMLPipelineOperator,
    _bad_input_fails_fast,
)
from airflow_kedro_azureml.published_job import (
    JOB_STATE_XCOM_KEY,
    JobStatePublisher,
    PublishedJob,
)
from airflow_kedro_azureml.statuses import JobState

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_kedro_azureml.compiler.spec import CompiledPipeline
    from airflow_kedro_azureml.hooks.azureml import AzureMLHook

# How many later jobs of one task run a step task walks to find the newest.
MAX_GENERATIONS = 1000


class KedroAzureMLSubmitOperator(KedroAzureMLPipelineOperator):
    """Run a task group's pipeline as one Azure ML job and publish its steps' states.

    :param manifest_path: the manifest the group was drawn from (for messages).
    :param manifest_fingerprint: its fingerprint; the compiled pipeline must match it.
    :param manifest_refresh: the command that writes the manifest again.
    :param continue_on_step_failure: keep running the steps that do not depend on a
        failed one (True by default here; azureml.yml's setting when None).
    Every other argument is ``KedroAzureMLPipelineOperator``'s. With ``deferrable`` the
    job is watched from the triggerer (``KedroAzureMLSubmitTrigger``), which publishes
    the steps' states the same way.
    """

    ui_color = "#ffc900"

    def __init__(
        self,
        *,
        manifest_path: str,
        manifest_fingerprint: str,
        manifest_refresh: str,
        continue_on_step_failure: bool | None = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.manifest_path = manifest_path
        self.manifest_fingerprint = manifest_fingerprint
        self.manifest_refresh = manifest_refresh
        self.continue_on_step_failure = continue_on_step_failure
        self._publisher: JobStatePublisher | None = None
        self._push: Any = None
        self._publish_to: dict[str, Any] = {}

    def execute(self, context: Context) -> str:
        """Compile, check the manifest, submit or re-attach, publish the job's state, wait."""
        ti = context["ti"]
        self._push = lambda value: ti.xcom_push(key=JOB_STATE_XCOM_KEY, value=value)
        self._publish_to = {
            "dag_id": self.dag_id,
            "task_id": self.task_id,
            "run_id": ti.run_id,
            "map_index": ti.map_index if ti.map_index is not None else -1,
        }
        return super().execute(context)

    def _job_trigger(self, **kwargs: Any) -> Any:
        """The trigger that watches the job and publishes its state once the task defers."""
        from airflow_kedro_azureml.triggers.pipeline_submit import KedroAzureMLSubmitTrigger

        return KedroAzureMLSubmitTrigger(publish_to=self._publish_to, **kwargs)

    def _compiled(self, compiled: CompiledPipeline | None, run_id: str) -> CompiledPipeline:
        """The compiled pipeline, checked against the manifest, with the group's step rule."""
        compiled = super()._compiled(compiled, run_id)
        check_manifest(
            compiled, self.manifest_path, self.manifest_fingerprint, self.manifest_refresh
        )
        if self.continue_on_step_failure is not None:
            compiled = dataclasses.replace(
                compiled, continue_on_step_failure=self.continue_on_step_failure
            )
        return compiled

    def _job_did_not_complete(self, message: str) -> None:
        """The job ended without completing: the step tasks report it, step by step.

        This task succeeds once it has watched the job to its end and published the
        steps' final states, so that clearing a failed step task (which resumes the
        job) can turn the DAG run green; it fails only when it could not run or
        watch the job (bad input, a stale manifest, a timeout).
        """
        self.log.warning("%s\nThe step tasks report the steps' outcomes.", message)

    def _job_state_seen(self, state: JobState) -> None:
        """Publish each look at the job for the step tasks (when something changed)."""
        if self._push is None:
            return
        if state.steps is None and state.is_terminal and self._hook is not None:
            try:  # re-attached to a job that had ended: its steps were not listed yet
                state = self._hook.get_job_state(state.name)
            except Exception as error:
                self.log.warning("Could not list the steps of %s: %s", state.name, error)
        if self._publisher is None:
            self._publisher = self._new_publisher()
        self._publisher.publish(state)

    def _new_publisher(self) -> JobStatePublisher:
        if self._local_job is not None:
            from airflow_kedro_azureml.local.pipeline_run import step_log_path

            run_dir = self._local_job.run_dir
            return JobStatePublisher(
                self._push,
                backend="local",
                runs_dir=str(self._local_job.settings.runs_dir),
                log_path_of=lambda step: str(step_log_path(run_dir, step)),
            )
        workspace = None
        if self._hook is not None:
            workspace = dataclasses.asdict(self._hook.workspace)
        return JobStatePublisher(self._push, backend="azure", workspace=workspace)

    # -- called by the step tasks after the watched job ended ---------------------------------

    def job_state(self, published: PublishedJob, name: str) -> JobState | None:
        """Job ``name`` of the same task run as ``published``, with its steps; None if none."""
        if published.backend == "local":
            from airflow_kedro_azureml.local.job import read_local_job_state

            if published.runs_dir is None:
                return None
            folder = Path(published.runs_dir) / name
            state = read_local_job_state(Path(published.runs_dir), name)
            if state is None and folder.is_dir():  # claimed by a step task, not started yet
                return JobState(name, "NotStarted", folder.as_uri(), ())
            return state
        try:
            return self.published_hook(published).get_job_state(name, with_step_errors=True)
        except AzureMLRequestError as error:
            if error.status_code == 404:
                return None
            raise

    def newest_job(self, published: PublishedJob) -> JobState:
        """The newest job of the task run ``published`` belongs to (itself, or a later one).

        The later jobs are only looked up by name; the newest is then read whole.
        """
        name = published.job_name
        for _ in range(MAX_GENERATIONS):
            if not self._job_exists(published, next_job_name(name)):
                break
            name = next_job_name(name)
        newest = self.job_state(published, name)
        if newest is None:
            raise ConfigError(f"job {name} of the group's submit task run is gone")
        return newest

    def _job_exists(self, published: PublishedJob, name: str) -> bool:
        if published.backend == "local":
            return published.runs_dir is not None and (Path(published.runs_dir) / name).is_dir()
        return self.published_hook(published).find_job_state(name) is not None

    def published_hook(self, published: PublishedJob) -> AzureMLHook:
        """A hook on the workspace of the published job."""
        from airflow_kedro_azureml.connection import WorkspaceRef
        from airflow_kedro_azureml.hooks.azureml import AzureMLHook

        if self._hook is None:
            workspace = WorkspaceRef(**published.workspace) if published.workspace else None
            self._hook = AzureMLHook(azureml_conn_id=self.azureml_conn_id, workspace=workspace)
        return self._hook

    def resume(self, context: Context, published: PublishedJob, ended: str) -> str:
        """Run the pipeline again after job ``ended``; return the new job's name.

        On Azure ML the next job of the task run is submitted (or re-attached to,
        when another step task submitted it first): the steps that completed are
        reused, so only the others run. On the local backend the next run reuses
        the completed steps' outputs and runs here, to its end.
        """
        run_id = self.run_id or self._run_id_from(context)
        request = self._compile_request(run_id)
        if published.backend == "local":
            return self._resume_locally(published, ended, request, run_id)
        from airflow_kedro_azureml.azure.job_launch import submit_or_attach
        from airflow_kedro_azureml.compiler.child import compile_in_child

        with _bad_input_fails_fast():
            result = compile_in_child(request, on_line=self._log_compile_line)
            compiled = self._compiled(result.compiled, run_id)
            hook = self._workspace_hook(result.project)
            self._hook = hook
            launched = submit_or_attach(
                hook,
                compiled,
                lambda name: self._job_identity(context, compiled, name, run_id),
                ended,
                log=self.log,
            )
        self.log.info("Azure ML job %s: %s", launched.state.name, launched.state.studio_url)
        return launched.state.name

    def _resume_locally(
        self, published: PublishedJob, ended: str, request: Any, run_id: str
    ) -> str:
        from airflow_kedro_azureml.hooks.azureml import AzureMLHook
        from airflow_kedro_azureml.local.job import reusable_steps

        assert published.runs_dir is not None
        runs_dir = Path(published.runs_dir)
        name = next_job_name(ended)
        try:
            (runs_dir / name).mkdir(parents=True)  # whoever creates the folder runs the job
        except FileExistsError:
            self.log.info("Job %s was started by another task: following it", name)
            return name
        reused = reusable_steps(runs_dir, ended)
        self.log.info(
            "Running job %s on the local backend, reusing %d completed step(s) of %s",
            name,
            len(reused),
            ended,
        )
        job = self._new_local_job(request.project_path, name)
        with _bad_input_fails_fast():
            try:
                settings = AzureMLHook(azureml_conn_id=self.azureml_conn_id).settings
                result = job.compile(
                    request, runs_dir=runs_dir, max_parallel=settings.local_max_parallel
                )
                compiled = self._compiled(result.compiled, run_id)
            except BaseException:
                # Not started: give the claim back, so that a later clear runs the job
                # instead of following a run that never comes.
                shutil.rmtree(runs_dir / name, ignore_errors=True)
                raise
            outcome = job.run(compiled, reused=reused)
        self.log.info("Job %s ended %s (%s)", name, outcome.status, outcome.summary())
        return name


def check_manifest(compiled: CompiledPipeline, path: str, fingerprint: str, refresh: str) -> None:
    """Raise ``ConfigError`` when the compiled steps no longer match the manifest's."""
    from airflow_kedro_azureml.compiler.manifest import (
        PipelineManifest,
        manifest_steps,
        steps_fingerprint,
    )

    steps = manifest_steps(compiled)
    if steps_fingerprint(steps) == fingerprint:
        return
    changes = ""
    try:
        drawn = {step.name: step for step in PipelineManifest.read(Path(path)).steps}
        now = {step.name: step for step in steps}
        added = sorted(set(now) - set(drawn))
        removed = sorted(set(drawn) - set(now))
        changed = sorted(name for name in set(now) & set(drawn) if now[name] != drawn[name])
        parts = [
            f"{label}: {', '.join(names)}"
            for label, names in (("new steps", added), ("gone", removed), ("changed", changed))
            if names
        ]
        changes = f" ({'; '.join(parts)})" if parts else ""
    except ConfigError:
        pass
    raise ConfigError(
        f"the pipeline manifest {path} no longer matches the project's pipeline{changes}: "
        f"the DAG's step tasks would not be the job's steps. Refresh it in the project's "
        f"folder with: {refresh}; nothing was submitted"
    )
