"""Get a compiled pipeline's job running on Azure ML exactly once: attach, or check and submit.

The job's name is derived from the Airflow task run before anything is sent, so:
- a job of that name that already exists is re-attached, never submitted again;
- every distinct compute is checked first: a missing one fails before any upload;
- the code snapshot is built in a temporary folder and uploaded with the job;
- when the answer to the submission is lost (a dropped connection, a 5xx), the
  job is looked up before trying again, so a lost answer never makes two jobs.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml.azure.code_snapshot import build_snapshot
from airflow_kedro_azureml.azure.submission import submit_compiled
from airflow_kedro_azureml.errors import AzureMLRequestError, ConfigError, TransientAzureMLError

if TYPE_CHECKING:
    from airflow_kedro_azureml.azure.pipeline_job import JobIdentity
    from airflow_kedro_azureml.compiler.spec import CompiledPipeline
    from airflow_kedro_azureml.hooks.azureml import AzureMLHook
    from airflow_kedro_azureml.statuses import JobState

SUBMIT_ATTEMPTS = 3
logger = logging.getLogger(__name__)


def submit_or_attach(
    hook: AzureMLHook,
    compiled: CompiledPipeline,
    identity: JobIdentity,
    log: Any = logger,
) -> JobState:
    """The state of the job named ``identity.name``: found and re-attached, or submitted now."""
    name = str(identity.name)
    existing = hook.find_job_state(name)
    if existing is not None:
        log.info(
            "Job %s already exists (status %s): re-attaching instead of submitting again",
            name,
            existing.status,
        )
        return existing
    check_computes(hook, compiled)
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-code-") as snapshot:
        files = build_snapshot(compiled.code_directory, Path(snapshot))
        log.info("Code snapshot: %d file(s) from %s", len(files), compiled.code_directory)
        return _submit_once(hook, compiled, identity, Path(snapshot), log)


def check_computes(hook: AzureMLHook, compiled: CompiledPipeline) -> None:
    """Raise ``ConfigError`` naming every compute the steps need that the workspace lacks."""
    missing = []
    for key, target in sorted(compiled.computes.items()):
        if not target.cluster:
            continue
        if not hook.compute_exists(target.cluster):
            steps = [step.name for step in compiled.steps if step.compute == key]
            missing.append(f"{target.cluster!r} (compute {key!r}, steps {steps})")
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
