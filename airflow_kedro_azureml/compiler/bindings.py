"""The ``${{...}}`` binding syntax of Azure ML pipeline jobs, built and read in one place.

A step input is bound to a pipeline input (``${{parent.inputs.NAME}}``) or to an
output of another step (``${{parent.jobs.STEP.outputs.PORT}}``); a step's
command refers to its own ports as ``${{inputs.PORT}}`` and ``${{outputs.PORT}}``.
The compiler writes these strings; the Azure renderer and the local backend read
them back with the functions here.
"""

from __future__ import annotations

import re

_NAME = r"[A-Za-z0-9_]+"
_PARENT_OUTPUT = re.compile(rf"^\$\{{\{{parent\.jobs\.({_NAME})\.outputs\.({_NAME})\}}\}}$")
_PARENT_INPUT = re.compile(rf"^\$\{{\{{parent\.inputs\.({_NAME})\}}\}}$")
PORT_REFERENCE = re.compile(rf"\$\{{\{{(inputs|outputs)\.({_NAME})\}}\}}")
"""A ``${{inputs.PORT}}`` or ``${{outputs.PORT}}`` in a command: groups (kind, port)."""


def parent_output(step: str, port: str) -> str:
    """The binding of an input to output ``port`` of step ``step``."""
    return f"${{{{parent.jobs.{step}.outputs.{port}}}}}"


def parent_input(name: str) -> str:
    """The binding of an input to pipeline input ``name``."""
    return f"${{{{parent.inputs.{name}}}}}"


def input_reference(port: str) -> str:
    """How a step's command names its input ``port``."""
    return f"${{{{inputs.{port}}}}}"


def output_reference(port: str) -> str:
    """How a step's command names its output ``port``."""
    return f"${{{{outputs.{port}}}}}"


def read_parent_output(binding: str) -> tuple[str, str] | None:
    """``(step, port)`` of a ``${{parent.jobs.STEP.outputs.PORT}}`` binding, else None."""
    match = _PARENT_OUTPUT.match(binding)
    return (match.group(1), match.group(2)) if match else None


def read_parent_input(binding: str) -> str | None:
    """The pipeline input's name of a ``${{parent.inputs.NAME}}`` binding, else None."""
    match = _PARENT_INPUT.match(binding)
    return match.group(1) if match else None
