"""The compiled pipeline job: a plain, deterministic description of steps and their wiring.

It mirrors an Azure ML pipeline job (steps, command strings, ``${{parent...}}``
bindings, pipeline inputs) without importing azure.ai.ml, so the local backend
can run it as is and ``azureml_job`` turns it into an SDK ``PipelineJob``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from airflow_kedro_azureml.asset_versions import local_versions
from airflow_kedro_azureml.errors import CompileError
from airflow_kedro_azureml.local import LocalStep

RUN_ID_INPUT = "run_id"
PARAMS_INPUT = "params"
STEP_RUN_ID_PORT = "kedro_run_id"
STEP_PARAMS_PORT = "kedro_params"
DONE_PORT = "kedro_done"
AFTER_PORT_PREFIX = "kedro_after_"


def parent_output(step: str, port: str) -> str:
    """The binding of an input to output ``port`` of step ``step``."""
    return f"${{{{parent.jobs.{step}.outputs.{port}}}}}"


def parent_input(name: str) -> str:
    """The binding of an input to pipeline input ``name``."""
    return f"${{{{parent.inputs.{name}}}}}"


@dataclass(frozen=True)
class ComputeTarget:
    """Where a step runs: a named cluster, or serverless compute of an instance type."""

    cluster_name: str | None
    instance_type: str | None = None
    instance_count: int | None = None
    serverless: bool = False

    @property
    def cluster(self) -> str | None:
        """The compute cluster's name, or None for serverless compute."""
        return None if self.serverless else self.cluster_name


@dataclass(frozen=True)
class AssetBinding:
    """A step port bound to an Azure ML data asset (read, or written as a new version)."""

    port: str
    dataset: str
    asset_name: str
    asset_version: str | None
    asset_type: str
    local_root: Path | None = None

    def local_folder(self) -> Path:
        """Where the local backend finds this asset version: ``local_root/name/version``.

        Without a pinned version, the latest local version (numbers compare as numbers).
        """
        if self.local_root is None:
            raise CompileError(f"asset input {self.dataset!r} has no local folder")
        asset_dir = self.local_root / self.asset_name
        version = self.asset_version
        if version is None:
            versions = local_versions(asset_dir)
            if not versions:
                raise CompileError(
                    f"no local version of data asset {self.asset_name!r} (dataset "
                    f"{self.dataset!r}) under {asset_dir}; put the data in {asset_dir / '1'}"
                )
            version = versions[-1]
        return asset_dir / version


@dataclass(frozen=True)
class StepSpec:
    """One step: which Kedro nodes it runs, where, and how its ports are wired."""

    name: str
    display_name: str
    node_names: tuple[str, ...]
    compute: str
    command: str
    inputs: tuple[tuple[str, str], ...]
    data_inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    asset_inputs: tuple[AssetBinding, ...] = ()
    asset_outputs: tuple[AssetBinding, ...] = ()

    @property
    def input_bindings(self) -> dict[str, str]:
        """Port -> binding string."""
        return dict(self.inputs)


@dataclass(frozen=True)
class CompiledPipeline:
    """A whole Kedro pipeline compiled into one pipeline job's worth of steps."""

    pipeline_name: str
    env: str | None
    run_id: str
    params_word: str
    steps: tuple[StepSpec, ...]
    computes: dict[str, ComputeTarget]
    code_directory: Path
    environment: str | None
    image: str | None
    environment_variables: dict[str, str] = field(default_factory=dict)
    experiment_name: str | None = None
    package_name: str = ""

    @property
    def pipeline_inputs(self) -> dict[str, str]:
        """Literal values of the pipeline job's inputs."""
        return {RUN_ID_INPUT: self.run_id, PARAMS_INPUT: self.params_word}

    def step(self, name: str) -> StepSpec:
        """The step called ``name``."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def local_steps(self) -> list[LocalStep]:
        """The steps in the shape the local backend runs.

        Data-asset inputs are bound to the asset's local version folder, as Azure ML
        mounts the asset version.
        """
        return [
            LocalStep(
                name=step.name,
                command=step.command,
                inputs={
                    **step.input_bindings,
                    **{b.port: str(b.local_folder()) for b in step.asset_inputs},
                },
                outputs=step.outputs,
                environment_variables=dict(self.environment_variables),
            )
            for step in self.steps
        ]
