"""Tests for compiling in a child process: same result, same errors, nothing imported here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
from airflow_kedro_azureml.compiler.child import (
    CompileChildError,
    CompileRequest,
    compile_in_child,
)
from airflow_kedro_azureml.compiler.kedro_project import open_project
from airflow_kedro_azureml.errors import ConfigError, PipelineSelectionError, ProjectError

RUN_ID = "2026-11-10T06.00.00.000Z"


def _options(pipeline: str = "toy") -> CompileOptions:
    return CompileOptions(pipeline_name=pipeline, run_id=RUN_ID)


@pytest.mark.timeout(120)
def test_the_child_compiles_what_this_process_would(toy_project: Path) -> None:
    lines: list[str] = []
    result = compile_in_child(
        CompileRequest(toy_project, None, {}, _options()), on_line=lines.append
    )
    assert result.compiled == compile_pipeline(open_project(toy_project), _options())
    assert result.project.path == toy_project.resolve()
    assert result.project.config == open_project(toy_project).config


@pytest.mark.timeout(120)
def test_the_projects_modules_stay_in_the_child(toy_project: Path) -> None:
    result = compile_in_child(CompileRequest(toy_project, None, {}, _options()))
    package = result.project.package_name
    assert not any(name.split(".")[0] == package for name in sys.modules)


@pytest.mark.timeout(120)
def test_opening_only_compiles_nothing(toy_project: Path) -> None:
    result = compile_in_child(CompileRequest(toy_project, None, {}, None))
    assert result.compiled is None
    assert result.project.config.execution.local.max_parallel == 2


@pytest.mark.timeout(120)
def test_the_packages_errors_arrive_as_themselves(toy_project: Path, tmp_path: Path) -> None:
    with pytest.raises(PipelineSelectionError, match="'nope' is not registered"):
        compile_in_child(CompileRequest(toy_project, None, {}, _options("nope")))
    with pytest.raises(ProjectError, match="is not a directory"):
        compile_in_child(CompileRequest(tmp_path / "missing", None, {}, _options()))
    (toy_project / "conf" / "base" / "azureml.yml").write_text("compute: [not, a, mapping]\n")
    with pytest.raises(ConfigError, match=r"azureml\.yml"):
        compile_in_child(CompileRequest(toy_project, None, {}, _options()))


@pytest.mark.timeout(120)
def test_a_crash_of_the_child_is_not_a_project_error(toy_project: Path) -> None:
    with pytest.raises(CompileChildError, match="exited with code"):
        compile_in_child(
            CompileRequest(toy_project, None, {}, _options()),
            python="/bin/false",
        )
