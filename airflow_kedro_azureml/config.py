"""The ``azureml.yml`` settings: pydantic models and loading through Kedro's config loader.

The layout is the one kedro-azureml-pipeline users already have (``workspace``,
``compute`` with ``__default__``, ``execution``, ``jobs``, ``schedules``), plus
what this package adds (a docker image instead of a registered environment,
serverless compute, node grouping, local backend settings).

Example ``conf/base/azureml.yml``::

    workspace:
      __default__: {subscription_id: "...", resource_group: "rg", name: "mlw"}
    compute:
      __default__: {cluster_name: "cpu-cluster"}
      gpu: {cluster_name: "gpu-cluster"}
    execution:
      environment: "my-env@latest"
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    Tag,
    ValidationError,
    model_validator,
)

from airflow_kedro_azureml.errors import ConfigError
from airflow_kedro_azureml.legacy_config import (
    accepted_but_unused,
    is_kedro_azureml_layout,
    translate_kedro_azureml,
)

logger = logging.getLogger(__name__)

DEFAULT = "__default__"
CONFIG_KEY = "azureml"
CONFIG_PATTERNS = ["azureml*", "azureml*/**", "**/azureml*"]

NodeGrouping = Literal["none", "namespace", "memory"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkspaceConfig(_Strict):
    """Which Azure ML workspace jobs go to."""

    subscription_id: str
    """The Azure subscription id of the workspace."""
    resource_group: str
    """The resource group of the workspace."""
    name: str
    """The Azure ML workspace's name."""


