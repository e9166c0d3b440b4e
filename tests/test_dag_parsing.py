"""Parsing a DAG file that uses the operator must not import kedro or azure.ai.ml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "dags_examples"
DAG_FILES = sorted(EXAMPLES.glob("*.py"))

PROBE = """
import json, runpy, sys
runpy.run_path(sys.argv[1])
heavy = sorted(
    name for name in sys.modules
    if name == "kedro" or name.startswith(("kedro.", "azure.ai.ml", "pandas", "sklearn"))
)
print(json.dumps(heavy))
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("dag_file", DAG_FILES, ids=[path.name for path in DAG_FILES])
def test_example_dag_parses_without_heavy_imports(dag_file: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(dag_file)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


@pytest.mark.timeout(120)
def test_provider_package_import_is_light() -> None:
    code = (
        "import sys, airflow_kedro_azureml as p; info = p.get_provider_info(); "
        "print(info['package-name'], sorted(m.split('.')[0] for m in sys.modules "
        "if m.split('.')[0] in ('airflow', 'kedro', 'azure', 'pydantic')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "airflow-kedro-azureml []"
