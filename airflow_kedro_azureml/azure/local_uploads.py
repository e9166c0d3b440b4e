"""Local inputs that travel as data assets (``execution.upload_local_files``).

Each local input no step of the job writes becomes a data asset named
``kedro_<package>_<dataset>``. When the submitting machine has the file (or folder),
it is staged in a folder (under the name the step reads it by) and registered as the
version ``c<content hash>``: uploaded once per content, an unchanged file costs one
lookup. When it has not (the file is made by another job, e.g. an earlier pipeline
of the same DAG run), the asset's latest version is bound: the one that job wrote.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml.azure.submission import snapshot_hash
from airflow_kedro_azureml.compiler.spec import AssetBinding, CompiledPipeline
from airflow_kedro_azureml.errors import AzureMLRequestError, ConfigError

if TYPE_CHECKING:
    from airflow_kedro_azureml.hooks.azureml import AzureMLHook


def stage(binding: AssetBinding, folder: Path) -> Path:
    """Copy the local file (or folder) of ``binding`` into ``folder`` where the step reads it."""
    source = Path(str(binding.upload_from))
    target = folder / str(binding.placement or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
    return folder


def upload_local_inputs(
    hook: AzureMLHook, compiled: CompiledPipeline, log: Any
) -> CompiledPipeline:
    """``compiled`` with every uploaded input bound to a registered asset version."""
    versions: dict[str, str] = {}
    steps = []
    for step in compiled.steps:
        bindings = []
        for binding in step.asset_inputs:
            if binding.upload_from is not None:
                if binding.asset_name not in versions:
                    versions[binding.asset_name] = _version_of(hook, binding, log)
                binding = replace(binding, asset_version=versions[binding.asset_name])
            bindings.append(binding)
        steps.append(replace(step, asset_inputs=tuple(bindings)))
    return replace(compiled, steps=tuple(steps)) if versions else compiled


def _version_of(hook: AzureMLHook, binding: AssetBinding, log: Any) -> str:
    source = Path(str(binding.upload_from))
    name = binding.asset_name
    if not source.exists():
        try:
            version = hook.latest_data_version(name)
        except AzureMLRequestError as error:
            if error.status_code != 404:
                raise
            raise ConfigError(
                f"input {binding.dataset!r}: {source} is not on this machine and the workspace "
                f"has no data asset {name!r} yet (a job that writes {binding.dataset!r} "
                "registers it): run the pipeline that produces it first"
            ) from None
        log.info("Input %r: data asset %s:%s (latest)", binding.dataset, name, version)
        return version
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-upload-") as folder:
        staged = stage(binding, Path(folder))
        version = "c" + snapshot_hash(staged)[:24]
        if hook.data_version_exists(name, version):
            log.info(
                "Input %r: data asset %s:%s (already uploaded)", binding.dataset, name, version
            )
            return version
        hook.register_data_folder(
            name, version, staged, f"{binding.dataset} from {source}, by airflow-kedro-azureml"
        )
    log.info("Input %r: uploaded %s as data asset %s:%s", binding.dataset, source, name, version)
    return version
