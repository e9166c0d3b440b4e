"""The pipeline manifest: a compiled pipeline's steps and edges in a small JSON file.

``kedro azureml compile --manifest FILE`` writes it next to the DAG; a
``KedroAzureMLTaskGroup`` reads it at parse time to draw one Airflow task per
step, so parsing the DAG imports neither Kedro nor azure.ai.ml. At execute time
the group's submit task compiles the project again and compares fingerprints: a
manifest that no longer matches the project fails the task before anything is
submitted, naming the command that refreshes it.

Standard library only (it is read by the DAG processor).
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_kedro_azureml.compiler.bindings import read_parent_output
from airflow_kedro_azureml.compiler.spec import CompiledPipeline
from airflow_kedro_azureml.errors import ConfigError

MANIFEST_FORMAT = 1
# The operator's filter arguments and the ``kedro azureml compile`` options they come from.
SELECTION_OPTIONS = {
    "node_names": "--nodes",
    "node_tags": "--tags",
    "from_nodes": "--from-nodes",
    "to_nodes": "--to-nodes",
    "from_inputs": "--from-inputs",
    "to_outputs": "--to-outputs",
    "node_namespaces": "--namespaces",
}


@dataclass(frozen=True)
class ManifestStep:
    """One step of the job: its name, the Kedro nodes it runs, the steps it waits for."""

    name: str
    nodes: tuple[str, ...]
    upstream: tuple[str, ...]
    namespace: str | None = None


@dataclass(frozen=True)
class PipelineManifest:
    """What a DAG needs to draw a pipeline's steps, and what was compiled to get them."""

    pipeline: str
    env: str | None
    node_grouping: str | None
    selection: Mapping[str, tuple[str, ...]]
    """Kedro's filters, by the operator's argument names (``node_tags``, ...)."""
    steps: tuple[ManifestStep, ...]
    package_name: str = ""

    @property
    def fingerprint(self) -> str:
        """A hash of the steps, their nodes and edges: what the DAG's tasks stand for."""
        return steps_fingerprint(self.steps)

    def to_json(self) -> str:
        """The file's text (sorted keys, so the same pipeline writes the same bytes)."""
        data = {
            "format": MANIFEST_FORMAT,
            "package_name": self.package_name,
            "pipeline": self.pipeline,
            "env": self.env,
            "node_grouping": self.node_grouping,
            "selection": {key: list(value) for key, value in self.selection.items() if value},
            "fingerprint": self.fingerprint,
            "steps": [
                {
                    "name": step.name,
                    "nodes": list(step.nodes),
                    "upstream": list(step.upstream),
                    "namespace": step.namespace,
                }
                for step in self.steps
            ],
        }
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    def write(self, path: Path) -> None:
        """Write the manifest to ``path`` (whole or not at all)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(self.to_json(), encoding="utf-8")
        partial.replace(path)

    def refresh_command(self, path: Path | str) -> str:
        """The ``kedro azureml compile`` command that writes this manifest again."""
        words = ["kedro", "azureml", "compile", "--pipeline", self.pipeline]
        if self.env:
            words += ["--env", self.env]
        if self.node_grouping:
            words += ["--node-grouping", self.node_grouping]
        for key, option in SELECTION_OPTIONS.items():
            values = self.selection.get(key) or ()
            if values:
                words += [option, ",".join(values)]
        words += ["--manifest", str(path)]
        return " ".join(shlex.quote(word) for word in words)

    @classmethod
    def read(cls, path: Path) -> PipelineManifest:
        """Read the manifest at ``path``; ``ConfigError`` naming the file and the fix."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"pipeline manifest {path} does not exist: write it with "
                f"'kedro azureml compile --pipeline <name> --manifest {path}' in the Kedro "
                "project's folder"
            ) from None
        except (OSError, ValueError) as error:
            raise ConfigError(
                f"pipeline manifest {path} cannot be read ({error}): write it again with "
                f"'kedro azureml compile --pipeline <name> --manifest {path}'"
            ) from None
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(
                f"pipeline manifest {path} is not one this version reads ({error}): write it "
                f"again with 'kedro azureml compile --pipeline <name> --manifest {path}'"
            ) from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineManifest:
        """Reverse of ``to_json``; raises ``ValueError`` for another format."""
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {MANIFEST_FORMAT}")
        steps = tuple(
            ManifestStep(
                name=str(step["name"]),
                nodes=tuple(step["nodes"]),
                upstream=tuple(step["upstream"]),
                namespace=step.get("namespace"),
            )
            for step in data["steps"]
        )
        manifest = cls(
            pipeline=str(data["pipeline"]),
            env=data.get("env"),
            node_grouping=data.get("node_grouping"),
            selection={key: tuple(value) for key, value in (data.get("selection") or {}).items()},
            steps=steps,
            package_name=str(data.get("package_name") or ""),
        )
        unknown = set(manifest.selection) - set(SELECTION_OPTIONS)
        if unknown:
            raise ValueError(f"unknown selection {sorted(unknown)}")
        if data.get("fingerprint") != manifest.fingerprint:
            raise ValueError("its fingerprint does not match its steps (edited by hand?)")
        return manifest


def steps_fingerprint(steps: Sequence[ManifestStep]) -> str:
    """sha256 of every step's name, nodes and upstream steps, in a stable order."""
    canonical = sorted(
        (step.name, sorted(step.nodes), sorted(step.upstream), step.namespace or "")
        for step in steps
    )
    text = json.dumps(canonical, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest_steps(compiled: CompiledPipeline) -> tuple[ManifestStep, ...]:
    """The steps of ``compiled`` with the steps each reads an output of (data or order)."""
    steps = []
    for step in compiled.steps:
        upstream = {
            found[0]
            for _, binding in step.inputs
            if (found := read_parent_output(binding)) is not None
        }
        steps.append(
            ManifestStep(
                name=step.name,
                nodes=step.node_names,
                upstream=tuple(sorted(upstream)),
                namespace=step.namespace,
            )
        )
    return tuple(steps)


def manifest_of(
    compiled: CompiledPipeline,
    node_grouping: str | None,
    selection: Mapping[str, Sequence[str]],
) -> PipelineManifest:
    """The manifest of a compiled pipeline and the selection it was compiled with."""
    return PipelineManifest(
        pipeline=compiled.pipeline_name,
        env=compiled.env,
        node_grouping=node_grouping,
        selection={key: tuple(values) for key, values in selection.items() if values},
        steps=manifest_steps(compiled),
        package_name=compiled.package_name,
    )
