"""KedroAzureMLTaskGroup: a Kedro pipeline's steps as Airflow tasks, run as ONE Azure ML job.

Drawn from a manifest (``kedro azureml compile --manifest FILE``), so parsing the
DAG reads one JSON file and imports neither Kedro nor azure.ai.ml. Inside the group:

- ``submit``: compiles the project, checks the manifest still matches, submits the
  ONE pipeline job (or re-attaches to it), watches it and publishes its steps'
  states; killing it cancels the job; it fails when the job fails;
- one task per compiled step, wired as the Kedro graph, in nested groups by Kedro
  namespace: each waits (deferred) for its step and succeeds, fails or is
  upstream_failed with it. Clearing a failed step task (with its downstream
  tasks) runs the pipeline again from that step: Azure ML reuses the rest.

Example::

    KedroAzureMLTaskGroup(
        group_id="demand_forecasting",
        manifest=Path(__file__).parent / "demand_forecasting_manifest.json",
        project_path=Path(__file__).parent / "demand_forecasting",
    )
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import TaskGroup

from airflow_kedro_azureml import DEFAULT_CONNECTION_ID
from airflow_kedro_azureml.compiler.manifest import PipelineManifest
from airflow_kedro_azureml.operators.pipeline_step import KedroAzureMLStepOperator
from airflow_kedro_azureml.operators.pipeline_submit import KedroAzureMLSubmitOperator

SUBMIT_TASK_ID = "submit"


class KedroAzureMLTaskGroup(TaskGroup):
    """Render a Kedro pipeline's compiled steps as tasks; run them as one Azure ML job.

    :param group_id: the group's id in the DAG.
    :param manifest: the manifest file ``kedro azureml compile --manifest`` wrote; a
        relative path is taken from the DAG file's folder. The pipeline, Kedro env,
        node grouping and node filters come from it.
    :param project_path: folder of the Kedro project (the one holding pyproject.toml).
    :param kedro_params: runtime params, as ``KedroAzureMLPipelineOperator``'s (templated).
    :param azureml_conn_id: the ``azure_ml`` connection (its ``backend`` extra chooses
        Azure ML or the local backend).
    :param poll_interval: seconds between two looks at the job (submit task) and at
        what it publishes (step tasks).
    :param deferrable: the submit task and the step tasks wait in the triggerer (default:
        Airflow's ``[operators] default_deferrable``); the submit task's trigger publishes
        the job's state as it would in the worker.
    :param timeout: the longest wait for the job, after which it is canceled.
    :param continue_on_step_failure: after a step fails, keep running the steps that do
        not depend on it (default True, as Airflow runs tasks that do not depend on a
        failed one); None takes azureml.yml's ``execution.continue_on_step_failure``.
    :param submit_kwargs: more arguments of the submit task
        (``KedroAzureMLPipelineOperator``'s: ``run_id``, ``experiment_name``, ``job_tags``,
        ``force_rerun``, ``execution_timeout``...). Its ``retries`` default to 0: a failed
        job is resumed by retrying or clearing a step task, not by running the job again.
    :param step_kwargs: more arguments of every step task (``retries``, ``pool``...).
    Every other keyword argument is ``TaskGroup``'s (``tooltip``, ``default_args``...).
    """

    def __init__(
        self,
        *,
        group_id: str,
        manifest: str | Path,
        project_path: str | Path,
        kedro_params: dict[str, Any] | None = None,
        azureml_conn_id: str = DEFAULT_CONNECTION_ID,
        poll_interval: float | None = None,
        deferrable: bool | None = None,
        timeout: timedelta | float | None = None,
        continue_on_step_failure: bool | None = True,
        submit_kwargs: Mapping[str, Any] | None = None,
        step_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(group_id=group_id, **kwargs)
        path = Path(manifest).expanduser()
        if not path.is_absolute():
            path = Path(self.dag.fileloc).parent / path
        self.manifest_path = path
        self.manifest = PipelineManifest.read(path)
        self.submit_task = KedroAzureMLSubmitOperator(
            task_id=SUBMIT_TASK_ID,
            task_group=self,
            project_path=project_path,
            pipeline=self.manifest.pipeline,
            env=self.manifest.env,
            node_grouping=self.manifest.node_grouping,
            kedro_params=kedro_params,
            azureml_conn_id=azureml_conn_id,
            poll_interval=poll_interval,
            deferrable=deferrable,
            timeout=timeout,
            continue_on_step_failure=continue_on_step_failure,
            manifest_path=str(path),
            manifest_fingerprint=self.manifest.fingerprint,
            manifest_refresh=self.manifest.refresh_command(path),
            **{
                "retries": 0,
                **{key: list(value) for key, value in self.manifest.selection.items()},
                **(submit_kwargs or {}),
            },
        )
        self.step_tasks: dict[str, KedroAzureMLStepOperator] = {}
        namespaces: dict[str, TaskGroup] = {}
        for step in self.manifest.steps:
            self.step_tasks[step.name] = KedroAzureMLStepOperator(
                task_id=step.name,
                task_group=self._namespace_group(step.namespace, namespaces),
                step_name=step.name,
                submit_task_id=self.submit_task.task_id,
                node_names=step.nodes,
                azureml_conn_id=azureml_conn_id,
                poll_interval=poll_interval,
                deferrable=deferrable,
                doc_md=_step_doc(step.nodes),
                **(step_kwargs or {}),
            )
        for step in self.manifest.steps:
            for upstream in step.upstream:
                self.step_tasks[upstream] >> self.step_tasks[step.name]

    def _namespace_group(self, namespace: str | None, made: dict[str, TaskGroup]) -> TaskGroup:
        """The nested group of Kedro namespace ``namespace`` (this group when None)."""
        parent: TaskGroup = self
        if not namespace:
            return parent
        path = ""
        for part in namespace.split("."):
            path = f"{path}.{part}" if path else part
            if path not in made:
                made[path] = TaskGroup(
                    group_id=part, parent_group=parent, dag=self.dag, tooltip=f"namespace {path}"
                )
            parent = made[path]
        return parent


def _step_doc(nodes: tuple[str, ...]) -> str:
    lines = "\n".join(f"- `{node}`" for node in nodes)
    return f"Kedro nodes of this step:\n\n{lines}\n"
