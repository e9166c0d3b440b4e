"""The environment built from a project's dependencies when azureml.yml names none."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
from airflow_kedro_azureml.compiler.kedro_project import open_project
from airflow_kedro_azureml.compiler.project_environment import BASE_IMAGE, project_environment
from airflow_kedro_azureml.errors import ConfigError
from tests.conftest import DEFAULT_AZUREML

RUN_ID = "2026-11-10T06.00.00.000Z"
NO_ENVIRONMENT = {**DEFAULT_AZUREML, "execution": {}}


def pip_section(conda_yaml: str) -> list[str]:
    document = yaml.safe_load(conda_yaml)
    (pip,) = [item for item in document["dependencies"] if isinstance(item, dict)]
    return pip["pip"]


def test_requirements_become_a_conda_environment_without_airflow(tmp_path: Path) -> None:
    (tmp_path / "extra.txt").write_text("scikit-learn>=1.6  # models\n")
    (tmp_path / "requirements.txt").write_text(
        "# the project's dependencies\n"
        "kedro-datasets[pandas-csvdataset]>=9.6\n"
        "airflow-kedro-azureml\n"
        "apache-airflow-providers-microsoft-azure\n"
        "-r extra.txt\n"
    )
    built = project_environment(tmp_path, "my_pkg", "1.7.0")
    assert built is not None
    assert (built.name, built.base_image, built.source) == (
        "kedro-my-pkg",
        BASE_IMAGE,
        "requirements.txt",
    )
    assert pip_section(built.conda_yaml) == [
        "kedro==1.7.0",
        "kedro-datasets[pandas-csvdataset]>=9.6",
        "scikit-learn>=1.6",
    ]
    again = project_environment(tmp_path, "my_pkg", "1.7.0")
    assert again is not None and again.version == built.version
    (tmp_path / "extra.txt").write_text("scikit-learn>=1.7\n")
    changed = project_environment(tmp_path, "my_pkg", "1.7.0")
    assert changed is not None and changed.version != built.version


def test_pyproject_dependencies_are_used_without_requirements(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\ndependencies = ["kedro~=1.7.0", "pandas"]\n'
    )
    built = project_environment(tmp_path, "p", "1.7.0")
    assert built is not None and built.source == "pyproject.toml [project] dependencies"
    assert pip_section(built.conda_yaml) == ["kedro~=1.7.0", "pandas"]
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n')
    assert project_environment(tmp_path, "p", "1.7.0") is None


def test_an_editable_install_is_refused_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pandas\n-e .\n")
    with pytest.raises(ConfigError, match=r"requirements.txt: '-e \.'"):
        project_environment(tmp_path, "p", "1.7.0")


def test_the_compiler_builds_it_only_when_azureml_yml_names_none(
    make_project: Callable[..., Path],
) -> None:
    project = make_project(azureml=NO_ENVIRONMENT)
    (project / "requirements.txt").write_text("pandas\n")
    compiled = compile_pipeline(open_project(project), CompileOptions("toy", run_id=RUN_ID))
    assert compiled.environment is None and compiled.image is None
    assert compiled.project_environment is not None
    assert f"kedro=={version('kedro')}" in pip_section(compiled.project_environment.conda_yaml)
    named = make_project()
    (named / "requirements.txt").write_text("pandas\n")
    compiled = compile_pipeline(open_project(named), CompileOptions("toy", run_id=RUN_ID))
    assert compiled.project_environment is None
