"""MLflow for a step: its nodes run inside an MLflow run tagged with who ran them.

When ``mlflow`` is installed where the step runs and a tracking server is set
(``MLFLOW_TRACKING_URI``), the step runs inside an MLflow run, so ``mlflow.log_*`` in
a node, or a Kedro hook such as kedro-mlflow's, logs there:

- On Azure ML, the service sets ``MLFLOW_TRACKING_URI`` (the workspace's tracking
  server, read by ``azureml-mlflow``), ``MLFLOW_EXPERIMENT_ID`` and ``MLFLOW_RUN_ID``
  (the step's own run, a child of the pipeline job's run): the step continues that
  run and copies the pipeline job's Airflow and Kedro tags (``airflow_dag_id``,
  ``airflow_run_id``, ``airflow_task_id``, ``airflow_try_number``, ``kedro_*``) to it.
- On the local backend, the run folder holds a file store (``<run folder>/mlruns``),
  the experiment is the job's, and the tags arrive in ``KEDRO_AZUREML_RUN_TAGS``.

Every step run is tagged ``kedro_run_id``, ``kedro_pipeline`` and ``kedro_nodes``.
``KEDRO_AZUREML_MLFLOW=false`` (``execution.mlflow: false``) turns all of it off.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

RUN_TAGS_VARIABLE = "KEDRO_AZUREML_RUN_TAGS"
SWITCH_VARIABLE = "KEDRO_AZUREML_MLFLOW"
IDENTITY_TAG_PREFIXES = ("airflow_", "kedro_")
PARENT_RUN_TAG = "mlflow.parentRunId"

logger = logging.getLogger(__name__)


def tracking_wanted(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this step logs to MLflow: mlflow installed, a tracking URI set, not turned off."""
    env = os.environ if environ is None else environ
    if env.get(SWITCH_VARIABLE, "").lower() in ("false", "0", "off", "no"):
        return False
    if not env.get("MLFLOW_TRACKING_URI"):
        return False
    return importlib.util.find_spec("mlflow") is not None


@contextlib.contextmanager
def step_tracking(pipeline: str, nodes: list[str], run_id: str) -> Iterator[str | None]:
    """Run the block inside the step's MLflow run (yields its id), or as it is (yields None).

    MLflow never fails the step: when the run cannot be started (a tracking server out of
    reach), the step says so and runs without it.
    """
    if not tracking_wanted():
        yield None
        return
    import mlflow

    tags = {"kedro_run_id": run_id, "kedro_pipeline": pipeline, "kedro_nodes": ",".join(nodes)}
    passed = os.environ.get(RUN_TAGS_VARIABLE)
    if passed:
        tags = {**json.loads(passed), **tags}
    existing = os.environ.get("MLFLOW_RUN_ID")
    try:
        if not existing:
            _use_experiment(mlflow, os.environ.get("MLFLOW_EXPERIMENT_NAME"))
        name = None if existing else os.environ.get("AZUREML_RUN_ID") or ",".join(nodes)
        run = mlflow.start_run(run_id=existing or None, run_name=name)
    except Exception as error:  # tracking is a side effect; the nodes still run
        logger.warning("MLflow run not started (%s); the step runs without it", error)
        yield None
        return
    with run:
        if existing:
            tags = {**_pipeline_job_tags(mlflow, run), **tags}
        mlflow.set_tags(tags)
        logger.info(
            "MLflow run %s of experiment %s: the nodes log there",
            run.info.run_id,
            run.info.experiment_id,
        )
        yield str(run.info.run_id)


def _use_experiment(mlflow: Any, name: str | None) -> None:
    """Make ``name`` the active experiment, creating it if needed; steps running at the
    same time may create it at once, and the one that loses the race finds it made."""
    if not name:
        return
    for attempt in range(3):
        try:
            mlflow.set_experiment(name)
            return
        except Exception:
            if attempt == 2:
                raise


def _pipeline_job_tags(mlflow: Any, run: Any) -> dict[str, str]:
    """The Airflow and Kedro tags of the pipeline job's run (the step run's parent)."""
    parent = run.data.tags.get(PARENT_RUN_TAG)
    if not parent:
        return {}
    try:
        tags = mlflow.MlflowClient().get_run(parent).data.tags
    except Exception as error:  # the step still runs; only the copied tags are missing
        logger.warning("Could not read the pipeline job's MLflow run %s: %s", parent, error)
        return {}
    return {k: v for k, v in tags.items() if k.startswith(IDENTITY_TAG_PREFIXES)}
