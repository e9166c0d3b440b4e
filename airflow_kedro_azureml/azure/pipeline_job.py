"""Turn a ``CompiledPipeline`` into azure.ai.ml objects: a ``PipelineJob`` and step components.

A fresh SDK object is built on every call: the SDK rewrites components in place
when it submits them, so objects must never be reused across submissions.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml.compiler.bindings import read_parent_output
from airflow_kedro_azureml.compiler.spec import (
    PARAMS_FILE_INPUT,
    PARAMS_FILE_NAME,
    PARAMS_INPUT,
    RUN_ID_INPUT,
    STEP_PARAMS_FILE_PORT,
    STEP_PARAMS_PORT,
    STEP_RUN_ID_PORT,
    CompiledPipeline,
    ComputeTarget,
    StepSpec,
)

if TYPE_CHECKING:
    from azure.ai.ml.entities import PipelineJob


@dataclass(frozen=True)
class JobIdentity:
    """How the submitted job is named and labelled, and whether it may reuse earlier steps."""

    name: str | None = None
    experiment_name: str | None = None
    display_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    force_rerun: bool = False
    """Run every step, even those Azure ML could reuse from a completed run."""


def to_pipeline_job(
    compiled: CompiledPipeline,
    identity: JobIdentity | None = None,
    code: str | Path | None = None,
) -> PipelineJob:
    """A self-contained SDK ``PipelineJob``: every step an inline component with ``code``.

    ``code`` overrides the code folder. Submitting it lets the SDK upload code and
    register one anonymous component per step; ``submission`` registers components
    itself to send fewer requests.
    """
    from azure.ai.ml import command
    from azure.ai.ml.entities import Environment

    identity = identity or JobIdentity()
    code_path = str(code if code is not None else compiled.code_directory)
    environment: Any = compiled.environment
    if compiled.image:
        environment = Environment(image=compiled.image)
    elif compiled.project_environment is not None:
        import yaml

        built = compiled.project_environment
        environment = Environment(
            name=built.name,
            version=built.version,
            image=built.base_image,
            conda_file=yaml.safe_load(built.conda_yaml),
        )
    jobs: dict[str, Any] = {}
    for step in compiled.steps:
        target = compiled.computes[step.compute]
        inputs, outputs = _step_io(compiled, step)
        node = command(
            name=step.name,
            display_name=step.display_name,
            command=step.command,
            code=code_path,
            environment=environment,
            inputs=inputs,
            outputs=outputs,
            compute=compute_name(target),
            environment_variables=dict(compiled.environment_variables) or None,
            is_deterministic=step.deterministic,
        )
        _set_resources(node, target)
        jobs[step.name] = node
    default = compiled.computes.get("__default__")
    return _pipeline_job(compiled, identity, jobs, compute_name(default))


def step_component(
    compiled: CompiledPipeline, step: StepSpec, name: str, environment_id: str, code_hash: str
) -> Any:
    """The registrable ``CommandComponent`` of ``step``; its version is a hash of its content.

    Steps with the same command, ports, environment and code share one version, and a
    version the workspace already has never needs to be sent again.
    """
    from azure.ai.ml.entities import CommandComponent

    inputs, outputs = _step_io(compiled, step, for_component=True)
    content: dict[str, object] = {
        "command": step.command,
        "inputs": {port: spec.type for port, spec in sorted(inputs.items())},
        "outputs": sorted(outputs),
        "environment": environment_id,
        "code": code_hash,
    }
    if not step.deterministic:
        content["deterministic"] = False
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()
    return CommandComponent(
        name=name,
        version=digest[:32],
        display_name=step.display_name,
        command=step.command,
        environment=environment_id,
        inputs=inputs,
        outputs=outputs,
        is_deterministic=step.deterministic,
    )


def to_registered_pipeline_job(
    compiled: CompiledPipeline,
    identity: JobIdentity,
    component_ids: dict[str, str],
    compute_id: dict[str, str],
) -> PipelineJob:
    """A ``PipelineJob`` whose steps use registered components (``step -> component id``).

    ``compute_id`` maps compute keys of ``compiled`` to compute ARM ids, so the SDK
    has nothing left to look up per step.
    """
    from azure.ai.ml.entities import Command

    jobs: dict[str, Any] = {}
    for step in compiled.steps:
        target = compiled.computes[step.compute]
        inputs, outputs = _step_io(compiled, step)
        # Ports are declared by the component; the pipeline binds each one below.
        unbound: dict[str, Any] = dict.fromkeys(inputs)
        node = Command(
            component=component_ids[step.name],
            inputs=unbound,
            outputs=outputs,
            compute=compute_id.get(step.compute),
            environment_variables=dict(compiled.environment_variables) or None,
        )
        node.name = step.name
        node.display_name = step.display_name
        _set_resources(node, target)
        jobs[step.name] = node
    default = compute_id.get("__default__")
    return _pipeline_job(compiled, identity, jobs, default)


def _step_io(
    compiled: CompiledPipeline, step: StepSpec, for_component: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The step's input and output declarations (asset outputs named on the node only)."""
    from azure.ai.ml import Input, Output

    inputs: dict[str, Any] = {
        STEP_RUN_ID_PORT: Input(type="string"),
        STEP_PARAMS_PORT: Input(type="string"),
    }
    if compiled.params_file_text is not None:
        inputs[STEP_PARAMS_FILE_PORT] = Input(type="uri_file")
    for port in step.data_inputs:
        inputs[port] = Input(type="uri_folder")
    for binding in step.asset_inputs:
        inputs[binding.port] = Input(type=binding.asset_type)
    outputs: dict[str, Any] = {port: Output(type="uri_folder") for port in step.outputs}
    if not for_component:
        for binding in step.asset_outputs:
            # A written asset becomes a new version named by the run id.
            outputs[binding.port] = Output(
                type="uri_folder", name=binding.asset_name, version=compiled.asset_output_version
            )
    return inputs, outputs


