"""Tests for azureml.yml: layout, validation messages naming file and field, env layering."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from airflow_kedro_azureml.compiler.kedro_project import open_project
from airflow_kedro_azureml.config import parse_config
from airflow_kedro_azureml.errors import ConfigError, ProjectError


def test_kedro_azureml_pipeline_layout_is_accepted() -> None:
    config = parse_config(
        {
            "workspace": {
                "__default__": {"subscription_id": "s", "resource_group": "r", "name": "w"}
            },
            "compute": {"__default__": {"cluster_name": "cpu"}, "gpu": {"cluster_name": "gpu"}},
            "execution": {
                "environment": "env@latest",
                "code_directory": ".",
                "working_directory": "/home/kedro",
            },
            "schedules": {"monthly": {"cron": {"expression": "0 6 10 * *"}}},
            "jobs": {"train": {"pipeline": {"pipeline_name": "training"}, "schedule": "monthly"}},
        },
        "azureml.yml",
    )
    assert config.compute.resolve("gpu").cluster_name == "gpu"
    assert config.compute.resolve(None).cluster_name == "cpu"
    assert config.workspace is not None
    assert config.workspace.resolve().name == "w"
    assert config.jobs["train"].schedule == ["monthly"]  # one schedule or a list: a list


def test_named_compute_inherits_unset_fields_from_default() -> None:
    config = parse_config(
        {
            "compute": {
                "__default__": {"cluster_name": "cpu", "instance_count": 2},
                "big": {"serverless": True, "instance_type": "Standard_E16s_v3"},
            }
        },
        "azureml.yml",
    )
    big = config.compute.resolve("big")
    assert (big.serverless, big.cluster_name, big.instance_type, big.instance_count) == (
        True,
        None,
        "Standard_E16s_v3",
        2,
    )


@pytest.mark.parametrize(
    ("data", "field", "hint"),
    [
        ({"compute": {"gpu": {"cluster_name": "x"}}}, "compute", "__default__"),
        (
            {"compute": {"__default__": {"cluster_name": 3}}},
            "compute.__default__.cluster_name",
            "3",
        ),
        (
            {"compute": {"__default__": {"clustername": "x"}}},
            "compute.__default__.clustername",
            "unknown field",
        ),
        (
            {
                "compute": {"__default__": {"cluster_name": "c"}},
                "execution": {"node_grouping": "nodes"},
            },
            "execution.node_grouping",
            "'nodes'",
        ),
        (
            {
                "compute": {"__default__": {"cluster_name": "c"}},
                "execution": {"environment": "e", "image": "i"},
            },
            "execution",
            "not both",
        ),
        (
            {
                "compute": {"__default__": {"cluster_name": "c"}},
                "schedules": {
                    "m": {
                        "cron": {"expression": "0 6 10 * *"},
                        "recurrence": {"frequency": "day", "interval": 1},
                    }
                },
            },
            "schedules.m",
            "exactly one of 'cron' or 'recurrence'",
        ),
        (
            {
                "compute": {"__default__": {"cluster_name": "c"}},
                "jobs": {
                    "t": {"schedule": {"cron": {"expression": "0 6 10 * *", "time_zone": "CET+1"}}}
                },
            },
            "jobs.t.schedule.0",
            "unknown time zone 'CET+1'",
        ),
        (
            {
                "compute": {"__default__": {"cluster_name": "c"}},
                "schedules": {
                    "w": {
                        "recurrence": {
                            "frequency": "hour",
                            "interval": 2,
                            "schedule": {"hours": [1], "minutes": [0]},
                        }
                    }
                },
            },
            "schedules.w",
            "'hour' does not take hours, minutes",
        ),
        (
            {
                "compute": {
                    "__default__": {"cluster_name": "c"},
                    "g": {"queue_settings": {"job_tier": "cheap"}},
                }
            },
            "compute.g.queue_settings.job_tier",
            "'cheap'",
        ),
        (
            {"compute": {"__default__": {"cluster_name": "c", "limits": {"timeout": 0}}}},
            "compute.__default__.limits.timeout",
            "greater than or equal to 1",
        ),
        (
            {
                "compute": {
                    "__default__": {"cluster_name": "c"},
                    "u": {"identity": {"type": "user_identity", "client_id": "x"}},
                }
            },
            "compute.u.identity",
            "set 'type: managed'",
        ),
        (
            {
                "compute": {
                    "__default__": {"cluster_name": "c"},
                    "d": {"distribution": {"type": "pytorch", "worker_count": 2}},
                }
            },
            "compute.d.distribution",
            "takes 'process_count_per_instance'",
        ),
        (
            {"compute": {"__default__": {"cluster_name": "c", "shm_size": "lots"}}},
            "compute.__default__.shm_size",
            "should match pattern",
        ),
    ],
)
def test_invalid_fields_are_named(data: dict, field: str, hint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "conf/base/azureml.yml")
    message = str(caught.value)
    assert "conf/base/azureml.yml" in message
    assert field in message
    assert hint in message


def test_job_naming_unknown_compute_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"jobs\.train\.compute names 'gpu'"):
        parse_config(
            {
                "compute": {"__default__": {"cluster_name": "c"}},
                "jobs": {"train": {"compute": "gpu"}},
            },
            "azureml.yml",
        )


def test_loads_through_kedro_config_loader_with_env_layering(
    make_project: Callable[..., Path],
) -> None:
    project = make_project()
    prod = project / "conf" / "prod"
    prod.mkdir()
    (prod / "azureml.yml").write_text(
        yaml.safe_dump({"compute": {"__default__": {"cluster_name": "prod-cpu"}}})
    )
    assert open_project(project).config.compute.resolve().cluster_name == "cpu-cluster"
    assert open_project(project, env="prod").config.compute.resolve().cluster_name == "prod-cpu"


def test_globals_templating_works(make_project: Callable[..., Path]) -> None:
    project = make_project(
        azureml={"compute": {"__default__": {"cluster_name": "${globals:cluster}"}}}
    )
    (project / "conf" / "base" / "globals.yml").write_text("cluster: from-globals\n")
    assert open_project(project).config.compute.resolve().cluster_name == "from-globals"


def test_missing_azureml_yml_says_where_to_create_it(make_project: Callable[..., Path]) -> None:
    project = make_project(azureml=False)
    with pytest.raises(ConfigError, match=r"no azureml.yml found.*conf/base/azureml.yml"):
        open_project(project)


def test_unreadable_azureml_yml_names_the_file(make_project: Callable[..., Path]) -> None:
    project = make_project()
    (project / "conf" / "base" / "azureml.yml").write_text("compute: [unclosed\n")
    with pytest.raises(ConfigError, match=r"azureml\.yml"):
        open_project(project)


def test_wrong_type_in_env_file_names_that_file(make_project: Callable[..., Path]) -> None:
    project = make_project()
    prod = project / "conf" / "prod"
    prod.mkdir()
    (prod / "azureml.yml").write_text("compute:\n  __default__:\n    instance_count: many\n")
    with pytest.raises(ConfigError) as caught:
        open_project(project, env="prod")
    message = str(caught.value)
    assert "compute.__default__.instance_count" in message
    assert f"[set in {prod / 'azureml.yml'}]" in message


def test_path_that_is_not_a_kedro_project(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=r"no pyproject\.toml"):
        open_project(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(ProjectError, match=r"no \[tool.kedro\] section"):
        open_project(tmp_path)
    with pytest.raises(ProjectError, match="not a directory"):
        open_project(tmp_path / "missing")


def test_an_env_without_its_folder_is_named(make_project: Callable[..., Path]) -> None:
    project = make_project()
    with pytest.raises(ConfigError, match=r"environment 'prod' has no folder .*conf/prod"):
        open_project(project, env="prod")


# kedro-azureml (getindata): everything under "azure:", as its `kedro azureml init` writes it.
KEDRO_AZUREML_FILE = """
azure:
  subscription_id: "11111111-2222-3333-4444-555555555555"
  experiment_name: "spaceflights"
  resource_group: "rg-ml"
  workspace_name: "mlw"
  environment_name: "kedro-env@latest"
  code_directory: "."
  working_directory: /home/kedro_docker
  temporary_storage:
    account_name: "mystorage"
    container: "kedro-azureml-temp"
  compute:
    __default__:
      cluster_name: "cpu-cluster"
    gpu:
      cluster_name: "gpu-cluster"
  pipeline_data_passing:
    enabled: true
