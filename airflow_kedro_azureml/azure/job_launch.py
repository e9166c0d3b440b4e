"""Get a compiled pipeline's job running on Azure ML exactly once: attach, or check and submit.

Job names are derived from the Airflow task run before anything is sent (the
first ``job_name_for(...)``, then ``<first>_2``, ``<first>_3``...), and a task
try walks them from the one it was told to start at:
- a job that is still active (or paused) is re-attached, never submitted again;
- a job that completed is returned at once (unless the caller asks to run the
  pipeline again, as when a user clears the task: then the next name, which runs
  every step again, ``force_rerun``: the user asked for a run, not a copy);
- a job that failed, was canceled or stopped responding is left as it is, and the
  next name is tried: a retry submits a new job instead of dead-ending on the old,
  and Azure ML reuses the steps that completed (same component and inputs), so the
  new job resumes at the failed step;
- the first name with no job is the one submitted, after ``before_submit(name)``
  (so a kill from then on can cancel it), every distinct compute checked (a
  missing one fails before any upload) and the code snapshot built;
- when the answer to the submission is lost (a dropped connection, a 5xx), the
  job is looked up before trying again, so a lost answer never makes two jobs.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml import statuses
from airflow_kedro_azureml.azure.code_snapshot import build_snapshot
from airflow_kedro_azureml.azure.submission import (
    check_environment,
    check_local_files,
    submit_compiled,
)
from airflow_kedro_azureml.errors import AzureMLRequestError, ConfigError, TransientAzureMLError
from airflow_kedro_azureml.identity import next_job_name

if TYPE_CHECKING:
    from airflow_kedro_azureml.azure.pipeline_job import JobIdentity
    from airflow_kedro_azureml.compiler.spec import CompiledPipeline
    from airflow_kedro_azureml.hooks.azureml import AzureMLHook
    from airflow_kedro_azureml.statuses import JobState

SUBMIT_ATTEMPTS = 3
MAX_JOBS_PER_TASK_RUN = 1000
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaunchedJob:
    """The job a task try watches, and whether this try created it."""

    state: JobState
    submitted: bool


def submit_or_attach(
    hook: AzureMLHook,
    compiled: CompiledPipeline,
    identity_for: Callable[[str], JobIdentity],
    first_name: str,
    *,
    rerun_completed: bool = False,
    before_submit: Callable[[str], None] = lambda name: None,
    log: Any = logger,
) -> LaunchedJob:
    """Re-attach to the task run's current job, return its completed one, or submit a new one."""
    check_environment(compiled)
    check_local_files(compiled)
    name = first_name
    force_rerun = False
    for _ in range(MAX_JOBS_PER_TASK_RUN):
        existing = hook.find_job_state(name)
        if existing is None:
            break
        if existing.status in statuses.FAILURE_STATUSES:
            log.info(
                "Job %s ended %s: a new job, %s, runs the pipeline again",
                name,
                existing.status,
                next_job_name(name),
            )
        elif existing.is_success and rerun_completed:
            log.info(
                "Job %s completed and the task was cleared: a new job, %s, runs every step again",
                name,
                next_job_name(name),
            )
            force_rerun = True
        else:
            verb = "returning it" if existing.is_success else "re-attaching"
            log.info(
                "Job %s already exists (status %s): %s instead of submitting again",
                name,
                existing.status,
                verb,
            )
            return LaunchedJob(existing, submitted=False)
        name = next_job_name(name)
    else:
        raise ConfigError(f"task run has {MAX_JOBS_PER_TASK_RUN} jobs already; not submitting more")
    check_computes(hook, compiled)
    before_submit(name)
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-code-") as snapshot:
        files = build_snapshot(compiled.code_directory, Path(snapshot))
        log.info("Code snapshot: %d file(s) from %s", len(files), compiled.code_directory)
        identity = identity_for(name)
        if force_rerun and not identity.force_rerun:
            identity = replace(identity, force_rerun=True)
        state = _submit_once(hook, compiled, identity, Path(snapshot), log)
    return LaunchedJob(state, submitted=True)


def check_computes(hook: AzureMLHook, compiled: CompiledPipeline) -> None:
    """Raise ``ConfigError`` naming every compute the steps need that the workspace lacks."""
    missing = []
    for key, target in sorted(compiled.computes.items()):
        if not target.cluster:
            continue
        if not hook.compute_exists(target.cluster):
            steps = [step.name for step in compiled.steps if step.compute == key]
            missing.append(f"{target.cluster!r} (compute {key!r}, steps {steps})")
    if missing and not hook.workspace_exists():
        workspace = hook.workspace
        raise ConfigError(
            f"there is no workspace {workspace.workspace_name!r} in resource group "
            f"{workspace.resource_group!r} of subscription {workspace.subscription_id!r} (or "
            "the connection's identity may not see it): fix the connection's extras or "
            "'workspace' in azureml.yml; nothing was submitted"
        )
    if missing:
        raise ConfigError(
            "the workspace has no compute "
            + "; no compute ".join(missing)
            + ": create it, or fix 'compute' in azureml.yml; nothing was submitted"
        )


def _submit_once(
    hook: AzureMLHook,
    compiled: CompiledPipeline,
    identity: JobIdentity,
    code_dir: Path,
    log: Any,
) -> JobState:
    """Submit; after a lost answer, look the job up rather than submit it twice."""
    name = str(identity.name)
    for attempt in range(1, SUBMIT_ATTEMPTS + 1):
        try:
            return submit_compiled(
                hook, compiled, identity, code_dir, log=log, computes_checked=True
            )
        except AzureMLRequestError as error:
            # The SDK validates (environment, compute, inputs) before the job PUT;
            # a refused PUT creates no job either.
            raise AzureMLRequestError(
                f"Azure ML refused the job {name}; nothing was submitted: {error}",
                status_code=error.status_code,
            ) from None
        except TransientAzureMLError as error:
            existing = hook.find_job_state(name)
            if existing is not None:
                log.warning("Submission answer lost (%s); the job exists", error)
                return existing
            if attempt == SUBMIT_ATTEMPTS:
                raise
            log.warning("Submission failed (%s); trying again", error)
            time.sleep(min(2**attempt, 10))
    raise AssertionError("unreachable: the last attempt returns or raises")
