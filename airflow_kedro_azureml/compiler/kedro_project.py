"""Open a Kedro project for compiling: its pipelines, catalog entries and azureml.yml.

Nothing here runs a node or instantiates a dataset: the compiler only needs to
know the pipeline's shape and, for each dataset, its type and path.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml.compute.run_time import RUN_PARAMS_KEY
from airflow_kedro_azureml.config import AzureMLConfig, load_config
from airflow_kedro_azureml.errors import PipelineSelectionError, ProjectError

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline

# Catalogs name the datasets by their catalog path; the module that defines them works too.
ASSET_DATASET_TYPES = frozenset(
    {
        "airflow_kedro_azureml.datasets.AzureMLAssetDataset",
        "airflow_kedro_azureml.compute.datasets.AzureMLAssetDataset",
    }
)
PIPELINE_DATASET_TYPES = ASSET_DATASET_TYPES | {
    "airflow_kedro_azureml.datasets.AzureMLPipelineDataset",
    "airflow_kedro_azureml.compute.datasets.AzureMLPipelineDataset",
}
MEMORY_DATASET_TYPES = frozenset({"MemoryDataset", "kedro.io.MemoryDataset"})


@dataclass(frozen=True)
class PipelineFilters:
    """The usual Kedro filters that narrow a pipeline to some of its nodes."""

    tags: tuple[str, ...] = ()
    node_names: tuple[str, ...] = ()
    from_nodes: tuple[str, ...] = ()
    to_nodes: tuple[str, ...] = ()
    from_inputs: tuple[str, ...] = ()
    to_outputs: tuple[str, ...] = ()
    node_namespaces: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        """True when no filter is set."""
        return not any(getattr(self, name) for name in self.__dataclass_fields__)

    def as_kwargs(self) -> dict[str, list[str] | None]:
        """Keyword arguments for ``Pipeline.filter``."""
        return {name: list(getattr(self, name)) or None for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class DatasetInfo:
    """What the compiler needs to know about one catalog dataset."""

    name: str
    type: str
    filepath: str | None
    config: dict[str, Any]

    @property
    def is_memory(self) -> bool:
        """The data lives only in the process that made it."""
        return self.type in MEMORY_DATASET_TYPES or self.type.endswith(".MemoryDataset")

    @property
    def is_folder_wrapped(self) -> bool:
        """Stored under a folder the step mount replaces (pipeline or asset dataset)."""
        return self.type in PIPELINE_DATASET_TYPES

    @property
    def is_asset(self) -> bool:
        """An Azure ML data asset."""
        return self.type in ASSET_DATASET_TYPES

    @property
    def wrapped_filepath(self) -> str | None:
        """A folder-wrapped dataset's path inside its folder (its inner ``filepath``)."""
        inner = self.config.get("dataset")
        filepath = inner.get("filepath") if isinstance(inner, dict) else None
        return None if filepath is None else str(filepath)

    @property
    def is_local_file(self) -> bool:
        """Stored at a path on the local disk of whichever machine runs the step."""
        if self.filepath is None:
            return False
        path = self.filepath
        if "://" in path:
            return path.startswith("file://")
        return True


@dataclass
class KedroProject:
    """A bootstrapped Kedro project, opened for compiling."""

    path: Path
    package_name: str
    env: str | None
    config: AzureMLConfig
    catalog_config: dict[str, Any]
    # None when the project's parameters cannot be read without runtime params
    # (e.g. a ``${runtime_params:...}`` with no default): then nothing is checked.
    parameters: dict[str, Any] | None = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        """What travels when pickled (from a compile child): the data, not Kedro's caches."""
        return {key: value for key, value in self.__dict__.items() if key != "_cached_resolver"}

    @property
    def code_directory(self) -> Path:
        """The folder steps run in and the code snapshot is made of (``code_directory``)."""
        return (self.path / (self.config.execution.code_directory or ".")).resolve()

    def pipeline(self, name: str, filters: PipelineFilters) -> Pipeline:
        """The named pipeline, narrowed by ``filters``; raise if nothing is left."""
        from kedro.framework.project import pipelines

        # Build only the requested pipeline: find_pipelines() then imports only its modules.
        pipelines.set_requested([name])
        try:
            pipeline = pipelines[name]
        except Exception as error:
            # A registry of `kedro new` (find_pipelines(raise_errors=True)) raises an
            # ImportError for a name it does not know; a broken pipeline module raises
            # whatever it raises. Neither gets better on retry.
            pipelines.set_requested(None)
            try:
                known = sorted(pipelines.keys())
            except Exception:
                known = None
            if known is not None and name not in known:
                raise PipelineSelectionError(
                    f"pipeline {name!r} is not registered in "
                    f"{self.package_name}.pipeline_registry; registered pipelines: {known}"
                ) from None
            raise ProjectError(
                f"cannot build pipeline {name!r} of {self.package_name}: "
                f"{type(error).__name__}: {_with_cause(error)}"
            ) from None
        if not filters.is_empty():
            try:
                pipeline = pipeline.filter(**filters.as_kwargs())
            except ValueError as error:
                if "no nodes" in str(error):
                    raise PipelineSelectionError(
                        f"pipeline {name!r} with filters {_shown(filters)} selects no nodes; "
                        "check the node names, tags and namespaces"
                    ) from None
                raise PipelineSelectionError(
                    f"pipeline {name!r} with filters {_shown(filters)}: {error}"
                ) from None
        if not pipeline.nodes:
            raise PipelineSelectionError(
                f"pipeline {name!r} with filters {_shown(filters)} selects no nodes; "
                "check the node names, tags and namespaces"
            )
        return pipeline

    def dataset_info(self, name: str) -> DatasetInfo:
        """The type and path of dataset ``name`` (dataset factories resolved)."""
        resolver = self._resolver()
        config = resolver.resolve_pattern(name) or {}
        dataset_type = config.get("type", "MemoryDataset")
        if not isinstance(dataset_type, str):
            dataset_type = f"{dataset_type.__module__}.{dataset_type.__qualname__}"
        filepath = config.get("filepath", config.get("path"))
        return DatasetInfo(
            name=name,
            type=dataset_type,
            filepath=None if filepath is None else str(filepath),
            config=config,
        )

    def _resolver(self) -> Any:
        cached = getattr(self, "_cached_resolver", None)
        if cached is None:
            from kedro.io.catalog_config_resolver import CatalogConfigResolver

            cached = CatalogConfigResolver(
                config=_without_credentials(self.catalog_config),
                default_runtime_patterns={"{default}": {"type": "MemoryDataset"}},
            )
            self._cached_resolver = cached
        return cached


