"""The package's layering, checked: each side imports only what it may, and compute travels whole.

- ``compute/`` imports only the standard library, Kedro, itself and ``errors``;
  importing it loads no Airflow, azure or pydantic; the code snapshot carries
  exactly ``compute/`` plus the few root modules it needs, and those are enough
  to run a step's imports from the snapshot alone.
- ``compiler/`` loads no Airflow, azure or local backend; ``compiler/spec.py`` and
  ``compiler/bindings.py`` import only the standard library.
- only ``hooks/``, ``azure/`` and ``testing/`` import ``azure.*``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_kedro_azureml
from airflow_kedro_azureml.azure.code_snapshot import COMPUTE_ROOT_MODULES, build_snapshot

PACKAGE = Path(airflow_kedro_azureml.__file__).parent
PACKAGE_NAME = PACKAGE.name


def modules_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def imported_names(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in ``path`` names, at any depth."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def loaded_after_import(*modules: str) -> set[str]:
    """The modules a fresh interpreter has loaded after importing ``modules``."""
    code = (
        f"import sys\nfor name in {list(modules)!r}:\n    __import__(name)\n"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(result.stdout.split())


def dotted(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


# Imported by compute modules only where installed (checked first), never required.
OPTIONAL_ON_COMPUTE = {"mlflow"}


def test_compute_imports_only_stdlib_kedro_itself_and_errors() -> None:
    allowed_own = (f"{PACKAGE_NAME}.compute", f"{PACKAGE_NAME}.errors")
    offenders = {}
    for path in modules_under(PACKAGE / "compute"):
        bad = {
            name
            for name in imported_names(path)
            if name.split(".")[0] not in sys.stdlib_module_names
            and name.split(".")[0] not in ("kedro", *OPTIONAL_ON_COMPUTE)
            and not name.startswith(allowed_own)
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_importing_compute_loads_no_airflow_azure_or_pydantic() -> None:
    modules = [dotted(path) for path in modules_under(PACKAGE / "compute")]
    loaded = loaded_after_import(*modules, f"{PACKAGE_NAME}.datasets")
    heavy = sorted(
        name for name in loaded if name.split(".")[0] in ("airflow", "azure", "pydantic")
    )
    assert heavy == []


def test_snapshot_carries_exactly_compute_and_its_root_modules(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.kedro]\n")
    target = tmp_path / "snapshot"
    target.mkdir()
    files = build_snapshot(project, target)
    carried = sorted(
        name.removeprefix(f"{PACKAGE_NAME}/")
        for name in files
        if name.startswith(f"{PACKAGE_NAME}/")
    )
    expected = sorted(
        [path.relative_to(PACKAGE).as_posix() for path in (PACKAGE / "compute").glob("*.py")]
        + list(COMPUTE_ROOT_MODULES)
    )
    assert carried == expected
    # What travels is enough: a step's imports resolve from the snapshot's copy alone.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        f"import {PACKAGE_NAME}.compute.execute as step, {PACKAGE_NAME}.datasets as d; "
        "print(step.__file__); print(d.__file__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    for line in result.stdout.split():
        assert line.startswith(str(target)), line


@pytest.mark.parametrize("module", ["spec", "bindings"])
def test_compiled_spec_imports_only_the_standard_library(module: str) -> None:
    names = imported_names(PACKAGE / "compiler" / f"{module}.py")
    own = {name for name in names if name.startswith(PACKAGE_NAME)}
    foreign = {name for name in names - own if name.split(".")[0] not in sys.stdlib_module_names}
    assert foreign == set()
    assert own <= {f"{PACKAGE_NAME}.compiler.bindings"}


def test_importing_the_compiler_loads_no_airflow_azure_or_local_backend() -> None:
    modules = [dotted(path) for path in modules_under(PACKAGE / "compiler")]
    loaded = loaded_after_import(*modules)
    forbidden = sorted(
        name
        for name in loaded
        if name.split(".")[0] in ("airflow", "azure")
        or name.startswith((f"{PACKAGE_NAME}.local", f"{PACKAGE_NAME}.azure"))
    )
    assert forbidden == []


def test_only_hooks_azure_and_testing_import_azure() -> None:
    allowed = [PACKAGE / "hooks", PACKAGE / "azure", PACKAGE / "testing"]
    offenders = {
        path.relative_to(PACKAGE).as_posix(): sorted(
            name for name in imported_names(path) if name.split(".")[0] == "azure"
        )
        for path in modules_under(PACKAGE)
        if not any(path.is_relative_to(folder) for folder in allowed)
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_catalog_path_of_the_datasets_is_the_compute_classes() -> None:
    from airflow_kedro_azureml import datasets
    from airflow_kedro_azureml.compute import datasets as compute_datasets

    for name in datasets.__all__:
        assert getattr(datasets, name) is getattr(compute_datasets, name)
