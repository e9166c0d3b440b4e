"""Register what a compiled pipeline needs and create its job, with as few requests as possible.

The SDK, left to itself, resolves the compute, environment and code of every
step one request at a time and re-sends every step's component on every
submission. Here the environment and computes are resolved once, step
components are registered under one name with content-hash versions (one
listing tells which the workspace already has), the code snapshot is uploaded
with the first new component only, and the job then references registered
components. A warm submission of an unchanged project sends no component and
no code.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml.azure.git_properties import git_properties
from airflow_kedro_azureml.azure.pipeline_job import (
    JobIdentity,
    step_component,
    to_registered_pipeline_job,
)
from airflow_kedro_azureml.compiler.spec import CompiledPipeline
from airflow_kedro_azureml.errors import CompileError, ConfigError

_LOG = logging.getLogger(__name__)

if TYPE_CHECKING:
    from azure.ai.ml.entities import PipelineJob

    from airflow_kedro_azureml.hooks.azureml import AzureMLHook
    from airflow_kedro_azureml.statuses import JobState


def snapshot_hash(code_dir: Path) -> str:
    """A hash of every file's path and content under ``code_dir``."""
    digest = hashlib.sha256()
    for path in sorted(code_dir.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(code_dir).as_posix().encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def pin_latest_assets(
    compiled: CompiledPipeline, latest_version: Callable[[str], str]
) -> CompiledPipeline:
    """Bind asset inputs without a version to the version that is latest now.

    The job then records exactly which data it read; one look-up per asset.
    """
    resolved: dict[str, str] = {}
    steps = []
    for step in compiled.steps:
        bindings = []
        for binding in step.asset_inputs:
            if binding.asset_version is None:
                if binding.asset_name not in resolved:
                    resolved[binding.asset_name] = latest_version(binding.asset_name)
                binding = replace(binding, asset_version=resolved[binding.asset_name])
            bindings.append(binding)
        steps.append(replace(step, asset_inputs=tuple(bindings)))
    return replace(compiled, steps=tuple(steps)) if resolved else compiled


def check_environment(compiled: CompiledPipeline) -> None:
    """Raise ``ConfigError`` when the steps would have no environment to run in."""
    if compiled.environment or compiled.image or compiled.project_environment:
        return
    raise ConfigError(
        "azureml.yml sets neither 'execution.environment' (an Azure ML environment, e.g. "
        "'my-env@latest') nor 'execution.image' (a docker image), and the project lists no "
        "dependencies to build one from (requirements.txt, src/requirements.txt or "
        "[project] dependencies in pyproject.toml); set one of them"
    )


def check_local_files(compiled: CompiledPipeline) -> None:
    """Raise ``CompileError`` naming the local files Azure ML compute would lack or lose."""
    report = compiled.local_files_report()
    if report is not None:
        raise CompileError(report + " Nothing was submitted.")


def component_name(compiled: CompiledPipeline) -> str:
    """``kedro_<package>_<pipeline>``: one component name per project pipeline."""
    raw = f"kedro_{compiled.package_name or 'project'}_{compiled.pipeline_name}".lower()
    return re.sub(r"[^a-z0-9_]+", "_", raw).strip("_")[:200]


@dataclass(frozen=True)
class RegisteredJob:
    """A ``PipelineJob`` whose components are all in the workspace."""

    job: PipelineJob
    new_components: int
    """How many component versions this submission registered (0: all known)."""


def registered_pipeline_job(
    hook: AzureMLHook,
    compiled: CompiledPipeline,
    identity: JobIdentity,
    code_dir: Path,
    log: Any = None,
    pin_assets: bool = True,
) -> RegisteredJob:
    """Register the components the workspace lacks; the ``PipelineJob`` that uses them.

    ``pin_assets``: bind data-asset inputs without a version to the latest version now
    (a job records exactly what it read). A schedule's job leaves them at ``@latest``.
    """
    from airflow_kedro_azureml.azure.local_uploads import upload_local_inputs

    compiled = upload_local_inputs(hook, compiled, log if log is not None else _LOG)
    if pin_assets:
        compiled = pin_latest_assets(compiled, hook.latest_data_version)
    check_environment(compiled)
    environment_id = hook.environment_arm_id(
        compiled.environment, compiled.image, compiled.project_environment
    )
    code_hash = snapshot_hash(code_dir)
    name = component_name(compiled)
    components = {
        step.name: step_component(compiled, step, name, environment_id, code_hash)
        for step in compiled.steps
    }
    existing = hook.component_versions(name)
    code: Any = str(code_dir)
    created = 0
    for component in components.values():
        if component.version in existing:
            continue
        component.code = code
        # The uploaded snapshot's ARM id, for the next components.
        code = hook.create_component(component) or code
        existing.add(component.version)
        created += 1
    if log is not None:
        log.info(
            "Components %s: %d new version(s), %d already in the workspace",
            name,
            created,
            len({c.version for c in components.values()}) - created,
        )
    component_ids = {
        step: f"azureml:{name}:{component.version}" for step, component in components.items()
    }
    compute_ids = {
        key: hook.compute_arm_id(target.cluster)
        for key, target in compiled.computes.items()
        if target.cluster
    }
    job = to_registered_pipeline_job(compiled, identity, component_ids, compute_ids)
    # The project's git state, so the SDK does not stamp its own working directory's.
    job.properties.update(git_properties(compiled.code_directory))
    return RegisteredJob(job, created)


def submit_compiled(
    hook: AzureMLHook,
    compiled: CompiledPipeline,
    identity: JobIdentity,
    code_dir: Path,
    log: Any = None,
    computes_checked: bool = False,
) -> JobState:
    """Register what the workspace lacks, then create the pipeline job; return its state.

    ``computes_checked``: the caller has looked up every distinct compute, so the
    SDK need not look one up per step.
    """
    registered = registered_pipeline_job(hook, compiled, identity, code_dir, log)
    return hook.submit_pipeline_job(
        registered.job,
        experiment_name=identity.experiment_name,
        computes_checked=computes_checked,
        # Every component was registered (and validated by the SDK) before, and the job's
        # wiring follows from their content: the SDK's offline job validation (about 10 ms
        # per step) would find nothing new.
        validated_before=registered.new_components == 0,
    )
