"""``kedro azureml init``: a commented azureml.yml and a DAG that runs as written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_kedro_azureml.config import parse_config
from tests.airflow_cli import dags_test
from tests.test_cli import kedro

OPTIONS = (
    "--subscription-id",
    "11111111-2222-3333-4444-555555555555",
    "--resource-group",
    "rg-ml",
    "--workspace",
    "mlw-prod",
    "--compute",
    "cpu-small",
    "--environment",
    "kedro-env@latest",
    "-p",
    "toy",
)


@pytest.fixture
def bare_project(make_project: Any) -> Path:
    """A Kedro project without azureml.yml."""
    return make_project(azureml=False)


def test_init_writes_a_valid_commented_config_and_a_dag(bare_project: Path) -> None:
    result = kedro(bare_project, "azureml", "init", *OPTIONS)

    assert result.returncode == 0, result.stdout + result.stderr
    text = (bare_project / "conf" / "base" / "azureml.yml").read_text()
    assert "# Where steps run." in text
    config = parse_config(yaml.safe_load(text), "azureml.yml")
    workspace = config.workspace.resolve() if config.workspace else None
    assert workspace is not None
    assert (workspace.subscription_id, workspace.resource_group, workspace.name) == (
        "11111111-2222-3333-4444-555555555555",
        "rg-ml",
        "mlw-prod",
    )
    assert config.compute.resolve().cluster_name == "cpu-small"
    assert config.execution.environment == "kedro-env@latest"
    package = bare_project.name
    dag = (bare_project / "dags" / f"{package}.py").read_text()
    assert f'dag_id="{package}"' in dag and 'pipeline="toy"' in dag
    assert f"airflow dags test {package}" in result.stdout


def test_init_never_overwrites_without_force(bare_project: Path) -> None:
    assert kedro(bare_project, "azureml", "init", *OPTIONS).returncode == 0
    config = bare_project / "conf" / "base" / "azureml.yml"
    config.write_text("# edited by hand\n" + config.read_text())

    again = kedro(bare_project, "azureml", "init", "--compute", "other")

    assert again.returncode != 0
    assert "already exist" in again.stderr and "--force" in again.stderr
    assert str(config) in again.stderr
    assert config.read_text().startswith("# edited by hand")
    forced = kedro(bare_project, "azureml", "init", "--compute", "other", "--force")
    assert forced.returncode == 0, forced.stderr
    assert 'cluster_name: "other"' in config.read_text()


def test_without_a_terminal_missing_answers_become_placeholders(bare_project: Path) -> None:
    result = kedro(bare_project, "azureml", "init")

    assert result.returncode == 0, result.stdout + result.stderr
    text = (bare_project / "conf" / "base" / "azureml.yml").read_text()
    assert "00000000-0000-0000-0000-000000000000" in text
    assert '# environment: "my-env@latest"' in text


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_the_generated_dag_runs_with_airflow_dags_test_on_the_local_backend(
    bare_project: Path, airflow_home: Path
) -> None:
    assert kedro(bare_project, "azureml", "init", *OPTIONS).returncode == 0

    result = dags_test(
        airflow_home,
        bare_project / "dags",
        bare_project.name,
        "2026-01-01T00:00:00+00:00",
        {"backend": "local"},
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "state=success" in output, output[-6000:]
    assert (bare_project / ".azureml-local" / "runs").is_dir()
