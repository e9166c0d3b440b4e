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

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_kedro_azureml import DEFAULT_CONNECTION_ID, statuses
from airflow_kedro_azureml.errors import KedroAzureMLError
from airflow_kedro_azureml.job_progress import StepState, failure_message, progress_line
from airflow_kedro_azureml.links import JOB_URL_XCOM_KEY, AzureMLJobLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_kedro_azureml.connection import ConnectionSettings
    from airflow_kedro_azureml.hooks.azureml import AzureMLHook
    from airflow_kedro_azureml.job_spec import CompiledPipeline
    from airflow_kedro_azureml.kedro_project import KedroProject
    from airflow_kedro_azureml.local import LocalPipelineRun

JOB_NAME_XCOM_KEY = "azureml_job_name"
RUN_ID_XCOM_KEY = "kedro_run_id"


class KedroAzureMLPipelineOperator(BaseOperator):
    """Compile a Kedro pipeline into one Azure ML pipeline job, run it, and wait for it.

    :param project_path: folder of the Kedro project (the one holding pyproject.toml).
    :param pipeline: registered Kedro pipeline name.
    :param env: Kedro config environment (e.g. ``base``, ``prod``); Kedro's default if unset.
    :param kedro_params: runtime params for Kedro, like ``kedro run --params``; templated,
        must be JSON-serialisable. (Named so because ``params`` is Airflow's own
        task-params argument of every operator.)
    :param azureml_conn_id: an ``azure_ml`` connection; its ``backend`` extra chooses
        Azure ML or the local backend.
    :param node_names, node_tags, from_nodes, to_nodes, from_inputs, to_outputs,
        node_namespaces: Kedro's usual pipeline filters.
    :param node_grouping: ``none`` (a step per node), ``namespace`` or ``memory``;
        defaults to ``execution.node_grouping`` of azureml.yml.
    :param run_id: the run identity (a Kedro save version); derived from the DAG run
        when unset, so every task of one DAG run shares it.
    :param poll_interval: seconds between status checks of the Azure ML job; defaults to
        the Airflow setting ``[kedro_azureml] poll_interval`` (30).
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
        self.poll_interval = (
            poll_interval if poll_interval is not None else _default_poll_interval()
        )
        self._local_run: LocalPipelineRun | None = None
        self._job_name: str | None = None
        self._hook: AzureMLHook | None = None

    # -- Airflow entry points ---------------------------------------------------------------

    def execute(self, context: Context) -> str:
        """Compile, run the job on the connection's backend, wait, and return the job name."""
        from airflow_kedro_azureml.hooks.azureml import AzureMLHook
        from airflow_kedro_azureml.job_naming import job_name_for

        hook = AzureMLHook(azureml_conn_id=self.azureml_conn_id)
        try:
            settings = hook.settings
        except ValueError as error:
            raise AirflowFailException(str(error)) from None
        run_id = self.run_id or self._run_id_from(context)
        ti = context["ti"]
        job_name = job_name_for(self.dag_id, self.task_id, ti.run_id, ti.map_index)
        project = self._open_project()
        fork_server = None
        if settings.is_local and project.config.execution.local.fork_server:
            fork_server = self._start_fork_server(project)
        try:
            compiled = self._compile(project, run_id)
        except BaseException:
            if fork_server is not None:
                fork_server.kill()
            raise
        ti.xcom_push(key=RUN_ID_XCOM_KEY, value=run_id)
        if settings.is_local:
            return self._run_locally(ti, project, compiled, job_name, settings, fork_server)
        return self._run_on_azure(context, hook, project, compiled, job_name, run_id)

    def on_kill(self) -> None:
        """Stop the job when Airflow kills the task (nothing to do before submission)."""
        if self._local_run is not None:
            self.log.info("Task killed: cancelling the local pipeline run")
            self._local_run.cancel()
        if self._job_name is not None and self._hook is not None:
            self._cancel_azure_job("task killed")

    # -- steps of execute -------------------------------------------------------------------

    def _run_id_from(self, context: Context) -> str:
        from airflow_kedro_azureml.run_identity import airflow_run_id

        dag_run = context["dag_run"]
        return airflow_run_id(
            dag_id=self.dag_id,
            dag_run_id=dag_run.run_id,
            logical_date=getattr(dag_run, "logical_date", None),
            run_after=getattr(dag_run, "run_after", None),
        )

    def _open_project(self) -> KedroProject:
        from airflow_kedro_azureml.kedro_project import open_project

        try:
            return open_project(self.project_path, env=self.env, runtime_params=None)
        except (KedroAzureMLError, ValueError) as error:
            raise AirflowFailException(str(error)) from None

    def _local_runs_dir(self, project: KedroProject, settings: ConnectionSettings) -> Path:
        runs_dir = Path(settings.local_runs_dir or project.config.execution.local.runs_dir)
        return runs_dir if runs_dir.is_absolute() else project.path / runs_dir

    def _start_fork_server(self, project: KedroProject) -> Any:
        from airflow_kedro_azureml.local_job import start_fork_server

        code_dir = project.path / (project.config.execution.code_directory or ".")
        return start_fork_server(code_dir, self.pipeline)

    def _compile(self, project: KedroProject, run_id: str) -> CompiledPipeline:
        from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
        from airflow_kedro_azureml.kedro_project import PipelineFilters

        filters = PipelineFilters(
            tags=tuple(self.node_tags or ()),
            node_names=tuple(self.node_names or ()),
            from_nodes=tuple(self.from_nodes or ()),
            to_nodes=tuple(self.to_nodes or ()),
            from_inputs=tuple(self.from_inputs or ()),
            to_outputs=tuple(self.to_outputs or ()),
            node_namespaces=tuple(self.node_namespaces or ()),
        )
        try:
            compiled = compile_pipeline(
                project,
                CompileOptions(
                    pipeline_name=self.pipeline,
                    filters=filters,
                    run_id=run_id,
                    params=self.kedro_params,
                    node_grouping=self.node_grouping,
                ),
            )
        except (KedroAzureMLError, ValueError) as error:
            # Bad input does not get better on retry: fail without retrying.
            raise AirflowFailException(str(error)) from None
        self.log.info(
            "Compiled pipeline %r into %d step(s), run id %s",
            self.pipeline,
            len(compiled.steps),
            run_id,
        )
        return compiled

    def _run_locally(
        self,
        ti: Any,
        project: KedroProject,
        compiled: CompiledPipeline,
        job_name: str,
        settings: ConnectionSettings,
        fork_server: Any,
    ) -> str:
        from airflow_kedro_azureml.local_job import local_run_for

        local = project.config.execution.local
        runs_dir = self._local_runs_dir(project, settings)
        max_parallel = settings.local_max_parallel or local.max_parallel
        ti.xcom_push(key=JOB_NAME_XCOM_KEY, value=job_name)
        ti.xcom_push(key=JOB_URL_XCOM_KEY, value=(runs_dir / job_name).as_uri())
        self.log.info("Running job %s on the local backend in %s", job_name, runs_dir / job_name)
        self._local_run = local_run_for(
            compiled,
            job_name,
            runs_dir,
            max_parallel,
            on_log=lambda step, line: self.log.info("[%s] %s", step, line),
            fork_server=fork_server or False,
        )
        status = self._local_run.run()
        summary = ", ".join(f"{n}: {s}" for n, s in self._local_run.step_statuses.items())
        self.log.info("Job %s ended %s (%s)", job_name, status, summary)
        if status != "Completed":
            message = self._local_run.failure_message() or f"job {job_name} ended {status}"
            raise AirflowException(f"Kedro pipeline {self.pipeline!r} {status.lower()}: {message}")
        return job_name

    # -- Azure ML -----------------------------------------------------------------------------

    def _run_on_azure(
        self,
        context: Context,
        hook: AzureMLHook,
        project: KedroProject,
        compiled: CompiledPipeline,
        job_name: str,
        run_id: str,
    ) -> str:
        from airflow_kedro_azureml.connection import WorkspaceRef
        from airflow_kedro_azureml.hooks.azureml import AzureMLHook

        configured = project.config.workspace.resolve() if project.config.workspace else None
        if configured is not None:
            # azureml.yml fills in what the connection leaves unset.
            hook = AzureMLHook(
                azureml_conn_id=self.azureml_conn_id,
                workspace=WorkspaceRef(
                    configured.subscription_id, configured.resource_group, configured.name
                ),
            )
        try:
            hook.workspace  # noqa: B018 - validates the workspace before any request
        except ValueError as error:
            raise AirflowFailException(str(error)) from None
        self._hook = hook
        job = hook.find_job(job_name)
        if job is None:
            self._check_computes(hook, compiled)
            job = self._submit(context, hook, compiled, job_name, run_id)
        else:
            self.log.info(
                "Job %s already exists (status %s): re-attaching instead of submitting again",
                job_name,
                job.status,
            )
        self._job_name = job_name
        ti = context["ti"]
        ti.xcom_push(key=JOB_NAME_XCOM_KEY, value=job_name)
        ti.xcom_push(key=JOB_URL_XCOM_KEY, value=getattr(job, "studio_url", None) or "")
        self.log.info("Azure ML job %s: %s", job_name, getattr(job, "studio_url", ""))
        return self._wait(hook, job_name, len(compiled.steps))

    def _check_computes(self, hook: AzureMLHook, compiled: CompiledPipeline) -> None:
        missing = []
        for key, target in sorted(compiled.computes.items()):
            if not target.cluster:
                continue
            if not hook.compute_exists(target.cluster):
                steps = [step.name for step in compiled.steps if step.compute == key]
                missing.append(f"{target.cluster!r} (compute {key!r}, steps {steps})")
        if missing:
            raise AirflowFailException(
                "the workspace has no compute "
                + "; no compute ".join(missing)
                + ": create it, or fix 'compute' in azureml.yml; nothing was submitted"
            )

    def _submit(
        self,
        context: Context,
        hook: AzureMLHook,
        compiled: CompiledPipeline,
        job_name: str,
        run_id: str,
    ) -> Any:
        from airflow_kedro_azureml.azureml_job import JobIdentity
        from airflow_kedro_azureml.code_snapshot import build_snapshot

        ti = context["ti"]
        tags = {
            "airflow_dag_id": self.dag_id,
            "airflow_run_id": ti.run_id,
            "airflow_task_id": self.task_id,
            "airflow_try_number": str(ti.try_number),
            "kedro_pipeline": self.pipeline,
            "kedro_env": self.env or "",
            "kedro_run_id": run_id,
            **{str(key): str(value) for key, value in self.job_tags.items()},
        }
        identity = JobIdentity(
            name=job_name,
            experiment_name=self.experiment_name or compiled.experiment_name or self.dag_id,
            display_name=self.display_name or f"{self.dag_id}.{self.task_id}",
            description=self.description,
            tags=tags,
        )
        with tempfile.TemporaryDirectory(prefix="kedro-azureml-code-") as snapshot:
            files = build_snapshot(compiled.code_directory, Path(snapshot))
            self.log.info("Code snapshot: %d file(s) from %s", len(files), compiled.code_directory)
            return self._submit_once(hook, compiled, identity, Path(snapshot))

    def _submit_once(
        self, hook: AzureMLHook, compiled: CompiledPipeline, identity: Any, code_dir: Path
    ) -> Any:
        """Submit; after a lost answer, look the job up rather than submit it twice."""
        from airflow_kedro_azureml.submission import submit_compiled

        job_name = identity.name
        from azure.ai.ml.exceptions import MlException
        from azure.core.exceptions import ServiceRequestError, ServiceResponseError

        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                return submit_compiled(
                    hook, compiled, identity, code_dir, log=self.log, computes_checked=True
                )
            except MlException as error:
                # The SDK validates (environment, compute, inputs) before the job PUT.
                message = " ".join(str(error).split())
                raise AirflowFailException(
                    f"Azure ML refused the job {job_name}; nothing was submitted: {message}"
                ) from None
            except (ServiceRequestError, ServiceResponseError) as error:
                existing = hook.find_job(job_name)
                if existing is not None:
                    self.log.warning("Submission answer lost (%s); the job exists", error)
                    return existing
                if attempt == attempts:
                    raise
                self.log.warning("Submission failed (%s); trying again", error)
                time.sleep(min(2**attempt, 10))
        raise AssertionError("unreachable")

    def _wait(self, hook: AzureMLHook, job_name: str, total_steps: int) -> str:
        from airflow.sdk.exceptions import AirflowTaskTimeout

        last_line = ""
        try:
            while True:
                status, steps = self._poll(hook, job_name)
                if steps is not None:
                    line = progress_line(steps, total_steps)
                    if line != last_line:
                        self.log.info("Job %s %s: %s", job_name, status, line)
                        last_line = line
                if statuses.is_terminal(status):
                    break
                time.sleep(self.poll_interval)
        except AirflowTaskTimeout:
            self._cancel_azure_job("task timed out")
            raise
        if statuses.is_success(status):
            self.log.info("Job %s completed", job_name)
            return job_name
        steps = self._poll(hook, job_name, with_errors=True)[1] or []
        raise AirflowException(failure_message(job_name, status, steps))

    def _poll(
        self, hook: AzureMLHook, job_name: str, with_errors: bool = False
    ) -> tuple[str | None, list[StepState] | None]:
        """One look at the job and its steps; transient errors are logged, not raised."""
        from azure.core.exceptions import HttpResponseError, ServiceRequestError

        try:
            status = statuses.normalize(hook.get_job(job_name).status)
        except (ServiceRequestError, HttpResponseError) as error:
            if (
                isinstance(error, HttpResponseError)
                and (error.status_code or 0) < 500
                and (error.status_code != 429)
            ):
                raise
            self.log.warning("Could not get job %s (%s); will try again", job_name, error)
            return None, None
        try:
            children = hook.list_child_jobs(job_name)
        except (ServiceRequestError, HttpResponseError) as error:
            self.log.warning("Could not list the steps of %s (%s)", job_name, error)
            return status, None
        states = []
        for child in children:
            state = _step_state(child)
            if with_errors and state.status == statuses.FAILED:
                state = StepState(state.name, state.status, hook.get_step_error(child.name))
            states.append(state)
        return status, states

    def _cancel_azure_job(self, reason: str) -> None:
        assert self._hook is not None and self._job_name is not None
        self.log.info("%s: cancelling Azure ML job %s", reason.capitalize(), self._job_name)
        try:
            self._hook.cancel_job(self._job_name)
        except Exception as error:  # cancelling is best effort; say why it failed
            self.log.error("Could not cancel job %s: %s", self._job_name, error)


def _default_poll_interval() -> float:
    from airflow.configuration import conf

    return conf.getfloat("kedro_azureml", "poll_interval", fallback=30.0)


def _step_state(child: Any) -> StepState:
    """A step job's name (its node name in the pipeline), status and error message."""
    properties = getattr(child, "properties", None) or {}
    name = (
        properties.get("azureml.nodeid")
        or getattr(child, "display_name", None)
        or getattr(child, "name", "?")
    )
    return StepState(name=str(name), status=statuses.normalize(child.status) or "")