class WorkspacesConfig(RootModel[dict[str, WorkspaceConfig]]):
    """Named workspaces; ``__default__`` is used unless a job names another."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="after")
    def _has_default(self) -> WorkspacesConfig:
        if DEFAULT not in self.root:
            raise ValueError(f"needs a '{DEFAULT}' entry")
        return self

    def resolve(self, name: str | None = None) -> WorkspaceConfig:
        """The workspace called ``name``, or the default one."""
        key = name or DEFAULT
        if key not in self.root:
            raise ConfigError(
                f"workspace {key!r} is not in azureml.yml 'workspace'; known: {sorted(self.root)}"
            )
        return self.root[key]


class LimitsConfig(_Strict):
    """Run-time limits of a step (Azure ML's ``limits``)."""

    timeout: int = Field(ge=1)
    """Seconds a step may run; Azure ML stops it after that and the step fails."""


class QueueSettingsConfig(_Strict):
    """How Azure ML queues a step (its ``queue_settings``)."""

    job_tier: Literal["spot", "basic", "standard", "premium"] | None = None
    """Serverless compute tier: ``spot`` is cheapest and can be preempted."""
    priority: Literal["low", "medium", "high"] | None = None
    """The step's priority in its compute's queue."""


class IdentityConfig(_Strict):
    """The identity a step runs as and reaches data and services with."""

    type: Literal["managed", "user_identity", "aml_token"]
    """``managed``: the compute's managed identity (``client_id``, ``object_id`` or
    ``resource_id`` pick a user-assigned one); ``user_identity``: the submitting user's;
    ``aml_token``: the workspace's token."""
    client_id: str | None = None
    """Client id of a user-assigned managed identity."""
    object_id: str | None = None
    """Object id of a user-assigned managed identity."""
    resource_id: str | None = None
    """ARM resource id of a user-assigned managed identity."""

    @model_validator(mode="after")
    def _ids_only_for_managed(self) -> IdentityConfig:
        if self.type != "managed" and (self.client_id or self.object_id or self.resource_id):
            raise ValueError(
                "'client_id', 'object_id' and 'resource_id' pick a managed identity; "
                f"remove them or set 'type: managed' (got type {self.type!r})"
            )
        return self


class DistributionConfig(_Strict):
    """A distributed step: how many processes Azure ML starts, and for which framework."""

    type: Literal["pytorch", "mpi", "tensorflow"]
    """The framework Azure ML sets up the processes for."""
    process_count_per_instance: int | None = Field(default=None, ge=1)
    """Processes per node (PyTorch, MPI); the node count is the compute's ``instance_count``."""
    worker_count: int | None = Field(default=None, ge=1)
    """TensorFlow workers."""
    parameter_server_count: int | None = Field(default=None, ge=0)
    """TensorFlow parameter servers."""

    @model_validator(mode="after")
    def _fields_fit_the_type(self) -> DistributionConfig:
        tensorflow_only = self.worker_count is not None or self.parameter_server_count is not None
        if self.type == "tensorflow" and self.process_count_per_instance is not None:
            raise ValueError(
                "'process_count_per_instance' is for pytorch and mpi; TensorFlow takes "
                "'worker_count' and 'parameter_server_count'"
            )
        if self.type != "tensorflow" and tensorflow_only:
            raise ValueError(
                f"'worker_count' and 'parameter_server_count' are for tensorflow; {self.type} "
                "takes 'process_count_per_instance'"
            )
        return self


class ClusterConfig(_Strict):
    """Where and how steps run: a compute cluster or serverless compute, and run settings.

    A node tagged ``compute.<name>`` (or ``<name>``) runs with the entry ``<name>``;
    fields it leaves unset come from ``__default__``.
    """

    cluster_name: str | None = None
    """The workspace's compute cluster."""
    instance_type: str | None = None
    """VM size (e.g. ``Standard_NC6s_v3``); with ``serverless: true`` Azure ML picks one
    when unset."""
    instance_count: int | None = Field(default=None, ge=1)
    """Nodes the step runs on (a distributed step's node count)."""
    serverless: bool = False
    """Run on Azure ML serverless compute instead of a cluster."""
    shm_size: str | None = Field(default=None, pattern=r"^\d+[bkmgBKMG]?$")
    """Shared memory of the step's container, e.g. ``16g`` (PyTorch data loaders need it)."""
    queue_settings: QueueSettingsConfig | None = None
    """Job tier and priority (merged field by field with ``__default__``'s)."""
    limits: LimitsConfig | None = None
    """Run-time limits of each step here."""
    identity: IdentityConfig | None = None
    """The identity steps here run as."""
    distribution: DistributionConfig | None = None
    """Makes steps here distributed (PyTorch, MPI or TensorFlow)."""

    @model_validator(mode="after")
    def _target_is_clear(self) -> ClusterConfig:
        if self.serverless and self.cluster_name:
            raise ValueError("set either 'cluster_name' or 'serverless: true', not both")
        return self


class ComputeConfig(RootModel[dict[str, ClusterConfig]]):
    """Named computes; a node tagged with a name runs there, others on ``__default__``."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="after")
    def _has_default(self) -> ComputeConfig:
        if DEFAULT not in self.root:
            raise ValueError(f"needs a '{DEFAULT}' entry")
        default = self.root[DEFAULT]
        if not default.cluster_name and not default.serverless:
            raise ValueError(f"'{DEFAULT}' needs 'cluster_name' (or 'serverless: true')")
        return self

    def resolve(self, name: str | None = None) -> ClusterConfig:
        """The compute called ``name``: fields it leaves unset come from ``__default__``
        (``queue_settings`` field by field: a ``job_tier`` keeps the default's ``priority``;
        ``identity``, ``distribution`` and ``limits`` as a whole)."""
        default = self.root[DEFAULT]
        if not name or name == DEFAULT:
            return default
        own = self.root[name]
        merged = default.model_dump(exclude_unset=True)
        if own.serverless:
            merged.pop("cluster_name", None)
        for key, value in own.model_dump(exclude_unset=True).items():
            if key == "queue_settings" and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return ClusterConfig(**merged)

    def names(self) -> set[str]:
        """Every compute name except ``__default__``."""
        return set(self.root) - {DEFAULT}


class LocalBackendConfig(_Strict):
    """How the local backend runs a job on this machine."""

    max_parallel: int = Field(default=2, ge=1)
    """Steps that run at the same time."""
    runs_dir: str = ".azureml-local/runs"
    """Where run folders go, relative to the project."""
    # Fork steps from a warm process that has imported Kedro and the project once;
    # false starts every step from scratch, exactly as on Azure ML compute.
    fork_server: bool = True
    # Run folders to keep in runs_dir, the newest first (the one just run included);
    # older ones are deleted after each run. None keeps every run folder.
    keep_runs: int | None = Field(default=None, ge=1)


class ExecutionConfig(_Strict):
    """What each step runs in and how the pipeline is cut into steps."""

    environment: str | None = None
    """The Azure ML environment steps run in, e.g. ``my-env@latest`` or ``my-env:3``."""
    image: str | None = None
    """A docker image steps run in instead of a registered environment (not both)."""
    code_directory: str | None = "."
    """The folder, relative to the project, uploaded as the steps' code snapshot."""
    working_directory: str | None = None
    """Accepted so that existing files load; not applied."""
    environment_variables: dict[str, str] = Field(default_factory=dict)
    """Environment variables of every step (no secrets: they show in the job's definition)."""
    node_grouping: NodeGrouping = "none"
    """``none``: a step per node; ``namespace``: a step per top-level namespace;
    ``memory``: nodes joined by in-memory datasets share a step."""
    # A local-path dataset one step writes and another reads travels as a step output;
    # false makes it a compile error instead (for teams that wrap such datasets by hand).
    promote_local_intermediates: bool = True
    # Local inputs no step writes are uploaded as data assets (content-hash versions) and
    # local final outputs registered as data asset versions, instead of a compile error.
    upload_local_files: bool = False
    # Keep running the steps that do not depend on a failed step (the job still fails).
    continue_on_step_failure: bool = False
    mlflow: bool = True
    """Steps log to MLflow when ``mlflow`` is installed where they run (on Azure ML with
    ``azureml-mlflow``, into the workspace; locally, into the run folder); false: never."""
    experiment_name: str | None = None
    """The Azure ML experiment of the jobs (the operator's ``experiment_name`` wins)."""
    local: LocalBackendConfig = Field(default_factory=LocalBackendConfig)
    """How the local backend runs jobs on this machine."""

    @model_validator(mode="after")
    def _one_environment(self) -> ExecutionConfig:
        if self.environment and self.image:
            raise ValueError("set either 'environment' or 'image', not both")
        return self


class CronScheduleConfig(_Strict):
    """A cron trigger for a native Azure ML schedule."""

    expression: str
    start_time: str | None = None
    end_time: str | None = None
    time_zone: str = "UTC"


class RecurrencePatternConfig(_Strict):
    """At which hours, minutes and days a recurrence fires."""

    hours: list[int] | None = None
    minutes: list[int] | None = None
    week_days: list[str] | None = None
    month_days: list[int] | None = None


class RecurrenceScheduleConfig(_Strict):
    """A recurrence trigger for a native Azure ML schedule."""

    frequency: Literal["minute", "hour", "day", "week", "month"]
    interval: int = Field(ge=1)
    schedule: RecurrencePatternConfig | None = None
    start_time: str | None = None
    end_time: str | None = None
    time_zone: str = "UTC"


class ScheduleConfig(_Strict):
    """A native Azure ML schedule: exactly one of cron or recurrence."""

    cron: CronScheduleConfig | None = None
    recurrence: RecurrenceScheduleConfig | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ScheduleConfig:
        if (self.cron is None) == (self.recurrence is None):
            raise ValueError("set exactly one of 'cron' or 'recurrence'")
        from airflow_kedro_azureml.schedules.from_config import spec_of

        spec_of(self)  # a cron, recurrence pattern or time zone Azure ML refuses is an error
        return self


def _entry_kind(value: Any) -> str:
    return "name" if isinstance(value, str) else "inline"


def _as_list(value: Any) -> Any:
    return value if value is None or isinstance(value, list) else [value]


# A job's schedule: a name under ``schedules``, or one written inline; one or a list.
ScheduleEntry = Annotated[
    Annotated[ScheduleConfig, Tag("inline")] | Annotated[str, Tag("name")],
    Discriminator(_entry_kind),
]
_ENTRY_TAGS = {"inline", "name"}


class PipelineFilterOptions(_Strict):
    """Which Kedro pipeline, and which of its nodes, a job runs."""

    pipeline_name: str = DEFAULT
    from_nodes: list[str] | None = None
    to_nodes: list[str] | None = None
    node_names: list[str] | None = None
    from_inputs: list[str] | None = None
    to_outputs: list[str] | None = None
    node_namespaces: list[str] | None = None
    tags: list[str] | None = None


class JobConfig(_Strict):
    """A named job: pipeline selection, where it runs and how it is scheduled."""

    pipeline: PipelineFilterOptions = Field(default_factory=PipelineFilterOptions)
    workspace: str | None = None
    experiment_name: str | None = None
    display_name: str | None = None
    description: str | None = None
    compute: str | None = None
    schedule: Annotated[list[ScheduleEntry] | None, BeforeValidator(_as_list)] = None
    params: dict[str, Any] | None = None
    limits: LimitsConfig | None = None
    notifications: str | None = None
    retry: dict[str, Any] | None = None
    """Accepted so that kedro-azureml-pipeline files load; not applied here (Airflow's
    task retries apply, and a retry resumes at the failed step)."""


class AzureMLConfig(_Strict):
    """The whole ``azureml.yml``."""

    workspace: WorkspacesConfig | None = None
    """The workspace jobs go to (``__default__``); the connection's extras win."""
    compute: ComputeConfig
    """Where steps run: ``__default__`` and named entries nodes pick by tag."""
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    """What steps run in and how the pipeline is cut into steps."""
    jobs: dict[str, JobConfig] = Field(default_factory=dict)
    """Named jobs (a pipeline selection and its schedules), for ``kedro azureml schedule``."""
    schedules: dict[str, ScheduleConfig] = Field(default_factory=dict)
    """Named native Azure ML schedules, for ``azureml_schedule="<name>"``."""
    # Accepted so that existing files load; notifications are Airflow's job here.
    notifications: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references_exist(self) -> AzureMLConfig:
        for job_name, job in self.jobs.items():
            if job.compute and job.compute not in self.compute.root:
                raise ValueError(
                    f"jobs.{job_name}.compute names {job.compute!r}, "
                    f"which is not under 'compute' (known: {sorted(self.compute.root)})"
                )
            for entry in job.schedule or []:
                if isinstance(entry, str) and entry not in self.schedules:
                    raise ValueError(
                        f"jobs.{job_name}.schedule names {entry!r}, "
                        f"which is not under 'schedules' (known: {sorted(self.schedules)})"
                    )
        return self


def parse_config(data: Any, source: str) -> AzureMLConfig:
    """Validate ``data`` as an ``azureml.yml``; errors name ``source`` and the field.

    A kedro-azureml (getindata) file is read in its own layout; what it, or a
    kedro-azureml-pipeline file, sets that does nothing here is named in one warning.
    """
    if not isinstance(data, dict) or not data:
        raise ConfigError(
            f"{source}: expected a mapping with at least 'compute' "
            f"(see the package docs for the layout), got {type(data).__name__}"
        )
    ignored: list[str] = []
    if is_kedro_azureml_layout(data):
        data, ignored = translate_kedro_azureml(data)
        logger.info("%s is in kedro-azureml's layout (azure: ...): read as such", source)
    try:
        config = AzureMLConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe_validation_error(error, source)) from None
    ignored += accepted_but_unused(data)
    if ignored:
        logger.warning(
            "%s: these settings have no effect with airflow-kedro-azureml and are ignored: %s",
            source,
            "; ".join(ignored),
        )
    return config


