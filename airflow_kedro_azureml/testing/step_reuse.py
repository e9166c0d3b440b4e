"""Azure ML's step reuse rule, for the emulator: which steps of a new pipeline job need not run.

Azure ML reuses a completed run of a step, instead of running the step again, when
- the step's component is deterministic (``is_deterministic``, true by default);
- the pipeline job does not set ``settings.force_rerun``;
- the component (its registered version: command, code, environment), the run
  settings (compute, resources, limits, queue settings, environment variables,
  distribution, identity), the output settings and every input are the same.

An input bound to another step's output is "the same" only when it is the very same
output: the output of the same earlier run (a reused step's output is the run it
reused). So a step whose upstream step ran again runs again too, and a retry after a
failure runs the failed step and everything downstream of it. The reused step's
child run is ``Completed`` at once, with the properties ``azureml.isreused``,
``azureml.reusedrunid`` and ``azureml.reusedpipelinerunid``, and its outputs are
the earlier run's outputs.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_kedro_azureml.compiler.bindings import read_parent_input, read_parent_output
from airflow_kedro_azureml.local.steps import LocalStep, order_steps

# Node fields that are not run settings: they do not decide reuse.
_NOT_RUN_SETTINGS = frozenset(
    {"name", "display_name", "displayName", "inputs", "tags", "properties", "description"}
)

ComponentLookup = Callable[[str], Mapping[str, Any] | None]


@dataclass(frozen=True)
class CompletedStep:
    """A step run that completed: where its outputs are, for later jobs to reuse."""

    job_name: str
    step: str
    run_id: str
    folder: Path
    """The step's own folder (``outputs/<port>`` and ``user_logs`` under it)."""


class ReuseIndex:
    """Completed step runs of the workspace by reuse key; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, CompletedStep] = {}

    def record(self, key: str, run: CompletedStep) -> None:
        """Remember ``run`` as the completed run for ``key`` (the first one stays)."""
        with self._lock:
            self._runs.setdefault(key, run)

    def find(self, key: str) -> CompletedStep | None:
        """The completed run a step with ``key`` may reuse, if any."""
        with self._lock:
            return self._runs.get(key)


@dataclass(frozen=True)
class ReusePlan:
    """Each step's reuse key, and which steps reuse which earlier runs."""

    keys: dict[str, str]
    reused: dict[str, CompletedStep]


def plan_reuse(
    job_name: str,
    properties: Mapping[str, Any],
    steps: list[LocalStep],
    lookup: ComponentLookup,
    index: ReuseIndex,
    run_id_of: Callable[[str, str], str],
) -> ReusePlan:
    """Work out every step's key, in dependency order, and find the runs it may reuse.

    ``run_id_of(job, step)`` names a step's child run.
    """
    nodes: Mapping[str, Any] = properties.get("jobs") or {}
    pipeline_inputs: Mapping[str, Any] = properties.get("inputs") or {}
    settings = properties.get("settings") or {}
    force_rerun = bool(settings.get("force_rerun") or settings.get("forceRerun"))
    producer: dict[str, str] = {}  # step -> the run whose outputs it offers
    keys: dict[str, str] = {}
    reused: dict[str, CompletedStep] = {}
    for step in order_steps(steps):
        node = nodes.get(step.name) or {}
        key = _step_key(node, pipeline_inputs, producer)
        keys[step.name] = key
        earlier = None
        if not force_rerun and _is_deterministic(node, lookup):
            earlier = index.find(key)
        if earlier is not None:
            reused[step.name] = earlier
            producer[step.name] = earlier.run_id
        else:
            producer[step.name] = run_id_of(job_name, step.name)
    return ReusePlan(keys=keys, reused=reused)


def _is_deterministic(node: Mapping[str, Any], lookup: ComponentLookup) -> bool:
    component = lookup(str(node.get("componentId") or "")) or {}
    spec = (component.get("properties") or {}).get("componentSpec") or {}
    return spec.get("is_deterministic", True) is not False


def _step_key(
    node: Mapping[str, Any], pipeline_inputs: Mapping[str, Any], producer: Mapping[str, str]
) -> str:
    inputs: dict[str, Any] = {}
    for port, spec in (node.get("inputs") or {}).items():
        inputs[port] = _input_identity(spec, pipeline_inputs, producer)
    settings = {k: v for k, v in node.items() if k not in _NOT_RUN_SETTINGS}
    text = json.dumps({"settings": settings, "inputs": inputs}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _input_identity(
    spec: Any, pipeline_inputs: Mapping[str, Any], producer: Mapping[str, str]
) -> Any:
    """What an input is, for reuse: a value, a data URI, or an earlier run's output."""
    if not isinstance(spec, Mapping):
        return spec
    value = spec.get("value")
    if isinstance(value, str):
        source = read_parent_output(value)
        if source is not None:
            return {"output_of": producer.get(source[0]), "port": source[1]}
        name = read_parent_input(value)
        if name is not None:
            return {"pipeline_input": pipeline_inputs.get(name)}
    return dict(spec)
