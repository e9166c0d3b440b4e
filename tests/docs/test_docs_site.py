"""The documentation site builds in strict mode, and its runnable example passes.

`mkdocs build --strict` fails on any warning: a broken link or anchor, a missing snippet file
or section, a docstring mkdocstrings cannot find, a page left out of the nav. The azureml.yml
reference is generated from the pydantic models at build time, so the built page must list
their fields.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def mkdocs_build(site: Path) -> subprocess.CompletedProcess[str]:
    config = str(DOCS / "mkdocs.yml")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", config, "-d", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    result = mkdocs_build(site)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return site


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def test_the_key_pages_are_built(site: Path) -> None:
    for path in (
        "getting-started",
        "connection",
        "how-to/native-schedule",
        "testing-with-emulator",
        "troubleshooting",
        "migration",
        "reference/api/operator",
    ):
        assert (site / path / "index.html").is_file(), path


def test_the_azureml_yml_reference_lists_the_model_fields(site: Path) -> None:
    from airflow_kedro_azureml.config import ExecutionConfig, LocalBackendConfig

    html = page(site, "reference/azureml-yml")
    assert "<!-- azureml-yml-fields -->" not in html
    for name in [*ExecutionConfig.model_fields, *LocalBackendConfig.model_fields]:
        assert f"<code>{name}</code>" in html, name
    assert "<code>execution.local</code>" in html
    assert "upload_local_files" in html and "promote_local_intermediates" in html


def test_code_samples_come_from_the_tested_files(site: Path) -> None:
    how_to = page(site, "how-to/native-schedule")
    assert "CronSchedule" in how_to and "--8&lt;--" not in how_to and "--8<--" not in how_to
    emulator = page(site, "testing-with-emulator")
    assert "airflow_connection" in emulator and "inject_fault" in emulator


def test_the_api_reference_renders_docstrings(site: Path) -> None:
    html = page(site, "reference/api/operator")
    assert "KedroAzureMLPipelineOperator" in html
    assert "registered Kedro pipeline name" in html  # from the operator's docstring


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_the_emulator_example_of_the_docs_passes() -> None:
    """docs/examples/test_my_dag.py, shown on the testing page, runs as written."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(DOCS / "examples"), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=850,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "3 passed" in result.stdout