def _describe_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"{source} is not valid:"]
    for item in error.errors():
        parts = [p for p in item["loc"] if p != "__root__" and p not in _ENTRY_TAGS]
        location = ".".join(str(part) for part in parts) or "(top)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see the package docs for the fields)"
        elif item["type"] == "literal_error" or item["type"].endswith(("_type", "_parsing")):
            message = f"{message} (got {item.get('input')!r})"
        lines.append(f"  - {location}: {message}")
    return "\n".join(lines)


def load_config(
    project_path: Path,
    env: str | None = None,
    runtime_params: dict[str, Any] | None = None,
) -> AzureMLConfig:
    """Load ``conf/<env>/azureml.yml`` of a bootstrapped Kedro project and validate it.

    Uses the project's own config loader class and settings, so env layering,
    ``${globals:...}`` and ``${runtime_params:...}`` work as in the rest of the
    project. Errors name the file (or files) and the field.
    """
    from kedro.framework.project import settings

    conf_source = Path(project_path) / settings.CONF_SOURCE
    loader_args = dict(settings.CONFIG_LOADER_ARGS)
    patterns = dict(loader_args.pop("config_patterns", {}) or {})
    patterns.setdefault(CONFIG_KEY, CONFIG_PATTERNS)
    if env and not (conf_source / env).is_dir():
        known = sorted(path.name for path in conf_source.iterdir() if path.is_dir())
        raise ConfigError(
            f"the Kedro config environment {env!r} has no folder {conf_source / env} "
            f"(environments of this project: {known}); create it or pick one of these"
        )
    files = _config_files(conf_source, loader_args, env)
    shown = ", ".join(str(path) for path in files) or f"{conf_source}/<env>/azureml.yml"
    try:
        loader = settings.CONFIG_LOADER_CLASS(
            conf_source=str(conf_source),
            env=env,
            runtime_params=runtime_params or {},
            config_patterns=patterns,
            **loader_args,
        )
        data = loader[CONFIG_KEY]
    except Exception as error:  # the loader's errors vary by cause; keep the cause visible
        if not files:
            raise ConfigError(
                f"no azureml.yml found under {conf_source} (env {env or 'default'}); "
                f"create {conf_source / 'base' / 'azureml.yml'} with at least a "
                "'compute.__default__.cluster_name'"
            ) from None
        raise ConfigError(f"could not read {shown}: {error}") from None
    if not data:
        raise ConfigError(
            f"no azureml.yml found under {conf_source} (env {env or 'default'}); "
            f"create {conf_source / 'base' / 'azureml.yml'} with at least a "
            "'compute.__default__.cluster_name'"
        )
    try:
        return parse_config(dict(data), shown)
    except ConfigError as error:
        raise ConfigError(_name_defining_file(str(error), files)) from None


