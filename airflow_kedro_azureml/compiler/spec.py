"""The compiled pipeline job: a plain, deterministic description of steps and their wiring.

It mirrors an Azure ML pipeline job (steps, command strings, ``${{parent...}}``
bindings, pipeline inputs) in standard-library dataclasses, so each backend
renders it its own way: ``azure/`` into SDK objects and YAML, ``local/`` into
local processes. It imports nothing but the standard library.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUN_ID_INPUT = "run_id"
PARAMS_INPUT = "params"
PARAMS_FILE_INPUT = "params_file"
PARAMS_FILE_NAME = "params.json"
STEP_RUN_ID_PORT = "kedro_run_id"
STEP_PARAMS_PORT = "kedro_params"
STEP_PARAMS_FILE_PORT = "kedro_params_file"
DONE_PORT = "kedro_done"
AFTER_PORT_PREFIX = "kedro_after_"
# The run id of a job a native schedule fires: Azure ML writes each firing's time there.
TRIGGER_TIME_RUN_ID = "${{creation_context.trigger_time}}"


@dataclass(frozen=True)
class Distribution:
    """A distributed step: framework and process counts (Azure ML's ``distribution``)."""

    type: str
    """``pytorch``, ``mpi`` or ``tensorflow``."""
    process_count_per_instance: int | None = None
    worker_count: int | None = None
    parameter_server_count: int | None = None


@dataclass(frozen=True)
class StepIdentity:
    """The identity a step runs as: ``managed`` (optionally a user-assigned one by id),
    ``user_identity`` or ``aml_token``."""

    type: str
    client_id: str | None = None
    object_id: str | None = None
    resource_id: str | None = None


@dataclass(frozen=True)
class ComputeTarget:
    """Where a step runs (a named cluster, or serverless compute) and its run settings."""

    cluster_name: str | None
    instance_type: str | None = None
    instance_count: int | None = None
    serverless: bool = False
    shm_size: str | None = None
    job_tier: str | None = None
    priority: str | None = None
    timeout: int | None = None
    """Seconds a step may run (``limits.timeout``)."""
    identity: StepIdentity | None = None
    distribution: Distribution | None = None

    @property
    def cluster(self) -> str | None:
        """The compute cluster's name, or None for serverless compute."""
        return None if self.serverless else self.cluster_name

    def run_settings(self) -> dict[str, dict[str, Any]]:
        """The step's run settings as Azure ML's job YAML writes them: ``resources``,
        ``queue_settings``, ``limits``, ``identity`` and ``distribution``, each only when set."""
        settings: dict[str, dict[str, Any]] = {}
        resources = _present(
            instance_type=self.instance_type,
            instance_count=self.instance_count,
            shm_size=self.shm_size,
        )
        if resources or self.serverless:
            settings["resources"] = resources
        queue = _present(job_tier=self.job_tier, priority=self.priority)
        if queue:
            settings["queue_settings"] = queue
        if self.timeout is not None:
            settings["limits"] = {"timeout": self.timeout}
        if self.identity is not None:
            settings["identity"] = _present(**vars(self.identity))
        if self.distribution is not None:
            settings["distribution"] = _present(**vars(self.distribution))
        return settings


def _present(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class AssetBinding:
    """A step port bound to an Azure ML data asset (read, or written as a new version)."""

    port: str
    dataset: str
    asset_name: str
    asset_version: str | None
    asset_type: str
    local_root: Path | None = None
    """Where the local backend keeps this asset's versions (``local_root/name/version``)."""
    upload_from: str | None = None
    """A local input that travels as this asset (``execution.upload_local_files``): its path,
    relative to the project; the asset version is chosen at submission (content hash)."""
    placement: str | None = None
    """Where the dataset's file sits inside the asset folder (``upload_local_files``)."""


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
    deterministic: bool = True
    """Whether Azure ML may reuse a completed run of this step (same component and
    inputs) instead of running it again; false when a node is tagged non-deterministic."""
    namespace: str | None = None
    """The Kedro namespace its nodes share (the longest common one), if any."""

    @property
    def input_bindings(self) -> dict[str, str]:
        """Port -> binding string."""
        return dict(self.inputs)


def common_namespace(namespaces: Iterable[str | None]) -> str | None:
    """The longest dotted namespace every one of ``namespaces`` lies in (None if one is None)."""
    common: list[str] | None = None
    for namespace in namespaces:
        if not namespace:
            return None
        parts = namespace.split(".")
        if common is None:
            common = parts
            continue
        size = 0
        while size < min(len(common), len(parts)) and common[size] == parts[size]:
            size += 1
        common = common[:size]
    return ".".join(common) if common else None


@dataclass(frozen=True)
class LocalFile:
    """A dataset on a local path that Azure ML compute would lack (input) or lose (output)."""

    dataset: str
    path: str
    role: str
    """``input``: no step of the job writes it and the code snapshot leaves it out;
    ``output``: no step reads it, and the compute's disk is gone when the step ends."""
    step: str

    def describe(self) -> str:
        """One line naming the dataset, its path and what goes wrong."""
        if self.role == "input":
            return (
                f"input {self.dataset!r} ({self.path}) of step {self.step!r}: no step of this "
                "job writes it, and the code snapshot leaves it out"
            )
        return (
            f"output {self.dataset!r} ({self.path}) of step {self.step!r}: written to the "
            "compute's disk, lost when the step ends"
        )


LOCAL_FILES_WAYS_OUT = (
    "Ways out: set execution.upload_local_files: true in azureml.yml (local inputs travel "
    "as data assets, local final outputs are registered as data asset versions), wrap it in "
    "airflow_kedro_azureml.datasets.AzureMLAssetDataset or AzureMLPipelineDataset, give it "
    "a cloud path (abfs://...), or run the pipeline that produces it in the same job."
)


@dataclass(frozen=True)
class ProjectEnvironment:
    """An environment built from a project's dependencies (registered on first use)."""

    name: str
    version: str
    base_image: str
    conda_yaml: str
    source: str
    """Where the dependencies came from, for logs and errors."""


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
    continue_on_step_failure: bool = False
    """After a step fails, keep running the steps that do not depend on it."""
    package_name: str = ""
    project_environment: ProjectEnvironment | None = None
    """Built from the project's dependencies when azureml.yml names no environment or image."""
    promoted: tuple[str, ...] = ()
    """Catalog datasets on local paths that cross steps and travel as step outputs."""
    local_files: tuple[LocalFile, ...] = ()
    """Local-path datasets that Azure ML compute would lack or lose."""
    params_file_text: str | None = None
    """Params too long for a command line: their JSON text, which travels as the
    ``uri_file`` pipeline input ``params_file`` (``params_word`` is then ``{}``)."""

    @property
    def fires_on_schedule(self) -> bool:
        """Whether this is a native schedule's job (its run id is each firing's time)."""
        return self.run_id == TRIGGER_TIME_RUN_ID

    @property
    def asset_output_version(self) -> str | None:
        """The version written data assets get: the run id, or Azure ML's next for a schedule."""
        return None if self.fires_on_schedule else self.run_id

    def written_asset_version(self, job_name: str) -> str:
        """The version the data assets job ``job_name`` writes are known by: the run id,
        or, for a schedule's job run by the local backend, the job's name."""
        return self.asset_output_version or job_name

    @property
    def pipeline_inputs(self) -> dict[str, str]:
        """Literal values of the pipeline job's inputs."""
        return {RUN_ID_INPUT: self.run_id, PARAMS_INPUT: self.params_word}

    def promotion_note(self) -> str | None:
        """The line that says which local datasets travel as step outputs (None: none do)."""
        if not self.promoted:
            return None
        return (
            "Local datasets that cross steps travel as step outputs: "
            + ", ".join(self.promoted)
            + " (set execution.promote_local_intermediates: false in azureml.yml to refuse this)"
        )

    def local_files_report(self) -> str | None:
        """The same words for the Azure backend's error and the local backend's warning."""
        if not self.local_files:
            return None
        lines = "\n  - ".join(item.describe() for item in self.local_files)
        return f"On Azure ML these local files would be missing or lost:\n  - {lines}\n" + (
            LOCAL_FILES_WAYS_OUT
        )

    def step(self, name: str) -> StepSpec:
        """The step called ``name``."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)
