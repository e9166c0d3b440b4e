"""Shared fixtures: offline environment and throw-away Kedro projects."""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

pytest_plugins = ["airflow_kedro_azureml.testing.pytest_plugin"]

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

DEFAULT_AZUREML = {
    "workspace": {
        "__default__": {"subscription_id": "sub-1", "resource_group": "rg-1", "name": "ws-1"}
    },
    "compute": {
        "__default__": {"cluster_name": "cpu-cluster"},
        "gpu": {"cluster_name": "gpu-cluster"},
    },
    "execution": {"environment": "kedro-env@latest"},
}

TOY_NODES = """
from kedro.pipeline import Pipeline, node


def double(values, factor):
    return [value * factor for value in values]


def total(values):
    return sum(values)


def report(summed, doubled, label):
    return {"total": summed, "count": len(doubled), "label": label}


def fail(values):
    raise RuntimeError("boom: the toy node failed on purpose")


def sleepy(values):
    import time

    print("sleepy node started", flush=True)
    time.sleep(120)
    return values


def flaky(values, marker):
    from pathlib import Path

    path = Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise RuntimeError("flaky: fails on its first run")
    return values


def nap(values, seconds):
    import time

    print("nap started", flush=True)
    time.sleep(seconds)
    return values


def toy_pipeline():
    return Pipeline(
        [
            node(double, ["raw", "params:factor"], "doubled", name="double_node"),
            node(total, "doubled", "summed", name="total_node"),
            node(report, ["summed", "doubled", "params:label"], "report", name="report_node",
                 tags=["gpu"]),
        ]
    )
"""

TOY_REGISTRY = """
from kedro.pipeline import Pipeline, node
from {package}.nodes import double, fail, toy_pipeline, total


def register_pipelines():
    from {package} import nodes

    toy = toy_pipeline()
    failing = Pipeline([node(fail, "raw", "never", name="failing_node")])
    pipelines = {{"__default__": toy, "toy": toy, "failing": failing}}
    if hasattr(nodes, "sleepy"):
        pipelines["sleepy"] = Pipeline([node(nodes.sleepy, "raw", "never", name="sleepy_node")])
    if hasattr(nodes, "flaky"):
        pipelines["flaky"] = Pipeline(
            [node(nodes.flaky, ["raw", "params:marker"], "flaky_out", name="flaky_node")]
        )
        pipelines["nap"] = Pipeline(
            [node(nodes.nap, ["raw", "params:nap_seconds"], "nap_out", name="nap_node")]
        )
    return pipelines
"""

TOY_CATALOG = {
    "raw": {"type": "json.JSONDataset", "filepath": "data/raw.json"},
    "report": {"type": "json.JSONDataset", "filepath": "data/report.json", "versioned": True},
}


def write_project(
    root: Path,
    package: str,
    registry: str = TOY_REGISTRY,
    nodes: str = TOY_NODES,
    catalog: dict | None = None,
    azureml: dict | None = None,
    parameters: dict | None = None,
    settings: str = "",
) -> Path:
    """Write a minimal Kedro project under ``root`` and return its path."""
    source = root / "src" / package
    source.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [tool.kedro]
            package_name = "{package}"
            project_name = "{package}"
            kedro_init_version = "1.7.0"
            source_dir = "src"
            """
        )
    )
    (source / "__init__.py").write_text("")
    (source / "settings.py").write_text(settings.format(package=package))
    (source / "nodes.py").write_text(nodes)
    (source / "pipeline_registry.py").write_text(registry.format(package=package))
    base = root / "conf" / "base"
    base.mkdir(parents=True)
    (root / "conf" / "local").mkdir()
    (base / "catalog.yml").write_text(yaml.safe_dump(TOY_CATALOG if catalog is None else catalog))
    (base / "parameters.yml").write_text(
        yaml.safe_dump(parameters or {"factor": 2, "label": "toy"})
    )
    if azureml is not False:
        (base / "azureml.yml").write_text(yaml.safe_dump(azureml or DEFAULT_AZUREML))
    raw = root / (catalog or TOY_CATALOG)["raw"].get("filepath", "data/raw.json")
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text("[1, 2, 3]")
    return root


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Create a throw-away Kedro project with a unique package name."""

    def factory(package: str | None = None, **kwargs: object) -> Path:
        name = package or f"toy_{uuid.uuid4().hex[:10]}"
        return write_project(tmp_path / name, name, **kwargs)

    return factory


@pytest.fixture
def toy_project(make_project: Callable[..., Path]) -> Path:
    """The standard toy project: double -> total -> report (report tagged 'gpu')."""
    return make_project()


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An AIRFLOW_HOME with a migrated metadata database, shared by the session."""
    from tests.airflow_cli import migrate

    home = tmp_path_factory.mktemp("airflow-home")
    migrate(home)
    return home
