"""Compile a Kedro pipeline into one pipeline job's steps: pure, offline and deterministic.

The same pipeline, config and run options give the same ``CompiledPipeline``
(and so the same YAML, byte for byte). Work is linear in nodes plus edges.

Data between steps:
- a dataset with no catalog entry (in memory) or an ``AzureMLPipelineDataset`` /
  ``AzureMLAssetDataset`` that one step writes and another reads travels as an
  Azure ML ``uri_folder`` output wired to the readers' inputs;
- a catalog dataset on a local path that crosses steps travels the same way (it is
  "promoted": same dataset type and versioning, its path moved into the mounted
  folder on compute), or is an error when ``execution.promote_local_intermediates``
  is false;
- a dataset on a cloud path only orders the steps (a ``kedro_done`` output of
  the writer wired to a ``kedro_after_<step>`` input of the reader).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml.compiler.bindings import (
    input_reference,
    output_reference,
    parent_input,
    parent_output,
)
from airflow_kedro_azureml.compiler.grouping import NodeView, group_nodes
from airflow_kedro_azureml.compiler.kedro_project import DatasetInfo, KedroProject, PipelineFilters
from airflow_kedro_azureml.compiler.params_check import check_params
from airflow_kedro_azureml.compiler.project_environment import project_environment
from airflow_kedro_azureml.compiler.spec import (
    AFTER_PORT_PREFIX,
    DONE_PORT,
    PARAMS_FILE_INPUT,
    PARAMS_INPUT,
    RUN_ID_INPUT,
    STEP_PARAMS_FILE_PORT,
    STEP_PARAMS_PORT,
    STEP_RUN_ID_PORT,
    TRIGGER_TIME_RUN_ID,
    AssetBinding,
    CompiledPipeline,
    ComputeTarget,
    Distribution,
    LocalFile,
    ProjectEnvironment,
    StepIdentity,
    StepSpec,
    common_namespace,
)
from airflow_kedro_azureml.compute import EXECUTE_MODULE
from airflow_kedro_azureml.compute.arg_codec import encode_json, encode_value, json_text
from airflow_kedro_azureml.compute.mlflow_tracking import SWITCH_VARIABLE as MLFLOW_SWITCH_VARIABLE
from airflow_kedro_azureml.config import DEFAULT
from airflow_kedro_azureml.errors import CompileError, ParamsError
from airflow_kedro_azureml.identity import validate_run_id
from airflow_kedro_azureml.snapshot_rules import IgnoreRules

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline

COMPUTE_TAG_PREFIX = "compute."
# A node with this tag is run again by every job: Azure ML never reuses its step's outputs.
NONDETERMINISTIC_TAG = "azureml.nondeterministic"
# Params longer than this (as a command-line word) travel as a file input instead: a step's
# whole command is one argument of ``bash -c``, and Linux allows 128 KiB per argument.
MAX_INLINE_PARAMS_BYTES = 32_000
_MAX_NAME = 100
_RESERVED_PORTS = {STEP_RUN_ID_PORT, STEP_PARAMS_PORT, STEP_PARAMS_FILE_PORT, DONE_PORT}


@dataclass(frozen=True)
class CompileOptions:
    """What to compile: which pipeline, filters, env, run identity and params."""

    pipeline_name: str = DEFAULT
    filters: PipelineFilters = field(default_factory=PipelineFilters)
    run_id: str = "1970-01-01T00.00.00.000Z"
    params: Mapping[str, Any] | None = None
    node_grouping: str | None = None
    allow_unknown_params: bool = False


def compile_pipeline(project: KedroProject, options: CompileOptions) -> CompiledPipeline:
    """Compile the selected pipeline of ``project`` into a ``CompiledPipeline``."""
    pipeline = project.pipeline(options.pipeline_name, options.filters)
    return compile_selected(project, pipeline, options)


def compile_selected(
    project: KedroProject, pipeline: Pipeline, options: CompileOptions
) -> CompiledPipeline:
    """Compile an already selected ``pipeline`` (``options.filters`` are not applied again)."""
    if options.run_id != TRIGGER_TIME_RUN_ID:
        validate_run_id(options.run_id)
    params_word, params_file_text = _params_words(options.params)
    if not options.allow_unknown_params and project.parameters is not None:
        check_params(options.params or {}, project.parameters, f"project {project.package_name}")
    if not pipeline.nodes:
        raise CompileError(f"pipeline {options.pipeline_name!r} has no nodes to compile")
    return _Compiler(project, options, pipeline, params_word, params_file_text).compile()


def _params_words(params: Mapping[str, Any] | None) -> tuple[str, str | None]:
    """The params as a command-line word, or as ``{}`` plus JSON text for a file input."""
    try:
        text = json_text(dict(params or {}))
    except (TypeError, ValueError) as error:
        raise ParamsError(
            f"params must be JSON-serialisable (strings, numbers, booleans, null, lists and "
            f"mappings with string keys): {error}; convert dates and other objects to strings"
        ) from None
    word = encode_value(text)
    if len(word) <= MAX_INLINE_PARAMS_BYTES:
        return word, None
    return encode_json({}), text


class _Compiler:
    """One compilation; holds the lookups it builds so each is made once."""

    def __init__(
        self,
        project: KedroProject,
        options: CompileOptions,
        pipeline: Pipeline,
        params_word: str,
        params_file_text: str | None,
    ) -> None:
        self.project = project
        self.options = options
        self.pipeline = pipeline
        self.params_word = params_word
        self.params_file_text = params_file_text
        self.config = project.config
        self.nodes = list(pipeline.nodes)
        self._info: dict[str, DatasetInfo] = {}
        self._snapshot_rules: IgnoreRules | None = None

    def info(self, dataset: str) -> DatasetInfo:
        if dataset not in self._info:
            self._info[dataset] = self.project.dataset_info(dataset)
        return self._info[dataset]

    def compile(self) -> CompiledPipeline:
        producer: dict[str, int] = {}
        for index, node in enumerate(self.nodes):
            for output in node.outputs:
                producer[output] = index
        views = self._node_views(producer)
        strategy = self.options.node_grouping or self.config.execution.node_grouping
        groups = group_nodes(views, strategy)
        step_of_node: dict[int, int] = {}
        for step_index, members in enumerate(groups):
            for member in members:
                step_of_node[member] = step_index
        names = self._step_names(groups, strategy)
        wiring = self._wire(groups, step_of_node, producer, names)
        steps = tuple(
            self._step_spec(index, members, names, views, wiring)
            for index, members in enumerate(groups)
        )
        execution = self.config.execution
        return CompiledPipeline(
            pipeline_name=self.options.pipeline_name,
            env=self.project.env,
            run_id=self.options.run_id,
            params_word=self.params_word,
            steps=steps,
            computes=self._computes({step.compute for step in steps}),
            code_directory=self.project.code_directory,
            environment=execution.environment,
            image=execution.image,
            project_environment=self._project_environment(),
            environment_variables=self._environment_variables(),
            experiment_name=execution.experiment_name,
            continue_on_step_failure=execution.continue_on_step_failure,
            package_name=self.project.package_name,
            params_file_text=self.params_file_text,
            promoted=tuple(sorted(wiring.promoted)),
            local_files=tuple(
                LocalFile(dataset, path, role, names[step])
                for dataset, path, role, step in wiring.local_files
            ),
        )

    def _environment_variables(self) -> dict[str, str]:
        """The steps' environment: azureml.yml's, and MLflow turned off when it says so."""
        execution = self.config.execution
        variables = dict(execution.environment_variables)
        if not execution.mlflow:
            variables[MLFLOW_SWITCH_VARIABLE] = "false"
        return dict(sorted(variables.items()))

    def _asset_binding(
        self, port: str, dataset: str, wiring: _Wiring, is_input: bool
    ) -> AssetBinding:
        info = self.info(dataset)
        if dataset not in wiring.uploads:
            return _asset_binding(port, info, self.project.path)
        local = wiring.uploads[dataset]
        placement = (info.is_folder_wrapped and info.wrapped_filepath) or PurePosixPath(local).name
        return AssetBinding(
            port=port,
            dataset=dataset,
            asset_name=local_asset_name(self.project.package_name, dataset),
            asset_version=None,
            asset_type="uri_folder",
            local_root=self.project.path / LOCAL_ASSETS_DIR,
            upload_from=str(self._absolute(local)) if is_input else None,
            placement=placement,
        )

    def _local_path(self, info: DatasetInfo) -> str | None:
        """Where an input lives on the local disk (None: in memory, an asset, a cloud path)."""
        if info.is_asset or info.is_memory:
            return None
        if info.is_folder_wrapped:
            filepath = info.wrapped_filepath
            root = str(info.config.get("root_dir", "data"))
            return f"{root}/{filepath}" if filepath else root
        return info.filepath if info.is_local_file else None

    def _absolute(self, local: str) -> Path:
        """A local dataset path as an absolute path (relative ones are the project's)."""
        path = Path(local.removeprefix("file://"))
        return path if path.is_absolute() else self.project.path / path

    def _travels_in_snapshot(self, local: str) -> bool:
        """Whether a local path is inside the code folder and not left out of its snapshot."""
        code = self.project.code_directory
        try:
            relative = self._absolute(local).resolve().relative_to(code)
        except ValueError:
            return False
        if self._snapshot_rules is None:
            self._snapshot_rules = IgnoreRules.for_project(code)
        return not self._snapshot_rules.excluded_with_parents(relative.as_posix(), is_dir=False)

    def _project_environment(self) -> ProjectEnvironment | None:
        """The project's own environment, when azureml.yml names no environment or image."""
        execution = self.config.execution
        if execution.environment or execution.image:
            return None
        from importlib.metadata import version

        return project_environment(self.project.path, self.project.package_name, version("kedro"))

    # -- nodes ------------------------------------------------------------------------------

    def _node_views(self, producer: dict[str, int]) -> list[NodeView]:
        compute_names = self.config.compute.names()
        views = []
        for index, node in enumerate(self.nodes):
            upstream: list[int] = []
            memory_upstream: list[int] = []
            for dataset in node.inputs:
                if dataset in producer:
                    upstream.append(producer[dataset])
                    if self.info(dataset).is_memory:
                        memory_upstream.append(producer[dataset])
            views.append(
                NodeView(
                    index=index,
                    name=node.name,
                    namespace=node.namespace,
                    compute=self._compute_of(node.name, node.tags, compute_names),
                    upstream=tuple(upstream),
                    memory_upstream=tuple(memory_upstream),
                )
            )
        return views

    def _compute_of(self, node_name: str, tags: Iterable[str], compute_names: set[str]) -> str:
        chosen: set[str] = set()
        for tag in tags:
            if tag.startswith(COMPUTE_TAG_PREFIX):
                wanted = tag[len(COMPUTE_TAG_PREFIX) :]
                if wanted not in compute_names:
                    raise CompileError(
                        f"node {node_name!r} has tag {tag!r}, but azureml.yml has no compute "
                        f"{wanted!r} (known: {sorted(compute_names) or 'only __default__'}); "
                        f"add 'compute.{wanted}.cluster_name' to azureml.yml or fix the tag"
                    )
                chosen.add(wanted)
            elif tag in compute_names:
                chosen.add(tag)
        if len(chosen) > 1:
            raise CompileError(
                f"node {node_name!r} is tagged for several computes {sorted(chosen)}; keep one"
            )
        return chosen.pop() if chosen else DEFAULT

    def _computes(self, used: set[str]) -> dict[str, ComputeTarget]:
        targets = {}
        for name in sorted(used):
            cluster = self.config.compute.resolve(name)
            queue = cluster.queue_settings
            identity = cluster.identity
            distribution = cluster.distribution
            targets[name] = ComputeTarget(
                cluster_name=cluster.cluster_name,
                instance_type=cluster.instance_type,
                instance_count=cluster.instance_count,
                serverless=cluster.serverless,
                shm_size=cluster.shm_size,
                job_tier=queue.job_tier if queue else None,
                priority=queue.priority if queue else None,
                timeout=cluster.limits.timeout if cluster.limits else None,
                identity=None if identity is None else StepIdentity(**identity.model_dump()),
                distribution=None
                if distribution is None
                else Distribution(**distribution.model_dump()),
            )
        return targets

    # -- names ------------------------------------------------------------------------------

    def _step_names(self, groups: list[list[int]], strategy: str) -> list[str]:
        taken: set[str] = set()
        names = []
        for members in groups:
            first = self.nodes[members[0]]
            if len(members) == 1:
                base = first.name
            elif strategy == "namespace" and first.namespace:
                base = first.namespace.split(".", 1)[0]
            else:
                base = f"{first.name}_group"
            names.append(_unique(_identifier(base), taken))
        return names

    # -- data wiring ------------------------------------------------------------------------

    def _wire(
        self,
        groups: list[list[int]],
        step_of_node: dict[int, int],
        producer: dict[str, int],
        names: list[str],
    ) -> _Wiring:
        wiring = _Wiring(len(groups))
        port_taken: set[str] = set(_RESERVED_PORTS)
        problems: list[str] = []
        for step_index, members in enumerate(groups):
            for member in members:
                node = self.nodes[member]
                for dataset in node.inputs:
                    if _is_parameter(dataset):
                        continue
                    if dataset not in producer:
                        self._free_input(step_index, dataset, wiring, port_taken, problems)
                        continue
                    source_step = step_of_node[producer[dataset]]
                    if source_step == step_index:
                        continue
                    info = self.info(dataset)
                    if info.is_memory or info.is_folder_wrapped:
                        port = wiring.port_for(dataset, port_taken)
                        wiring.outputs[source_step].add(dataset)
                        wiring.data_inputs[step_index][dataset] = (source_step, port)
                    elif info.is_local_file and self.config.execution.promote_local_intermediates:
                        # Travels as the writer's output, in the same dataset type and path
                        # name, rewritten into the mounted folder on compute.
                        port = wiring.port_for(dataset, port_taken)
                        wiring.outputs[source_step].add(dataset)
                        wiring.data_inputs[step_index][dataset] = (source_step, port)
                        wiring.promoted.add(dataset)
                    elif info.is_local_file:
                        problems.append(
                            f"dataset {dataset!r} ({info.type}, filepath {info.filepath!r}) is "
                            f"written by step {names[source_step]!r} (node "
                            f"{self.nodes[producer[dataset]].name!r}) and read by step "
                            f"{names[step_index]!r} (node {node.name!r}); on Azure ML the reader "
                            "cannot see the writer's disk. Wrap it in "
                            "airflow_kedro_azureml.datasets.AzureMLPipelineDataset, give it a "
                            "cloud path (abfs://...), remove its catalog entry to pass it "
                            "in memory, or set execution.promote_local_intermediates: true in "
                            "azureml.yml to let it travel as a step output"
                        )
                    else:
                        wiring.after[step_index].add(source_step)
                for dataset in node.outputs:
                    info = self.info(dataset)
                    if info.is_folder_wrapped:
                        wiring.port_for(dataset, port_taken)
                        wiring.outputs[step_index].add(dataset)
                        if info.is_asset:
                            wiring.asset_outputs[step_index].add(dataset)
        if problems:
            raise CompileError(
                "local files cannot cross Azure ML steps:\n  - " + "\n  - ".join(problems)
            )
        read = {dataset for node in self.nodes for dataset in node.inputs}
        for step_index, members in enumerate(groups):
            for member in members:
                for dataset in self.nodes[member].outputs:
                    info = self.info(dataset)
                    if dataset not in read and info.is_local_file and not info.is_folder_wrapped:
                        local = str(info.filepath)
                        if self.config.execution.upload_local_files:
                            wiring.port_for(dataset, port_taken)
                            wiring.outputs[step_index].add(dataset)
                            wiring.asset_outputs[step_index].add(dataset)
                            wiring.uploads[dataset] = local
                        else:
                            wiring.local_files.append((dataset, local, "output", step_index))
        for step_index in range(len(groups)):
            data_sources = {source for source, _ in wiring.data_inputs[step_index].values()}
            wiring.after[step_index] -= data_sources
            for source in wiring.after[step_index]:
                wiring.needs_done[source] = True
        return wiring

    def _free_input(
        self,
        step_index: int,
        dataset: str,
        wiring: _Wiring,
        port_taken: set[str],
        problems: list[str],
    ) -> None:
        info = self.info(dataset)
        local = self._local_path(info)
        reported = local is None or any(
            item[0] == dataset and item[2] == "input" for item in wiring.local_files
        )
        if local is not None and dataset in wiring.uploads:
            wiring.asset_inputs[step_index][dataset] = wiring.port_for(dataset, port_taken)
        elif not reported and not self._travels_in_snapshot(str(local)):
            if self.config.execution.upload_local_files:
                wiring.uploads[dataset] = str(local)
                wiring.asset_inputs[step_index][dataset] = wiring.port_for(dataset, port_taken)
            else:
                wiring.local_files.append((dataset, str(local), "input", step_index))
        if info.is_memory:
            problems.append(
                f"dataset {dataset!r} is an input of the pipeline but has no catalog entry, "
                "so no step produces it and Kedro could not load it; add it to the catalog "
                "or include the node that produces it"
            )
        elif info.is_asset:
            port = wiring.port_for(dataset, port_taken)
            wiring.asset_inputs[step_index][dataset] = port

    # -- steps ------------------------------------------------------------------------------

    def _step_spec(
        self,
        index: int,
        members: list[int],
        names: list[str],
        views: list[NodeView],
        wiring: _Wiring,
    ) -> StepSpec:
        node_names = tuple(self.nodes[member].name for member in members)
        inputs: dict[str, str] = {
            STEP_RUN_ID_PORT: parent_input(RUN_ID_INPUT),
            STEP_PARAMS_PORT: parent_input(PARAMS_INPUT),
        }
        words = [
            "python",
            "-m",
            EXECUTE_MODULE,
            "--pipeline",
            encode_value(self.options.pipeline_name),
        ]
        if self.project.env:
            words += ["--env", encode_value(self.project.env)]
        words += [
            "--nodes",
            encode_value(",".join(node_names)),
            "--run-id",
            input_reference(STEP_RUN_ID_PORT),
            "--params",
            input_reference(STEP_PARAMS_PORT),
        ]
        if self.params_file_text is not None:
            inputs[STEP_PARAMS_FILE_PORT] = parent_input(PARAMS_FILE_INPUT)
            words += ["--params-file", input_reference(STEP_PARAMS_FILE_PORT)]
        data_inputs: list[str] = []
        for dataset, (source, port) in sorted(wiring.data_inputs[index].items()):
            inputs[port] = parent_output(names[source], port)
            data_inputs.append(port)
            words += ["--input", encode_value(dataset), input_reference(port)]
        asset_inputs = []
        for dataset, port in sorted(wiring.asset_inputs[index].items()):
            asset_inputs.append(self._asset_binding(port, dataset, wiring, is_input=True))
            data_inputs.append(port)
            words += ["--input", encode_value(dataset), input_reference(port)]
        for source in sorted(wiring.after[index]):
            port = AFTER_PORT_PREFIX + names[source]
            inputs[port] = parent_output(names[source], DONE_PORT)
            data_inputs.append(port)
        outputs: list[str] = []
        asset_outputs = []
        for dataset in sorted(wiring.outputs[index]):
            port = wiring.ports[dataset]
            outputs.append(port)
            words += ["--output", encode_value(dataset), output_reference(port)]
            if dataset in wiring.asset_outputs[index]:
                asset_outputs.append(self._asset_binding(port, dataset, wiring, is_input=False))
        if wiring.needs_done[index]:
            outputs.append(DONE_PORT)
            words += ["--done", output_reference(DONE_PORT)]
        return StepSpec(
            name=names[index],
            display_name=_display_name(node_names),
            node_names=node_names,
            compute=views[members[0]].compute,
            command=" ".join(words),
            inputs=tuple(sorted(inputs.items())),
            data_inputs=tuple(sorted(data_inputs)),
            outputs=tuple(outputs),
            asset_inputs=tuple(asset_inputs),
            asset_outputs=tuple(asset_outputs),
            deterministic=not any(
                NONDETERMINISTIC_TAG in self.nodes[member].tags for member in members
            ),
            namespace=common_namespace(views[member].namespace for member in members),
        )


class _Wiring:
    """Per-step data edges, ports and ordering edges found while compiling."""

    def __init__(self, step_count: int) -> None:
        self.ports: dict[str, str] = {}
        self.outputs: list[set[str]] = [set() for _ in range(step_count)]
        self.data_inputs: list[dict[str, tuple[int, str]]] = [{} for _ in range(step_count)]
        self.asset_inputs: list[dict[str, str]] = [{} for _ in range(step_count)]
        self.asset_outputs: list[set[str]] = [set() for _ in range(step_count)]
        self.after: list[set[int]] = [set() for _ in range(step_count)]
        self.needs_done: list[bool] = [False] * step_count
        self.promoted: set[str] = set()
        # Local files that travel as data assets (upload_local_files): dataset -> local path.
        self.uploads: dict[str, str] = {}
        # (dataset, local path, "input" or "output", step index)
        self.local_files: list[tuple[str, str, str, int]] = []

    def port_for(self, dataset: str, taken: set[str]) -> str:
        if dataset not in self.ports:
            self.ports[dataset] = _unique(_identifier(dataset), taken)
        return self.ports[dataset]


LOCAL_ASSETS_DIR = ".azureml-local/assets"


def local_asset_name(package: str, dataset: str) -> str:
    """The data asset a local file travels as: ``kedro_<package>_<dataset>``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", f"kedro_{package}_{dataset}")[:255]


def _asset_binding(port: str, info: DatasetInfo, project_path: Path) -> AssetBinding:
    version = info.config.get("azureml_version")
    return AssetBinding(
        local_root=project_path / str(info.config.get("root_dir", "data")),
        port=port,
        dataset=info.name,
        asset_name=str(info.config.get("azureml_dataset", info.name)),
        asset_version=None if version is None else str(version),
        asset_type=str(info.config.get("azureml_type", "uri_folder")),
    )


def _is_parameter(dataset: str) -> bool:
    return dataset == "parameters" or dataset.startswith("params:")


def _identifier(text: str) -> str:
    """An Azure ML name: lowercase letters, digits and '_', starting with a letter or '_'."""
    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "step"
    if name[0].isdigit():
        name = "n_" + name
    if len(name) > _MAX_NAME:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        name = f"{name[: _MAX_NAME - 9]}_{digest}"
    return name


def _unique(name: str, taken: set[str]) -> str:
    candidate, counter = name, 2
    while candidate in taken:
        candidate = f"{name}_{counter}"
        counter += 1
    taken.add(candidate)
    return candidate


def _display_name(node_names: tuple[str, ...]) -> str:
    if len(node_names) == 1:
        return node_names[0]
    shown = ", ".join(node_names[:3])
    more = len(node_names) - 3
    return f"{shown} (+{more} more)" if more > 0 else shown