docker:
  image: ~
"""

# kedro-azureml-pipeline: jobs with node filters, inline and named schedules (one or a list).
KEDRO_AZUREML_PIPELINE_FILE = """
workspace:
  __default__: {subscription_id: "s", resource_group: "rg", name: "mlw"}
  prod: {subscription_id: "p", resource_group: "rg-prod", name: "mlw-prod"}
compute:
  __default__: {cluster_name: "cpu-cluster"}
  gpu: {cluster_name: "gpu-cluster"}
execution:
  environment: "kedro-env@latest"
  code_directory: "."
  working_directory: /home/kedro
schedules:
  business_hours:
    cron: {expression: "0 9 * * 1-5", time_zone: "Europe/London"}
jobs:
  training:
    pipeline:
      pipeline_name: "__default__"
      from_nodes: ["split_data"]
      tags: ["training"]
    experiment_name: "training-experiment"
    display_name: "Daily training"
    compute: "gpu"
    workspace: "prod"
    description: "Run the training pipeline on GPU cluster"
    schedule:
      - "business_hours"
      - recurrence:
          frequency: "week"
          interval: 1
          schedule: {week_days: ["Monday"], hours: [9], minutes: [0]}
    retry: {max_retries: 2, timeout: 3600}
"""


def test_a_kedro_azureml_file_loads_as_it_is(caplog: pytest.LogCaptureFixture) -> None:
    config = parse_config(yaml.safe_load(KEDRO_AZUREML_FILE), "conf/base/azureml.yml")

    workspace = config.workspace.resolve() if config.workspace else None
    assert workspace is not None
    assert (workspace.subscription_id, workspace.resource_group, workspace.name) == (
        "11111111-2222-3333-4444-555555555555",
        "rg-ml",
        "mlw",
    )
    assert config.compute.resolve("gpu").cluster_name == "gpu-cluster"
    assert config.execution.environment == "kedro-env@latest"
    assert config.execution.experiment_name == "spaceflights"
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    for ignored in ("azure.temporary_storage", "azure.pipeline_data_passing", "working_directory"):
        assert ignored in warning


def test_a_kedro_azureml_pipeline_file_loads_as_it_is(caplog: pytest.LogCaptureFixture) -> None:
    config = parse_config(yaml.safe_load(KEDRO_AZUREML_PIPELINE_FILE), "conf/base/azureml.yml")

    job = config.jobs["training"]
    assert job.pipeline.from_nodes == ["split_data"] and job.pipeline.tags == ["training"]
    assert job.schedule is not None and len(job.schedule) == 2
    assert job.schedule[0] == "business_hours"
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    for ignored in (
        "execution.working_directory",
        "jobs.training.workspace",
        "jobs.training.compute",
        "jobs.training.retry",
    ):
        assert ignored in warning


@pytest.mark.timeout(300)
def test_a_kedro_azureml_project_compiles_unchanged(make_project: Callable[..., Path]) -> None:
    from tests.test_cli import AZURE_READY, kedro

    project = make_project(azureml=False, catalog=AZURE_READY)
    (project / "conf" / "base" / "azureml.yml").write_text(KEDRO_AZUREML_FILE)

    result = kedro(project, "azureml", "compile", "-p", "toy", "-o", "job.yaml")

    assert result.returncode == 0, result.stdout + result.stderr
    text = (project / "job.yaml").read_text()
    assert "azureml:gpu-cluster" in text and "azureml:kedro-env@latest" in text
    assert "experiment_name: spaceflights" in text
    assert "azure.temporary_storage" in result.stdout + result.stderr  # said, as a warning
