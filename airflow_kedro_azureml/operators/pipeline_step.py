"""KedroAzureMLStepOperator: one step of a ``KedroAzureMLTaskGroup``'s job, as an Airflow task.

The task runs nothing itself: it succeeds when its step completes in the group's
ONE job (ran, or was reused), fails when the step fails, was canceled or never ran
in a job that ended, and logs the step's duration and the end of its log. While
the group's submit task watches the job the task reads only what that task
publishes, deferred to ``KedroAzureMLStepTrigger`` (or polling in the worker with
``deferrable=False``).

After the watched job ended (a clear, a retry, or a submit task that died), the
task looks for the newest job of the task run and follows it; when its step did
not complete there either and this task already reported that (it failed on it
before, so this is a retry or a clear), it submits the next job through the
submit task (``KedroAzureMLSubmitOperator.resume``): Azure ML reuses the steps
that completed, so only this step and what depends on it run again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowRescheduleException

from airflow_kedro_azureml import DEFAULT_CONNECTION_ID, statuses
from airflow_kedro_azureml.links import JOB_URL_XCOM_KEY, AzureMLJobLink
from airflow_kedro_azureml.published_job import PublishedJob, PublishedStep
from airflow_kedro_azureml.settings import checked_poll_interval, default_deferrable
from airflow_kedro_azureml.statuses import JobState, StepState
from airflow_kedro_azureml.step_lookup import StepLook, look

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_kedro_azureml.operators.pipeline_submit import KedroAzureMLSubmitOperator

REPORTED_KEY = "azureml_step_reported"
# The longest pause before looking again for a submit task that has not started.
NOT_STARTED_PAUSE = 5.0
# The shortest deferral: see KedroAzureMLStepTrigger (a scheduler race on quick resumes).
DEFER_SETTLE_SECONDS = 10.0


class KedroAzureMLStepOperator(BaseOperator):
    """Succeed, or fail, with one step of the task group's Azure ML pipeline job.

    :param step_name: the compiled step this task stands for.
    :param submit_task_id: the group's submit task (the one that runs and watches the job).
    :param node_names: the Kedro nodes the step runs (logged, and shown in the task's
        rendered fields).
    :param azureml_conn_id: the group's ``azure_ml`` connection.
    :param poll_interval: seconds between two looks at what the submit task publishes;
        ``[kedro_azureml] poll_interval`` when unset.
    :param deferrable: wait in the triggerer (no worker slot held); Airflow's
        ``[operators] default_deferrable`` when unset.
    """

    template_fields: Sequence[str] = ("node_names",)
    operator_extra_links = (AzureMLJobLink(),)
    ui_color = "#fff3bf"

    def __init__(
        self,
        *,
        step_name: str,
        submit_task_id: str,
        node_names: Sequence[str] = (),
        azureml_conn_id: str = DEFAULT_CONNECTION_ID,
        poll_interval: float | None = None,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.step_name = step_name
        self.submit_task_id = submit_task_id
        self.node_names = list(node_names)
        self.azureml_conn_id = azureml_conn_id
        self.poll_interval = checked_poll_interval(poll_interval)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.studio_url: str | None = None

    # -- Airflow entry points ---------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        """Wait for the step in the group's job; succeed or fail with it."""
        return self._proceed(context, self._look(context))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after ``KedroAzureMLStepTrigger`` woke the task: look again and decide."""
        if event.get("status") == "error":
            raise RuntimeError(
                f"could not read what task {self.submit_task_id} published: {event['message']}"
            )
        return self._proceed(context, self._look(context))

    # -- what to do next --------------------------------------------------------------------

    def _look(self, context: Context) -> StepLook:
        ti = context["ti"]
        return look(self.dag_id, ti.run_id, self.submit_task_id, self.step_name)

    def _proceed(self, context: Context, seen: StepLook) -> dict[str, Any]:
        job, step = seen.job, seen.step
        if job is not None and step is not None and seen.completed:
            return self._succeed(context, job, job.job_name, step)
        if seen.submit_watching:
            stale = None
            if job is not None and step is not None and step.is_terminal:
                if not self._reported(context, job.job_name):
                    self._report(context, job.job_name, job.status, step, job.studio_url)
                # A retry, or the submit task's new try has not replaced the job it
                # published last: wait for a newer job or for the submit task to end.
                stale = job.job_name
                self.log.info(
                    "Step %r already ended %s in job %s (reported by an earlier try): waiting "
                    "for task %s to publish a newer job or to end",
                    self.step_name,
                    step.status,
                    stale,
                    self.submit_task_id,
                )
            return self._proceed(context, self._wait(context, stale))
        if seen.submit_not_started:
            pause = min(self.poll_interval, NOT_STARTED_PAUSE)
            self.log.info(
                "Task %s has not started the job yet (%s): looking again in %.0f s",
                self.submit_task_id,
                seen.submit_state or "no state",
                pause,
            )
            raise AirflowRescheduleException(_utc_in(pause))
        if job is None:
            raise AirflowFailException(
                f"task {self.submit_task_id} ended {seen.submit_state} before it started a job "
                f"for step {self.step_name!r}: see its log (clear it to try again)"
            )
        return self._after_job_ended(context, job)

    def _wait(self, context: Context, stale_job: str | None = None) -> StepLook:
        """Wait until the step ends (in another job than ``stale_job``) or the submit task
        stops watching (defer, or poll here)."""
        ti = context["ti"]
        if self.deferrable:
            from airflow_kedro_azureml.triggers.pipeline_step import KedroAzureMLStepTrigger

            self.log.info(
                "Deferring: step %r runs in the job task %s watches",
                self.step_name,
                self.submit_task_id,
            )
            self.defer(
                trigger=KedroAzureMLStepTrigger(
                    dag_id=self.dag_id,
                    run_id=ti.run_id,
                    submit_task_id=self.submit_task_id,
                    step_name=self.step_name,
                    poll_interval=self.poll_interval,
                    not_before=time.time() + DEFER_SETTLE_SECONDS,
                    stale_job=stale_job,
                ),
                method_name="execute_complete",
            )
        while True:
            time.sleep(self.poll_interval)
            seen = self._look(context)
            if seen.step_ended_in_a_job_but(stale_job) or not seen.submit_watching:
                return seen

    def _after_job_ended(self, context: Context, published: PublishedJob) -> dict[str, Any]:
        """The watched job is over: follow a later job, report, or resume."""
        submit = self._submit_operator(context)
        newest = submit.newest_job(published)
        if newest.name != published.job_name:
            self.log.info("A later job of this task run exists: following %s", newest.name)
        while True:
            step = _step_in(newest, self.step_name)
            if step is not None and step.status == statuses.COMPLETED:
                done = _published(step, _local_log(published, newest.name, self.step_name))
                return self._succeed(context, published, newest.name, done, newest)
            if newest.is_terminal:
                if not self._reported(context, newest.name):
                    self._report(
                        context, newest.name, newest.status, _maybe(step), newest.studio_url, newest
                    )
                self.log.info(
                    "Step %r did not complete in job %s (%s): running the pipeline again; "
                    "the steps that completed are reused",
                    self.step_name,
                    newest.name,
                    step.status if step else "not run",
                )
                name = submit.resume(context, published, newest.name)
            else:
                if step is not None and statuses.is_terminal(step.status):
                    if not self._reported(context, newest.name):
                        self._report(
                            context,
                            newest.name,
                            newest.status,
                            _published(step),
                            newest.studio_url,
                            newest,
                        )
                    self.log.info("Job %s is still running: waiting for it to end", newest.name)
                time.sleep(self.poll_interval)
                name = newest.name
            state = submit.job_state(published, name)
            if state is None:
                raise AirflowFailException(f"job {name} of this task run is gone")
            newest = state

    # -- outcomes -----------------------------------------------------------------------------

    def _succeed(
        self,
        context: Context,
        published: PublishedJob,
        job_name: str,
        step: PublishedStep,
        state: JobState | None = None,
    ) -> dict[str, Any]:
        self._show_link(context, step.studio_url or _job_url(published, state))
        duration = step.duration
        how = "reused a completed run" if step.reused else "ran"
        took = f" in {duration:.1f} s" if duration is not None and not step.reused else ""
        self.log.info(
            "Step %r (nodes: %s) completed%s in job %s: it %s",
            self.step_name,
            ", ".join(self.node_names) or "-",
            took,
            job_name,
            how,
        )
        tail = self._log_tail(published, step)
        if tail:
            self.log.info("End of the step's log:\n%s", tail)
        return {
            "step": self.step_name,
            "status": statuses.COMPLETED,
            "job": job_name,
            "duration_seconds": None if duration is None else round(duration, 3),
            "reused": step.reused,
        }

    def _report(
        self,
        context: Context,
        job_name: str,
        job_status: str | None,
        step: PublishedStep | None,
        job_url: str,
        state: JobState | None = None,
    ) -> None:
        """Fail the task with the step's end (remembered, so a retry or clear resumes)."""
        from airflow_kedro_azureml.hooks.azureml import AzureMLJobFailedException

        self._remember_report(context, job_name)
        self._show_link(context, (step.studio_url if step else "") or job_url)
        if step is None or step.status in (statuses.NOT_STARTED, statuses.QUEUED, ""):
            steps = state.steps if state is not None else None
            failed = sorted(s.name for s in steps or () if s.status == statuses.FAILED)
            because = f" (failed: {', '.join(failed)})" if failed else ""
            message = (
                f"step {self.step_name!r} did not run: job {job_name} ended {job_status}{because}"
            )
        else:
            message = f"step {self.step_name!r} {step.status.lower()} in job {job_name}"
            if step.error:
                message += f": {step.error}"
            if step.log_tail:
                message += "\n  last lines of its log:\n" + _indent(step.log_tail)
            duration = step.duration
            if duration is not None:
                message += f"\n  after {duration:.1f} s"
        raise AzureMLJobFailedException(
            message + "\nClear this task (with its downstream tasks) to run it again: the "
            "steps that completed are reused."
        )

    def _reported(self, context: Context, job_name: str) -> bool:
        """Whether an earlier try of this task already failed on ``job_name``."""
        store = context.get("task_state_store")
        if store is None:
            return int(getattr(context["ti"], "try_number", 1) or 1) > 1
        reported = store.get(REPORTED_KEY)
        return isinstance(reported, list) and job_name in reported

    def _remember_report(self, context: Context, job_name: str) -> None:
        store = context.get("task_state_store")
        if store is not None:
            stored = store.get(REPORTED_KEY)
            reported = list(stored) if isinstance(stored, list) else []
            if job_name not in reported:
                store.set(REPORTED_KEY, [*reported, job_name])

    def _show_link(self, context: Context, url: str) -> None:
        if url:
            self.studio_url = url
            context["ti"].xcom_push(key=JOB_URL_XCOM_KEY, value=url)

    def _log_tail(self, published: PublishedJob, step: PublishedStep) -> str | None:
        """The end of the step's own log (a file locally, the step job's log on Azure ML)."""
        if step.log_tail:
            return step.log_tail
        if step.log_path:
            path = Path(step.log_path)
            if path.is_file():
                return statuses.last_lines(path.read_text(encoding="utf-8", errors="replace"))
            return None
        if step.run_name and published.backend == "azure":
            submit: Any = self.dag.get_task(self.submit_task_id)
            try:
                tail: str | None = submit.published_hook(published).step_log_tail(step.run_name)
                return tail
            except Exception as error:  # the tail is a courtesy: never fail the step on it
                self.log.info("Could not read the step's log: %s", type(error).__name__)
        return None

    def _submit_operator(self, context: Context) -> KedroAzureMLSubmitOperator:
        """The group's submit task, its templates rendered for this DAG run."""
        from airflow_kedro_azureml.operators.pipeline_submit import KedroAzureMLSubmitOperator

        submit = self.dag.get_task(self.submit_task_id)
        if not isinstance(submit, KedroAzureMLSubmitOperator):
            raise AirflowFailException(
                f"task {self.submit_task_id!r} is not the submit task of a KedroAzureMLTaskGroup"
            )
        submit.render_template_fields(context)
        return submit


def _step_in(state: JobState, name: str) -> StepState | None:
    return next((step for step in state.steps or () if step.name == name), None)


def _local_log(published: PublishedJob, job_name: str, step_name: str) -> str:
    """The log file of a step of a local job (empty on Azure ML)."""
    if published.backend != "local" or published.runs_dir is None:
        return ""
    from airflow_kedro_azureml.local.pipeline_run import step_log_path

    return str(step_log_path(Path(published.runs_dir) / job_name, step_name))


def _published(step: StepState, log_path: str = "") -> PublishedStep:
    return PublishedStep(
        log_path=log_path,
        status=step.status,
        error=step.error,
        log_tail=step.log_tail,
        studio_url=step.studio_url,
        reused=step.reused,
        run_name=step.run_name,
    )


def _maybe(step: StepState | None) -> PublishedStep | None:
    return None if step is None else _published(step)


def _job_url(published: PublishedJob, state: JobState | None) -> str:
    return (state.studio_url if state is not None else "") or published.studio_url


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def _utc_in(seconds: float) -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC) + timedelta(seconds=seconds)
