"""The steps the local backend runs: their shape, their order, and how a compiled spec becomes them.

A ``LocalStep`` is a step as Azure ML runs it: a command string and the
bindings of its inputs. ``steps_from_spec`` renders a compiled pipeline into
them, binding data-asset inputs to the asset's local version folder as Azure
ML mounts the asset version.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from airflow_kedro_azureml.compiler.bindings import read_parent_output
from airflow_kedro_azureml.compiler.spec import AssetBinding, CompiledPipeline, ComputeTarget
from airflow_kedro_azureml.compute.asset_versions import local_versions
from airflow_kedro_azureml.errors import CompileError, StepRunError


@dataclass(frozen=True)
class LocalStep:
    """One step of a pipeline job, in the shape Azure ML runs it."""

    name: str
    command: str
    inputs: Mapping[str, str] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    """Seconds the step may run (Azure ML's ``limits.timeout``); it fails after that."""
    notice: str | None = None
    """A line the step's log starts with (e.g. how this run differs from Azure ML's)."""
    rank_environments: tuple[Mapping[str, str], ...] = ()
    """A distributed step: the variables of each of its processes (rank 0 first); empty
    for a step that runs as one process."""

    def upstream_steps(self) -> set[str]:
        """Names of the steps whose outputs this step reads."""
        found = set()
        for binding in self.inputs.values():
            source = read_parent_output(binding)
            if source is not None:
                found.add(source[0])
        return found


def order_steps(steps: Sequence[LocalStep]) -> list[LocalStep]:
    """Return ``steps`` in dependency order; raise if a binding names a missing step or loops."""
    by_name = {step.name: step for step in steps}
    if len(by_name) != len(steps):
        raise CompileError("pipeline job has two steps with the same name")
    waiting = {step.name: step.upstream_steps() for step in steps}
    for name, upstream in waiting.items():
        missing = upstream - by_name.keys()
        if missing:
            raise CompileError(f"step {name!r} reads outputs of unknown step(s) {sorted(missing)}")
    dependants: dict[str, list[str]] = {name: [] for name in by_name}
    for name, upstream in waiting.items():
        for parent in upstream:
            dependants[parent].append(name)
    ready = deque(name for name, upstream in waiting.items() if not upstream)
    ordered: list[LocalStep] = []
    remaining = {name: len(upstream) for name, upstream in waiting.items()}
    while ready:
        name = ready.popleft()
        ordered.append(by_name[name])
        for child in dependants[name]:
            remaining[child] -= 1
            if remaining[child] == 0:
                ready.append(child)
    if len(ordered) != len(steps):
        looped = sorted(name for name, count in remaining.items() if count > 0)
        raise CompileError(f"pipeline job steps depend on each other in a loop: {looped}")
    return ordered


def steps_from_spec(compiled: CompiledPipeline) -> list[LocalStep]:
    """The steps of ``compiled`` in the shape the local backend runs."""
    return [
        LocalStep(
            name=step.name,
            command=step.command,
            inputs={
                **step.input_bindings,
                **{binding.port: str(asset_folder(binding)) for binding in step.asset_inputs},
            },
            outputs=step.outputs,
            environment_variables=dict(compiled.environment_variables),
            timeout=compiled.computes[step.compute].timeout,
            notice=distribution_notice(compiled.computes[step.compute]),
        )
        for step in compiled.steps
    ]


def distribution_notice(target: ComputeTarget) -> str | None:
    """What the local backend says of a distributed step: it runs it once, as one process."""
    distribution = target.distribution
    if distribution is None:
        return None
    shape = f"{target.instance_count or 1} node(s)"
    if distribution.process_count_per_instance:
        shape += f" x {distribution.process_count_per_instance} process(es)"
    if distribution.worker_count:
        shape = f"{distribution.worker_count} worker(s)"
        if distribution.parameter_server_count:
            shape += f" and {distribution.parameter_server_count} parameter server(s)"
    return (
        f"[local backend] On Azure ML this step is distributed ({distribution.type}, {shape}); "
        "here it runs once, as one process (rank 0), which saves its outputs"
    )


def asset_folder(binding: AssetBinding) -> Path:
    """Where the local backend finds an asset version: ``local_root/name/version``.

    Without a pinned version, the latest local version (numbers compare as numbers).
    """
    if binding.upload_from is not None:
        # A local input that travels as an asset on Azure ML: here, the folder holding it.
        local = Path(binding.upload_from)
        if local.exists():
            placement = str(binding.placement or local.name)
            return Path(str(local)[: -len(placement)] or ".")
    if binding.local_root is None:
        raise StepRunError(f"asset input {binding.dataset!r} has no local folder")
    asset_dir = binding.local_root / binding.asset_name
    version = binding.asset_version
    if version is None:
        versions = local_versions(asset_dir)
        if not versions:
            raise StepRunError(
                f"no local version of data asset {binding.asset_name!r} (dataset "
                f"{binding.dataset!r}) under {asset_dir}; put the data in {asset_dir / '1'}"
            )
        version = versions[-1]
    return asset_dir / version
