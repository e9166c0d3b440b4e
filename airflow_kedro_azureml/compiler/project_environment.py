"""The Azure ML environment a project gets when azureml.yml names none: its own dependencies.

When ``execution.environment`` and ``execution.image`` are both absent, steps run in
an environment built from the project's dependencies, read from (first found):
``requirements.txt``, ``src/requirements.txt``, then ``[project] dependencies`` of
``pyproject.toml``. It is a conda specification (this Python's major.minor, pip,
and the requirements) on ``BASE_IMAGE``, Azure ML's Ubuntu 22.04 base image.

Left out: this package (``airflow-kedro-azureml``) and Apache Airflow, because the
compute side of this package travels in the code snapshot and Airflow never runs
on compute. Kedro is added, at the version compiling the job, when the project
does not list it. The environment is named ``kedro-<package>`` and versioned by a
hash of its content: an unchanged project costs one lookup, a changed one registers
a new version.
"""

from __future__ import annotations

import hashlib
import re
import sys
import tomllib
from pathlib import Path

from airflow_kedro_azureml.compiler.spec import ProjectEnvironment
from airflow_kedro_azureml.errors import ConfigError

BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_NEVER_ON_COMPUTE = ("airflow-kedro-azureml", "apache-airflow")


def _requirement_name(line: str) -> str | None:
    match = _NAME.match(line)
    return None if match is None else re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _read_requirements(path: Path, seen: set[Path]) -> list[str]:
    """The requirement lines of ``path``, with ``-r`` includes read in place."""
    path = path.resolve()
    if path in seen:
        return []
    seen.add(path)
    lines: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            included = path.parent / line.split(maxsplit=1)[1]
            if not included.is_file():
                raise ConfigError(f"{path}: '{line}' names a file that does not exist")
            lines += _read_requirements(included, seen)
        elif line.startswith(("-e ", "--editable ")) or line in (".", "-e."):
            raise ConfigError(
                f"{path}: '{line}' (an editable or local install) cannot be built into an "
                "Azure ML environment; the project's code travels in the code snapshot. "
                "Remove the line, or set execution.environment or execution.image in azureml.yml"
            )
        else:
            lines.append(line)
    return lines


def _dependencies(project_path: Path) -> tuple[list[str], str] | None:
    for candidate in (project_path / "requirements.txt", project_path / "src" / "requirements.txt"):
        if candidate.is_file():
            return _read_requirements(candidate, set()), str(candidate.relative_to(project_path))
    pyproject = project_path / "pyproject.toml"
    if pyproject.is_file():
        metadata = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        listed = metadata.get("project", {}).get("dependencies")
        if isinstance(listed, list) and listed:
            return [str(item) for item in listed], "pyproject.toml [project] dependencies"
    return None


def project_environment(
    project_path: Path, package_name: str, kedro_version: str
) -> ProjectEnvironment | None:
    """The environment built from the project's dependencies; None when it lists none."""
    found = _dependencies(project_path)
    if found is None:
        return None
    lines, source = found
    kept = [
        line for line in lines if not (_requirement_name(line) or "").startswith(_NEVER_ON_COMPUTE)
    ]
    if not any(_requirement_name(line) == "kedro" for line in kept):
        kept.insert(0, f"kedro=={kedro_version}")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    name = f"kedro-{package_name}".replace("_", "-")[:250]
    conda = "\n".join(
        [
            f"name: {name}",
            "channels:",
            "  - conda-forge",
            "dependencies:",
            f"  - python={python}",
            "  - pip",
            "  - pip:",
            *(f"    - {_quoted(line)}" for line in kept),
            "",
        ]
    )
    digest = hashlib.sha256(f"{BASE_IMAGE}\n{conda}".encode()).hexdigest()[:16]
    return ProjectEnvironment(
        name=name, version=digest, base_image=BASE_IMAGE, conda_yaml=conda, source=source
    )


def _quoted(line: str) -> str:
    """A requirement as a YAML string (quoted: ``>=`` and ``[extras]`` are YAML syntax)."""
    return '"' + line.replace("\\", "\\\\").replace('"', '\\"') + '"'
