"""KedroAzureMLPipelineOperator: run a whole Kedro pipeline as one Azure ML pipeline job.

The operator compiles inside ``execute()``, never at DAG parse time: importing
this module imports neither kedro nor azure.ai.ml.

Example::

    KedroAzureMLPipelineOperator(
        task_id="train",
        project_path="/opt/airflow/dags/demand_forecasting",
        pipeline="training",
        kedro_params={"training": {"window_end": "{{ data_interval_end | ds }}"}},
    )
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import AssetAlias, BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_kedro_azureml import DEFAULT_CONNECTION_ID
from airflow_kedro_azureml.assets import WrittenAsset, alias_name, written_assets
from airflow_kedro_azureml.errors import KedroAzureMLError, TransientAzureMLError
from airflow_kedro_azureml.identity import schedule_name_for, validate_schedule_name
from airflow_kedro_azureml.job_watch import JobWatch
from airflow_kedro_azureml.links import JOB_URL_XCOM_KEY, AzureMLJobLink
from airflow_kedro_azureml.operators.data_assets import publish_data_assets
from airflow_kedro_azureml.operators.schedule_task import (
    ScheduleAction,
    checked_schedule_arguments,
    describe_dry_run,
    run_schedule_action,
)
from airflow_kedro_azureml.schedules.spec import AzureMLSchedule
from airflow_kedro_azureml.settings import (
    checked_poll_interval,
    checked_timeout,
    default_deferrable,
)
from airflow_kedro_azureml.statuses import JobState, failure_message

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_kedro_azureml.compiler.kedro_project import KedroProject
    from airflow_kedro_azureml.compiler.spec import CompiledPipeline
    from airflow_kedro_azureml.hooks.azureml import AzureMLHook
    from airflow_kedro_azureml.local.job import LocalJob

JOB_NAME_XCOM_KEY = "azureml_job_name"
RUN_ID_XCOM_KEY = "kedro_run_id"


class KedroAzureMLPipelineOperator(BaseOperator):
    """Compile a Kedro pipeline into one Azure ML pipeline job, run it, and wait for it.

    :param project_path: folder of the Kedro project (the one holding pyproject.toml).
    :param pipeline: registered Kedro pipeline name.
    :param env: Kedro config environment (e.g. ``base``, ``prod``); Kedro's default if unset.
    :param kedro_params: runtime params for Kedro, like ``kedro run --params``; templated,
        must be JSON-serialisable, and every key must be a parameter of the project
        (a typo is an error naming the nearest key) unless ``allow_unknown_params``.
        Values reach the node exactly as given (no OmegaConf interpolation). (Named so
        because ``params`` is Airflow's own task-params argument of every operator.)
    :param azureml_conn_id: an ``azure_ml`` connection; its ``backend`` extra chooses
        Azure ML or the local backend.
    :param node_names, node_tags, from_nodes, to_nodes, from_inputs, to_outputs,
        node_namespaces: Kedro's usual pipeline filters.
    :param node_grouping: ``none`` (a step per node), ``namespace`` or ``memory``;
        defaults to ``execution.node_grouping`` of azureml.yml.
    :param run_id: the run identity (a Kedro save version); derived from the DAG run
        when unset, so every task of one DAG run shares it.
    :param experiment_name: the Azure ML experiment of the job; ``execution.experiment_name``
        of azureml.yml, else the DAG id, when unset.
    :param display_name: the job's name in Azure ML studio (``<dag_id>.<task_id>`` when unset).
    :param description: the job's description in Azure ML studio.
    :param job_tags: tags added to the job's own (``airflow_dag_id``, ``airflow_run_id``,
        ``airflow_task_id``, ``airflow_try_number``, ``kedro_pipeline``, ``kedro_env``,
        ``kedro_run_id``); templated.
    :param allow_unknown_params: accept ``kedro_params`` keys the project's parameters lack.
    :param poll_interval: seconds between status checks of the Azure ML job; defaults to
        the Airflow setting ``[kedro_azureml] poll_interval`` (30). The same in both modes.
    :param deferrable: wait in the triggerer instead of a worker slot (``AzureMLJobTrigger``);
        defaults to Airflow's ``[operators] default_deferrable``. Submission always
        happens in the worker; a job that has already ended does not defer.
    :param timeout: the longest wait for the job (seconds or a timedelta), after which
        the job is canceled and the task fails. Airflow's ``execution_timeout`` also
        cancels the job, in both modes.
    :param azureml_schedule: instead of running one job, create or update a native Azure
        ML schedule that fires the pipeline: a ``CronSchedule``, a ``RecurrenceSchedule``
        (``airflow_kedro_azureml.schedules``) or the name of a schedule under
        ``schedules`` in azureml.yml. Every firing gets its own run id (its firing time).
    :param schedule_name: the schedule's name; ``<dag_id>-<task_id>`` when unset.
    :param schedule_action: ``create_or_update`` (the default with ``azureml_schedule``),
        ``enable``, ``disable``, ``delete`` or ``trigger`` (fire once now).
    :param force_rerun: run every step of the job, even a step Azure ML could reuse
        from a completed run (same component, code, environment and inputs). Off by
        default: a retry after a failed job then resumes at the failed step. Clearing a
        task whose job completed always reruns every step.
    """

    template_fields: Sequence[str] = (
        "project_path",
        "pipeline",
        "env",
        "kedro_params",
        "node_names",
        "node_tags",
        "from_nodes",
        "to_nodes",
        "from_inputs",
        "to_outputs",
        "node_namespaces",
        "run_id",
        "experiment_name",
        "display_name",
        "description",
        "job_tags",
    )
    template_fields_renderers = {"kedro_params": "json", "job_tags": "json"}
    operator_extra_links = (AzureMLJobLink(),)
    ui_color = "#ffc900"

    def __init__(
        self,
        *,
        project_path: str | Path,
        pipeline: str = "__default__",
        env: str | None = None,
        kedro_params: dict[str, Any] | None = None,
        azureml_conn_id: str = DEFAULT_CONNECTION_ID,
        node_names: list[str] | None = None,
        node_tags: list[str] | None = None,
        from_nodes: list[str] | None = None,
        to_nodes: list[str] | None = None,
        from_inputs: list[str] | None = None,
        to_outputs: list[str] | None = None,
        node_namespaces: list[str] | None = None,
        node_grouping: str | None = None,
        run_id: str | None = None,
        experiment_name: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        job_tags: dict[str, str] | None = None,
        poll_interval: float | None = None,
        deferrable: bool | None = None,
        timeout: timedelta | float | None = None,
        allow_unknown_params: bool = False,
        azureml_schedule: AzureMLSchedule | str | None = None,
        schedule_name: str | None = None,
        schedule_action: ScheduleAction | None = None,
        force_rerun: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_path = str(project_path)
        self.pipeline = pipeline
        self.env = env
        self.kedro_params = kedro_params or {}
        self.azureml_conn_id = azureml_conn_id
        self.node_names = node_names
        self.node_tags = node_tags
        self.from_nodes = from_nodes
        self.to_nodes = to_nodes
        self.from_inputs = from_inputs
        self.to_outputs = to_outputs
        self.node_namespaces = node_namespaces
        self.node_grouping = node_grouping
        self.run_id = run_id
        self.experiment_name = experiment_name
        self.display_name = display_name
        self.description = description
        self.job_tags = job_tags or {}
        self.poll_interval = checked_poll_interval(poll_interval)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.timeout = checked_timeout(timeout)
        self.allow_unknown_params = allow_unknown_params
        self.azureml_schedule = azureml_schedule
        self.schedule_action = checked_schedule_arguments(azureml_schedule, schedule_action)
        self.schedule_name = validate_schedule_name(
            schedule_name or schedule_name_for(self.dag_id, self.task_id), "schedule_name"
        )
        self.force_rerun = force_rerun
        # Data assets the job writes are announced through this alias (see assets.py).
        self.data_asset_alias = alias_name(self.dag_id, self.task_id)
        self.outlets = [*self.outlets, AssetAlias(name=self.data_asset_alias)]
        self._local_job: LocalJob | None = None
        self._end_time: float | None = None
        self._job_name: str | None = None
        self._hook: AzureMLHook | None = None
        # The job's studio URL once known, for the task's extra link.
        self.studio_url: str | None = None

    # -- Airflow entry points ---------------------------------------------------------------

    def execute(self, context: Context) -> str:
        """Compile, run the job on the connection's backend, wait, and return the job name."""
        from airflow_kedro_azureml.hooks.azureml import AzureMLHook
        from airflow_kedro_azureml.identity import job_name_for

        ti = context["ti"]
        self._end_time = self._deadline(context)
        job_name = job_name_for(self.dag_id, self.task_id, ti.run_id, ti.map_index)
        with _bad_input_fails_fast():
            hook = AzureMLHook(azureml_conn_id=self.azureml_conn_id)
            is_local = hook.settings.is_local
            run_id = self.run_id or self._run_id_from(context)
        if self.schedule_action is not None:
            return self._manage_schedule(context, hook, is_local)
        if is_local:
            return self._run_locally(context, hook, job_name, run_id)
        from airflow_kedro_azureml.compiler.child import compile_in_child

        with _bad_input_fails_fast():
            result = compile_in_child(self._compile_request(run_id), on_line=self._log_compile_line)
            project, compiled = result.project, self._compiled(result.compiled, run_id)
        ti.xcom_push(key=RUN_ID_XCOM_KEY, value=run_id)
        return self._run_on_azure(context, project, compiled, job_name, run_id)

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """Render the templated arguments; a template that fails fails the task without retries.

        In ``kedro_params`` only strings that hold a template (``{{``, ``{%``, ``{#``)
        are rendered: Jinja would turn CRLF into LF and drop a trailing newline of
        every other value, which must reach the node as it was written.
        """
        params = self.kedro_params
        try:
            super().render_template_fields(context, jinja_env)
            env = jinja_env or self.get_template_env()
            self.kedro_params = self._render_templates_only(params, context, env)
        except Exception as error:
            raise AirflowFailException(
                f"a templated argument of task {self.task_id!r} could not be rendered: "
                f"{type(error).__name__}: {error}; fix the template in the DAG file"
            ) from None

    def _render_templates_only(self, value: Any, context: Context, jinja_env: Any) -> Any:
        if isinstance(value, str):
            if any(marker in value for marker in ("{{", "{%", "{#")):
                return self.render_template(value, context, jinja_env)
            return value
        if isinstance(value, dict):
            return {
                key: self._render_templates_only(item, context, jinja_env)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self._render_templates_only(i, context, jinja_env) for i in value)
        return value

    def on_kill(self) -> None:
        """Stop the job when Airflow kills the task (nothing to do before submission)."""
        if self._local_job is not None:
            self.log.info("Task killed: cancelling the local pipeline run")
            self._local_job.cancel()
        if self._job_name is not None and self._hook is not None:
            self._cancel_azure_job("task killed")

    # -- steps of execute -------------------------------------------------------------------

    def _run_id_from(self, context: Context) -> str:
        from airflow_kedro_azureml.identity import airflow_run_id

        dag_run = context["dag_run"]
        return airflow_run_id(
            dag_id=self.dag_id,
            dag_run_id=dag_run.run_id,
            logical_date=getattr(dag_run, "logical_date", None),
            run_after=getattr(dag_run, "run_after", None),
        )

    def _compile_request(self, run_id: str | None, compile_run_id: str | None = None) -> Any:
        """What the compile process opens and compiles.

        The config resolves with the runtime params the steps will get (a schedule's
        job learns its run time when it fires: ``run_id`` None). ``compile_run_id``
        is the run id compiled into the job (``run_id`` unless given).
        """
        from airflow_kedro_azureml.compiler import CompileOptions
        from airflow_kedro_azureml.compiler.child import CompileRequest
        from airflow_kedro_azureml.compiler.kedro_project import PipelineFilters
        from airflow_kedro_azureml.compute.run_time import step_runtime_params

        filters = PipelineFilters(
            tags=tuple(self.node_tags or ()),
            node_names=tuple(self.node_names or ()),
            from_nodes=tuple(self.from_nodes or ()),
            to_nodes=tuple(self.to_nodes or ()),
            from_inputs=tuple(self.from_inputs or ()),
            to_outputs=tuple(self.to_outputs or ()),
            node_namespaces=tuple(self.node_namespaces or ()),
        )
        options = CompileOptions(
            pipeline_name=self.pipeline,
            filters=filters,
            run_id=compile_run_id or run_id or "",
            params=self.kedro_params,
            node_grouping=self.node_grouping,
            allow_unknown_params=self.allow_unknown_params,
        )
        return CompileRequest(
            project_path=Path(self.project_path).expanduser().absolute(),
            env=self.env,
            runtime_params=step_runtime_params(self.kedro_params or {}, run_id),
            options=options,
        )

    def _log_compile_line(self, line: str) -> None:
        """A line the compile process logged (Kedro's, the project's): into the task log."""
        self.log.info("[compile] %s", line)

    def _compiled(self, compiled: CompiledPipeline | None, run_id: str) -> CompiledPipeline:
        """``compiled``, logged: its steps and which local datasets travel between them."""
        assert compiled is not None
        self.log.info(
            "Compiled pipeline %r into %d step(s), run id %s",
            self.pipeline,
            len(compiled.steps),
            run_id,
        )
        note = compiled.promotion_note()
        if note:
            self.log.info("%s", note)
        return compiled

    # -- native schedules ---------------------------------------------------------------------

    def _manage_schedule(self, context: Context, hook: AzureMLHook, is_local: bool) -> str:
        """Open the project (and compile the schedule's job, for create_or_update), then act."""
        from dataclasses import replace

        from airflow_kedro_azureml.compiler.child import compile_in_child
        from airflow_kedro_azureml.compiler.spec import TRIGGER_TIME_RUN_ID

        action, name = str(self.schedule_action), self.schedule_name
        with _bad_input_fails_fast():
            request = self._compile_request(None, compile_run_id=TRIGGER_TIME_RUN_ID)
            if action != "create_or_update":
                request = replace(request, options=None)
            result = compile_in_child(request, on_line=self._log_compile_line)
            project = result.project
            compiled = None
            if result.compiled is not None:
                compiled = self._compiled(result.compiled, TRIGGER_TIME_RUN_ID)
            if is_local:
                return describe_dry_run(self, project, compiled, action, name)
            hook = self._workspace_hook(project)
            hook.workspace  # noqa: B018 - validates the workspace before any request
            return run_schedule_action(self, context, hook, project, compiled, action, name)

    def _schedule_identity(self, compiled: CompiledPipeline) -> Any:
        """How the schedule's jobs are named and labelled (nothing of one Airflow run)."""
        from airflow_kedro_azureml.azure.pipeline_job import JobIdentity

        tags = {
            "airflow_dag_id": self.dag_id,
            "airflow_task_id": self.task_id,
            "kedro_pipeline": self.pipeline,
            "kedro_env": self.env or "",
            **{str(key): str(value) for key, value in self.job_tags.items()},
        }
        return JobIdentity(
            experiment_name=self.experiment_name or compiled.experiment_name or self.dag_id,
            display_name=self.display_name or f"{self.dag_id}.{self.task_id}",
            description=self.description,
            tags=tags,
        )

    # -- local backend ------------------------------------------------------------------------

    def _run_locally(self, context: Context, hook: AzureMLHook, job_name: str, run_id: str) -> str:
        ti = context["ti"]
        with _bad_input_fails_fast():
            request = self._compile_request(run_id)
            self._local_job = self._new_local_job(request.project_path, job_name)
            self._local_job.on_state = self._job_state_seen
            result = self._local_job.compile(
                request,
                runs_dir=hook.settings.local_runs_dir,
                max_parallel=hook.settings.local_max_parallel,
            )
            compiled = self._compiled(result.compiled, run_id)
        report = compiled.local_files_report()
        if report is not None:  # the local backend runs it; Azure ML would refuse it
            self.log.warning("%s", report)
        ti.xcom_push(key=RUN_ID_XCOM_KEY, value=run_id)
        ti.xcom_push(key=JOB_NAME_XCOM_KEY, value=job_name)
        self.studio_url = self._local_job.run_dir.as_uri()
        ti.xcom_push(key=JOB_URL_XCOM_KEY, value=self.studio_url)
        run_dir = self._local_job.run_dir
        self.log.info("Running job %s on the local backend in %s", job_name, run_dir)
        if self.deferrable:
            self.log.info("deferrable=True: the local backend runs the steps in this worker")
        identity = self._job_identity(context, compiled, job_name, run_id)
        with _bad_input_fails_fast():
            outcome = self._local_job.run(
                compiled, run_tags=identity.tags, experiment_name=identity.experiment_name
            )
        self.log.info("Job %s ended %s (%s)", job_name, outcome.status, outcome.summary())
        for line in self._local_job.summary_lines(compiled):
            self.log.info("Job %s: %s", job_name, line)
        if not outcome.succeeded:
            self._job_did_not_complete(
                f"Kedro pipeline {self.pipeline!r} {outcome.status.lower()}: "
                f"{outcome.failure_message()}"
            )
            return job_name
        written = written_assets(compiled, None, job_name)
        publish_data_assets(context, self.data_asset_alias, written, identity.tags, self.log)
        return job_name

    def _new_local_job(self, project_path: Path, job_name: str) -> LocalJob:
        """A local run of job ``job_name`` whose step lines (at their levels), progress and
        compile lines go to the task log."""
        from airflow_kedro_azureml.local.job import LocalJob, StepLogLevels

        levels = StepLogLevels()
        return LocalJob(
            project_path,
            job_name,
            on_log=lambda step, line: self.log.log(
                levels.level_of(step, line), "[%s] %s", step, line
            ),
            on_progress=lambda line: self.log.info("%s", line),
            on_compile_line=self._log_compile_line,
        )

    # -- Azure ML -----------------------------------------------------------------------------

    def _workspace_hook(self, project: KedroProject) -> AzureMLHook:
        """The hook for Azure ML: azureml.yml fills in what the connection leaves unset."""
        from airflow_kedro_azureml.connection import WorkspaceRef
        from airflow_kedro_azureml.hooks.azureml import AzureMLHook

        configured = project.config.workspace.resolve() if project.config.workspace else None
        return AzureMLHook(
            azureml_conn_id=self.azureml_conn_id,
            workspace=None
            if configured is None
            else WorkspaceRef(
                configured.subscription_id, configured.resource_group, configured.name
            ),
        )

    def _run_on_azure(
        self,
        context: Context,
        project: KedroProject,
        compiled: CompiledPipeline,
        job_name: str,
        run_id: str,
    ) -> str:
        from airflow_kedro_azureml.azure.job_launch import submit_or_attach

        hook = self._workspace_hook(project)
        ti = context["ti"]
        record = _TaskJobRecord(context)
        first_name, rerun_completed = record.starting_point(job_name)

        def before_submit(name: str) -> None:
            # From here on a kill cancels the job, even one whose PUT has no answer yet.
            self._job_name = name
            record.save(name)
            ti.xcom_push(key=JOB_NAME_XCOM_KEY, value=name)

        with _bad_input_fails_fast():
            hook.workspace  # noqa: B018 - validates the workspace before any request
            self._hook = hook
            launched = submit_or_attach(
                hook,
                compiled,
                lambda name: self._job_identity(context, compiled, name, run_id),
                first_name,
                rerun_completed=rerun_completed,
                before_submit=before_submit,
                log=self.log,
            )
        job = launched.state
        self._job_name = job.name
        record.save(job.name)
        self.studio_url = job.studio_url
        ti.xcom_push(key=JOB_NAME_XCOM_KEY, value=job.name)
        ti.xcom_push(key=JOB_URL_XCOM_KEY, value=job.studio_url)
        self.log.info("Azure ML job %s: %s", job.name, job.studio_url)
        total = len(compiled.steps)
        written = written_assets(compiled, hook.workspace, job.name)
        tags = self._job_identity(context, compiled, job.name, run_id).tags
        with _bad_input_fails_fast(value_errors=False):
            if job.is_terminal:  # re-attached to a job that has ended: nothing to wait for
                completed = self._finish(hook, job.name, job, total)
            else:
                if self.deferrable:
                    self._defer_to_trigger(hook, job.name, total, written, tags)
                completed = self._wait(hook, job.name, total)
            if completed:
                publish_data_assets(context, self.data_asset_alias, written, tags, self.log, hook)
        return job.name

    def execute_complete(
        self,
        context: Context,
        event: dict[str, Any],
        data_assets: list[dict[str, str]] | None = None,
        tags: dict[str, str] | None = None,
        workspace: dict[str, str] | None = None,
    ) -> str:
        """Resume after ``AzureMLJobTrigger``: succeed, or fail with the trigger's message."""
        status = event.get("status")
        job = JobState.from_dict(event["job"]) if "job" in event else None
        name = job.name if job is not None else str(event.get("job_name"))
        if status == "success":
            self.log.info("Job %s completed", name)
            written = [WrittenAsset(**item) for item in data_assets or []]
            if written:
                from airflow_kedro_azureml.connection import WorkspaceRef
                from airflow_kedro_azureml.hooks.azureml import AzureMLHook

                hook = AzureMLHook(
                    azureml_conn_id=self.azureml_conn_id,
                    workspace=WorkspaceRef(**(workspace or {})),
                )
                tags = dict(tags or {})
                with _bad_input_fails_fast(value_errors=False):
                    publish_data_assets(
                        context, self.data_asset_alias, written, tags, self.log, hook
                    )
            return name
        if status == "failed":
            self._job_did_not_complete(str(event.get("message")))
            return name
        if status == "timeout":
            raise _job_failed(str(event.get("message")))
        # Azure ML refused to answer for good (the job vanished, access was revoked).
        raise AirflowFailException(f"watching Azure ML job {name} failed: {event.get('message')}")

    def _defer_to_trigger(
        self,
        hook: AzureMLHook,
        job_name: str,
        total_steps: int,
        written: list[WrittenAsset],
        tags: dict[str, str],
    ) -> None:
        from dataclasses import asdict

        workspace = asdict(hook.workspace)
        self.log.info("Deferring: the triggerer watches job %s from here on", job_name)
        timeout = None
        if self._end_time is not None:
            # Airflow's own limit, a little after the trigger's: only a lost trigger reaches it.
            timeout = timedelta(seconds=max(self._end_time - time.time(), 0) + 120)
        self.defer(
            trigger=self._job_trigger(
                job_name=job_name,
                azureml_conn_id=self.azureml_conn_id,
                workspace=workspace,
                poll_interval=self.poll_interval,
                total_steps=total_steps,
                end_time=self._end_time,
            ),
            method_name="execute_complete",
            # What to publish when the job completes: the written data assets.
            kwargs={
                "data_assets": [asset.to_dict() for asset in written],
                "tags": tags,
                "workspace": workspace,
            }
            if written
            else None,
            timeout=timeout,
        )

    def _job_trigger(self, **kwargs: Any) -> Any:
        """The trigger that watches the job once the task defers."""
        from airflow_kedro_azureml.triggers.azureml_job import AzureMLJobTrigger

        return AzureMLJobTrigger(**kwargs)

    def _deadline(self, context: Context) -> float | None:
        """The Unix time the wait ends: ``timeout`` from now, or the execution timeout."""
        ends = []
        if self.timeout is not None:
            ends.append(time.time() + self.timeout.total_seconds())
        start = getattr(context["ti"], "start_date", None)
        if self.execution_timeout is not None and start is not None:
            ends.append(start.timestamp() + self.execution_timeout.total_seconds())
        return min(ends) if ends else None

    def _job_identity(
        self, context: Context, compiled: CompiledPipeline, job_name: str, run_id: str
    ) -> Any:
        from airflow_kedro_azureml.azure.pipeline_job import JobIdentity
        from airflow_kedro_azureml.identity import job_tags

        ti = context["ti"]
        tags = job_tags(
            dag_id=self.dag_id,
            dag_run_id=ti.run_id,
            task_id=self.task_id,
            try_number=ti.try_number,
            pipeline=self.pipeline,
            env=self.env,
            run_id=run_id,
            extra=self.job_tags,
        )
        return JobIdentity(
            name=job_name,
            experiment_name=self.experiment_name or compiled.experiment_name or self.dag_id,
            display_name=self.display_name or f"{self.dag_id}.{self.task_id}",
            description=self.description,
            tags=tags,
            force_rerun=self.force_rerun,
        )

    def _wait(self, hook: AzureMLHook, job_name: str, total_steps: int) -> bool:
        """Poll until the job ends (True: it completed); transient errors are logged and
        polled again, backing off."""
        from airflow.sdk.exceptions import AirflowTaskTimeout

        watch = JobWatch(job_name, self.poll_interval, total_steps, self._end_time, self.log)
        try:
            while True:
                if watch.timed_out():
                    self._cancel_azure_job("timed out")
                    raise _job_failed(f"Azure ML job {job_name} timed out and was canceled")
                try:
                    state = hook.get_job_state(job_name)
                except TransientAzureMLError as error:
                    time.sleep(watch.after_transient_error(error))
                    continue
                pause = watch.after_look(state)
                if not state.is_terminal:
                    self._job_state_seen(state)
                else:
                    return self._finish(hook, job_name, state, total_steps)
                time.sleep(pause)
        except AirflowTaskTimeout:
            self._cancel_azure_job("task timed out")
            raise

    def _finish(self, hook: AzureMLHook, job_name: str, state: JobState, total: int) -> bool:
        """True for a completed job; otherwise fail naming the failed steps and errors."""
        if state.is_success:
            self._job_state_seen(state)
            self.log.info("Job %s completed", job_name)
            return True
        final = hook.ended_job_state(state)
        self._job_state_seen(final)
        self._job_did_not_complete(failure_message(job_name, final.status, final.steps or ()))
        return False

    def _job_did_not_complete(self, message: str) -> None:
        """The job ended without completing: fail the task with ``message``."""
        raise _job_failed(message)

    def _job_state_seen(self, state: JobState) -> None:
        """Called with each look at the job (and its end state, step errors included)."""

    def _cancel_azure_job(self, reason: str) -> None:
        if self._hook is None or self._job_name is None:
            return
        self.log.info("%s: cancelling Azure ML job %s", reason.capitalize(), self._job_name)
        try:
            if not self._hook.cancel_job(self._job_name):
                self.log.warning("Job %s was never created: nothing to cancel", self._job_name)
        except Exception as error:  # cancelling is best effort; say why it failed
            self.log.error("Could not cancel job %s: %s", self._job_name, error)