def _config_files(conf_source: Path, loader_args: dict[str, Any], env: str | None) -> list[Path]:
    base_env = loader_args.get("base_env") or "base"
    run_env = env or loader_args.get("default_run_env") or "local"
    found: list[Path] = []
    for folder in (conf_source / base_env, conf_source / run_env):
        if folder.is_dir():
            for pattern in CONFIG_PATTERNS:
                found.extend(
                    path
                    for path in sorted(folder.glob(pattern))
                    if path.is_file() and path.suffix in (".yml", ".yaml", ".json")
                )
    unique: list[Path] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def _name_defining_file(message: str, files: list[Path]) -> str:
    """Point each invalid field at the last file that sets it (env files override base)."""
    if len(files) < 2:
        return message
    raw: list[tuple[Path, Any]] = []
    for path in files:
        try:
            raw.append((path, yaml.safe_load(path.read_text(encoding="utf-8"))))
        except (OSError, yaml.YAMLError):
            continue
    lines = message.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith("  - "):
            continue
        location = line[4:].split(":", 1)[0]
        keys = location.split(".")
        for path, data in reversed(raw):
            if _has_path(data, keys):
                lines[index] = f"{line} [set in {path}]"
                break
    return "\n".join(lines)


def _has_path(data: Any, keys: list[str]) -> bool:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True
