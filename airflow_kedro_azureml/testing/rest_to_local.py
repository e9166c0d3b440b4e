"""Turns the REST body of a submitted job into the steps the local backend runs.

A pipeline job body (``properties`` of ``PUT {WS}/jobs/{name}``) names each step's
component by ARM id; the component's ``componentSpec`` holds the command, the ports
and the code. Step inputs arrive as ``{"job_input_type": "literal", "value":
"${{parent.jobs.a.outputs.x}}"}`` (a binding), ``literal`` values, or data inputs
(``{"job_input_type": "uri_folder", "uri": ...}``); pipeline inputs as
``{"jobInputType": "literal", "value": ...}`` or a data input with ``uri``.
Data URIs are kept as they are and listed in :attr:`LocalJobPlan.data_inputs`, so the
caller can download them before the run and swap in local paths.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_kedro_azureml.local.distributed import rank_environments
from airflow_kedro_azureml.local.steps import LocalStep

ComponentLookup = Callable[[str], Mapping[str, Any] | None]

_CODE_ID = re.compile(r"/codes/(?P<name>[^/]+)/versions/(?P<version>[^/]+)$")
# Scope of pipeline-level inputs in ``LocalJobPlan.data_inputs`` (no step can have this name).
PIPELINE_SCOPE = "<pipeline>"
_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_LITERAL_TYPES = frozenset({"literal", "string", "integer", "number", "boolean"})


@dataclass(frozen=True)
class CodeReference:
    """A code version, by name and version (from an ARM id)."""

    name: str
    version: str


@dataclass(frozen=True)
class LocalJobPlan:
    """Everything needed to run a submitted job locally.

    ``data_inputs`` lists where data URIs sit: ``(PIPELINE_SCOPE, name)`` for a pipeline
    input, ``(step, port)`` for a step input bound straight to data.
    """

    steps: tuple[LocalStep, ...]
    pipeline_inputs: Mapping[str, str]
    code: CodeReference | None
    data_inputs: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    continue_on_step_failure: bool = False

    def with_data_paths(self, resolve: Callable[[str], str]) -> LocalJobPlan:
        """A copy whose data URIs are replaced by ``resolve(uri)`` (e.g. a downloaded folder)."""
        pipeline_inputs = dict(self.pipeline_inputs)
        steps = []
        for key in self.data_inputs:
            if key[0] == PIPELINE_SCOPE and key[1] in pipeline_inputs:
                pipeline_inputs[key[1]] = resolve(pipeline_inputs[key[1]])
        for step in self.steps:
            inputs = dict(step.inputs)
            for port in inputs:
                if (step.name, port) in self.data_inputs:
                    inputs[port] = resolve(inputs[port])
            steps.append(dataclasses.replace(step, inputs=inputs))
        return dataclasses.replace(self, steps=tuple(steps), pipeline_inputs=pipeline_inputs)


def parse_code_id(code_id: str | None) -> CodeReference | None:
    """``CodeReference`` from ``azureml:/subscriptions/.../codes/{name}/versions/{v}``."""
    if not code_id:
        return None
    match = _CODE_ID.search(code_id.removeprefix("azureml:"))
    if match is None:
        raise ValueError(f"code {code_id!r} is not the ARM id of a code version")
    return CodeReference(match.group("name"), match.group("version"))


def _input_value(spec: Mapping[str, Any]) -> tuple[str, bool]:
    """The value of one REST input and whether it is a data URI."""
    kind = str(spec.get("job_input_type") or spec.get("jobInputType") or "literal").lower()
    if kind in _LITERAL_TYPES:
        value = spec.get("value")
        return ("" if value is None else _literal_text(value)), False
    uri = spec.get("uri") or spec.get("path")
    if not uri:
        raise ValueError(f"data input of type {kind!r} has no uri: {dict(spec)}")
    return str(uri), True


def _literal_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _step_from_node(
    step_name: str, node: Mapping[str, Any], lookup: ComponentLookup
) -> tuple[LocalStep, CodeReference | None, set[str]]:
    node_type = node.get("type", "command")
    if node_type != "command":
        raise ValueError(
            f"step {step_name!r} is of type {node_type!r}; the emulator runs command steps only"
        )
    component_id = node.get("componentId")
    if not component_id:
        raise ValueError(f"step {step_name!r} names no componentId")
    component = lookup(component_id)
    if component is None:
        raise ValueError(
            f"step {step_name!r} uses component {component_id!r}, which does not exist"
        )
    spec = (component.get("properties") or {}).get("componentSpec") or {}
    command = node.get("command") or spec.get("command")
    if not command:
        raise ValueError(f"component {component_id!r} of step {step_name!r} has no command")
    inputs: dict[str, str] = {}
    data_ports: set[str] = set()
    for port, port_spec in (spec.get("inputs") or {}).items():
        if isinstance(port_spec, Mapping) and port_spec.get("default") is not None:
            inputs[port] = _literal_text(port_spec["default"])
    for port, binding in (node.get("inputs") or {}).items():
        value, is_data = _input_value(binding)
        inputs[port] = value
        if is_data:
            data_ports.add(port)
    outputs = list(spec.get("outputs") or {})
    outputs += [port for port in (node.get("outputs") or {}) if port not in outputs]
    environment = {str(k): str(v) for k, v in (node.get("environment_variables") or {}).items()}
    step = LocalStep(
        name=step_name,
        command=str(command),
        inputs=inputs,
        outputs=tuple(outputs),
        environment_variables=environment,
        timeout=_timeout_seconds((node.get("limits") or {}).get("timeout")),
        rank_environments=_ranks(node),
    )
    return step, parse_code_id(spec.get("code")), data_ports


def _ranks(node: Mapping[str, Any]) -> tuple[dict[str, str], ...]:
    """The processes Azure ML would start for a distributed step (none for a plain one)."""
    distribution = node.get("distribution")
    if not isinstance(distribution, Mapping):
        return ()
    count = (node.get("resources") or {}).get("instance_count")
    return rank_environments(distribution, count)


def _timeout_seconds(value: Any) -> float | None:
    """A step's ``limits.timeout``: seconds, or an ISO 8601 duration such as ``PT1H30M``."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _ISO_DURATION.match(str(value))
    if match is None:
        raise ValueError(f"limits.timeout {value!r} is neither seconds nor an ISO 8601 duration")
    days, hours, minutes, seconds = (float(part or 0) for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def pipeline_job_to_local(properties: Mapping[str, Any], lookup: ComponentLookup) -> LocalJobPlan:
    """Convert the ``properties`` of a pipeline job body; raise ``ValueError`` if it cannot run.

    ``lookup`` maps a component ARM id to its stored REST body (or ``None``).
    """
    nodes = properties.get("jobs") or {}
    if not nodes:
        raise ValueError("the pipeline job has no steps")
    steps: list[LocalStep] = []
    codes: dict[str, CodeReference | None] = {}
    data_inputs: set[tuple[str, str]] = set()
    for step_name, node in nodes.items():
        step, code, data_ports = _step_from_node(step_name, node, lookup)
        steps.append(step)
        codes[step_name] = code
        data_inputs.update((step_name, port) for port in data_ports)
    distinct = {code for code in codes.values() if code is not None}
    if len(distinct) > 1:
        raise ValueError(
            "the emulator runs a pipeline job from one code snapshot, but its steps use "
            f"{len(distinct)}: {sorted(f'{c.name}:{c.version}' for c in distinct)}"
        )
    pipeline_inputs: dict[str, str] = {}
    for name, spec in (properties.get("inputs") or {}).items():
        value, is_data = _input_value(spec)
        pipeline_inputs[name] = value
        if is_data:
            data_inputs.add((PIPELINE_SCOPE, name))
    settings = properties.get("settings") or {}
    return LocalJobPlan(
        steps=tuple(steps),
        pipeline_inputs=pipeline_inputs,
        code=next(iter(distinct), None),
        data_inputs=frozenset(data_inputs),
        continue_on_step_failure=bool(settings.get("continue_on_step_failure")),
    )


def command_job_to_local(name: str, properties: Mapping[str, Any]) -> LocalJobPlan:
    """Convert the ``properties`` of a standalone command job into a one-step plan."""
    command = properties.get("command")
    if not command:
        raise ValueError(f"command job {name!r} has no command")
    inputs: dict[str, str] = {}
    data_inputs: set[tuple[str, str]] = set()
    for port, spec in (properties.get("inputs") or {}).items():
        value, is_data = _input_value(spec)
        inputs[port] = value
        if is_data:
            data_inputs.add((name, port))
    step = LocalStep(
        name=name,
        command=str(command),
        inputs=inputs,
        outputs=tuple(properties.get("outputs") or {}),
        environment_variables={
            str(k): str(v) for k, v in (properties.get("environmentVariables") or {}).items()
        },
    )
    return LocalJobPlan(
        steps=(step,),
        pipeline_inputs={},
        code=parse_code_id(properties.get("codeId")),
        data_inputs=frozenset(data_inputs),
    )