class _TaskJobRecord:
    """The task run's current job name in Airflow's task state store (kept across tries).

    With it, a new try starts at the job the last try watched. Stored beside it is
    the try series (the task instance's ``max_tries``, which Airflow raises when a
    user clears the task): a new series asks for a completed job to run again.
    Without a task state store (older Airflow, tests), tries start at the first name.
    """

    KEY = "azureml_job"

    def __init__(self, context: Context) -> None:
        self._store: Any = context.get("task_state_store")
        self._series = getattr(context["ti"], "max_tries", None)

    def starting_point(self, first_name: str) -> tuple[str, bool]:
        """The name to start at, and whether a completed job there should run again."""
        stored = self._store.get(self.KEY) if self._store is not None else None
        if not isinstance(stored, dict) or not stored.get("job_name"):
            return first_name, False
        return str(stored["job_name"]), stored.get("series") != self._series

    def save(self, job_name: str) -> None:
        """Record ``job_name`` as the task run's current job."""
        if self._store is not None:
            self._store.set(self.KEY, {"job_name": job_name, "series": self._series})


def _job_failed(message: str) -> Exception:
    """The task's failure for a job that did not complete (the hook module loads on use)."""
    from airflow_kedro_azureml.hooks.azureml import AzureMLJobFailedException

    return AzureMLJobFailedException(message)


@contextmanager
def _bad_input_fails_fast(value_errors: bool = True) -> Iterator[None]:
    """Turn the package's errors into ``AirflowFailException``: bad input is never retried.

    Transient Azure ML errors stay as they are, so Airflow's retries apply to them.
    With ``value_errors``, a ``ValueError`` (a bad argument) fails fast too.
    """
    final: tuple[type[Exception], ...] = (
        (KedroAzureMLError, ValueError) if value_errors else (KedroAzureMLError,)
    )
    try:
        yield
    except TransientAzureMLError:
        raise
    except final as error:
        raise AirflowFailException(str(error)) from None