def _set_resources(node: Any, target: ComputeTarget) -> None:
    """Set the step's run settings (resources, queue, limits, identity, distribution)."""
    settings = target.run_settings()
    if not settings:
        return
    from azure.ai.ml import MpiDistribution, PyTorchDistribution, TensorFlowDistribution
    from azure.ai.ml.entities import (
        AmlTokenConfiguration,
        CommandJobLimits,
        JobResourceConfiguration,
        ManagedIdentityConfiguration,
        QueueSettings,
        UserIdentityConfiguration,
    )

    if "resources" in settings:
        node.resources = JobResourceConfiguration(**settings["resources"])
    if "queue_settings" in settings:
        node.queue_settings = QueueSettings(**settings["queue_settings"])
    if "limits" in settings:
        node.limits = CommandJobLimits(**settings["limits"])
    if "identity" in settings:
        node.identity = _of_type(
            settings["identity"],
            {
                "managed": ManagedIdentityConfiguration,
                "user_identity": UserIdentityConfiguration,
                "aml_token": AmlTokenConfiguration,
            },
        )
    if "distribution" in settings:
        node.distribution = _of_type(
            settings["distribution"],
            {
                "pytorch": PyTorchDistribution,
                "mpi": MpiDistribution,
                "tensorflow": TensorFlowDistribution,
            },
        )


def _of_type(setting: dict[str, Any], classes: dict[str, Any]) -> Any:
    """The SDK object for a ``{type: ..., <its fields>}`` setting: the class its type names."""
    fields = dict(setting)
    return classes[str(fields.pop("type"))](**fields)


def _pipeline_job(
    compiled: CompiledPipeline, identity: JobIdentity, jobs: dict[str, Any], compute: str | None
) -> PipelineJob:
    """Wrap step nodes into a ``PipelineJob`` and bind every step input."""
    from azure.ai.ml import Input
    from azure.ai.ml.entities import PipelineJob, PipelineJobSettings

    inputs: dict[str, Any] = {RUN_ID_INPUT: compiled.run_id, PARAMS_INPUT: compiled.params_word}
    if compiled.params_file_text is not None:
        params_file = str(write_params_file(compiled.params_file_text))
        inputs[PARAMS_FILE_INPUT] = Input(type="uri_file", path=params_file)
    pipeline = PipelineJob(
        jobs=jobs,
        inputs=inputs,
        compute=compute,
        name=identity.name,
        experiment_name=identity.experiment_name or compiled.experiment_name,
        display_name=identity.display_name,
        description=identity.description,
        tags=dict(identity.tags),
        settings=PipelineJobSettings(
            force_rerun=True if identity.force_rerun else None,
            continue_on_step_failure=True if compiled.continue_on_step_failure else None,
        ),
    )
    for step in compiled.steps:
        node = jobs[step.name]
        setattr(node.inputs, STEP_RUN_ID_PORT, pipeline.inputs[RUN_ID_INPUT])
        setattr(node.inputs, STEP_PARAMS_PORT, pipeline.inputs[PARAMS_INPUT])
        if compiled.params_file_text is not None:
            setattr(node.inputs, STEP_PARAMS_FILE_PORT, pipeline.inputs[PARAMS_FILE_INPUT])
        for port, binding in step.inputs:
            source = read_parent_output(binding)
            if source is not None:
                source_step, source_port = source
                setattr(node.inputs, port, jobs[source_step].outputs[source_port])
        for asset in step.asset_inputs:
            path = asset_path(asset.asset_name, asset.asset_version)
            setattr(node.inputs, asset.port, Input(type=asset.asset_type, path=path))
    return pipeline


def write_params_file(text: str, folder: Path | None = None) -> Path:
    """Write params JSON as ``params.json`` for the SDK to upload with the job; return its path.

    Without ``folder``, in a temporary folder named by the content's hash, so the same
    params are the same file (and the same upload) on every submission.
    """
    if folder is None:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        folder = Path(tempfile.gettempdir()) / "airflow-kedro-azureml-params" / digest
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PARAMS_FILE_NAME
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        scratch = path.with_name(f".{PARAMS_FILE_NAME}.{os.getpid()}")
        scratch.write_text(text, encoding="utf-8")
        scratch.replace(path)
    return path


def compute_name(target: ComputeTarget | None) -> str | None:
    """The cluster a target names (None for serverless compute or no target)."""
    return None if target is None else target.cluster


def asset_path(name: str, version: str | None) -> str:
    """How a job refers to a data asset version (``@latest`` when none is pinned)."""
    if version is None:
        return f"azureml:{name}@latest"
    return f"azureml:{name}:{version}"