def open_project(
    project_path: str | Path,
    env: str | None = None,
    runtime_params: dict[str, Any] | None = None,
) -> KedroProject:
    """Bootstrap the Kedro project at ``project_path`` and read its config.

    ``runtime_params`` are the params the steps will get: ``${runtime_params:...}`` in
    azureml.yml and the catalog resolve with them, as on compute. The parameters
    (to check the user's keys against) are read with the run's own params only.
    """
    path = Path(project_path).expanduser().resolve()
    pyproject = path / "pyproject.toml"
    if not path.is_dir():
        raise ProjectError(f"project path {str(path)!r} is not a directory")
    if not pyproject.is_file():
        raise ProjectError(
            f"{str(path)!r} is not a Kedro project: it has no pyproject.toml "
            "(project_path must point at the folder that holds pyproject.toml)"
        )
    try:
        metadata = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ProjectError(f"cannot read {pyproject}: {error}") from None
    if "kedro" not in metadata.get("tool", {}):
        raise ProjectError(
            f"{str(path)!r} is not a Kedro project: {pyproject} has no [tool.kedro] section"
        )
    from kedro.framework.startup import bootstrap_project

    try:
        project_metadata = bootstrap_project(path)
    except Exception as error:
        raise ProjectError(f"cannot load the Kedro project at {str(path)!r}: {error}") from None
    config = load_config(path, env=env, runtime_params=runtime_params)
    catalog_config = _load_conf(path, env, runtime_params, "catalog")
    return KedroProject(
        path=path,
        package_name=project_metadata.package_name,
        env=env,
        config=config,
        catalog_config={k: v for k, v in catalog_config.items() if not k.startswith("_")},
        parameters=_parameters_or_none(path, env, _run_params_only(runtime_params)),
    )


def _load_conf(
    path: Path, env: str | None, runtime_params: dict[str, Any] | None, key: str
) -> dict[str, Any]:
    """One kind of the project's configuration (``catalog``, ``parameters``), as Kedro reads it."""
    from kedro.framework.project import settings

    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(path / settings.CONF_SOURCE),
        env=env,
        runtime_params=runtime_params or {},
        **settings.CONFIG_LOADER_ARGS,
    )
    try:
        return dict(loader[key])
    except Exception as error:
        raise ProjectError(f"cannot read the {key} of {str(path)!r}: {error}") from None


def _parameters_or_none(
    path: Path, env: str | None, runtime_params: dict[str, Any] | None
) -> dict[str, Any] | None:
    try:
        return _load_conf(path, env, runtime_params, "parameters")
    except ProjectError:
        return None


def _run_params_only(runtime_params: dict[str, Any] | None) -> dict[str, Any] | None:
    """Of the steps' runtime params, the ones this package adds (the run time), not the user's."""
    if not runtime_params or RUN_PARAMS_KEY not in runtime_params:
        return None
    return {RUN_PARAMS_KEY: runtime_params[RUN_PARAMS_KEY]}


def _without_credentials(config: Any) -> Any:
    """Drop ``credentials`` entries: compiling needs types and paths, never secrets."""
    if isinstance(config, dict):
        return {
            key: _without_credentials(value)
            for key, value in config.items()
            if key != "credentials"
        }
    return config


def _shown(filters: PipelineFilters) -> str:
    shown = {key: value for key, value in filters.as_kwargs().items() if value}
    return str(shown) if shown else "(none)"


def _with_cause(error: BaseException) -> str:
    """The error's message, and its cause's when it has one (Kedro wraps import errors)."""
    text = str(error)
    cause = error.__cause__
    if cause is not None:
        text += f" ({type(cause).__name__}: {cause})"
    return text
