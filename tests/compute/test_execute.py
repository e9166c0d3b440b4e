"""Tests for ``python -m airflow_kedro_azureml.compute.execute``, run as a real process."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_kedro_azureml.compute.arg_codec import encode_json, encode_value
from airflow_kedro_azureml.compute.execute import parse_arguments

RUN_ID = "2026-11-10T06.00.00.000Z"

HOOKS_SETTINGS = """
from pathlib import Path
from kedro.framework.hooks import hook_impl


class RecordNodes:
    @hook_impl
    def after_node_run(self, node):
        with Path("hooks.log").open("a") as handle:
            handle.write(node.name + "\\n")


HOOKS = (RecordNodes(),)
"""


def execute(
    project: Path, *arguments: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a step command in ``project``; ``env`` adds to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "airflow_kedro_azureml.compute.execute", *arguments],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_step_runs_nodes_with_mounted_folders_and_run_id(
    make_project: Callable[..., Path], tmp_path: Path
) -> None:
    project = make_project(settings=HOOKS_SETTINGS)
    summed_dir = tmp_path / "summed"
    doubled_dir = tmp_path / "doubled"
    doubled_dir.mkdir()
    (doubled_dir / "data.pkl").write_bytes(pickle.dumps([10, 20]))
    params = {"label": 'it\'s ü "quoted"\nnew line'}
    result = execute(
        project,
        "--pipeline",
        "toy",
        "--nodes",
        "total_node,report_node",
        "--run-id",
        RUN_ID,
        "--params",
        encode_json(params),
        "--input",
        "doubled",
        str(doubled_dir),
        "--output",
        "summed",
        str(summed_dir),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with (summed_dir / "data.pkl").open("rb") as handle:
        assert pickle.load(handle) == 30
    report = project / "data" / "report.json" / RUN_ID / "report.json"
    assert json.loads(report.read_text()) == {"total": 30, "count": 2, "label": params["label"]}
    assert (project / "hooks.log").read_text().split() == ["total_node", "report_node"]
    # the step log says what runs, without OmegaConf's deprecation warnings from Kedro
    output = result.stdout + result.stderr
    assert f"run id {RUN_ID}" in output
    assert "register_new_resolver" not in output


def test_failing_node_exits_non_zero_naming_the_node(make_project: Callable[..., Path]) -> None:
    project = make_project()
    result = execute(
        project, "--pipeline", "failing", "--nodes", "failing_node", "--run-id", RUN_ID
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Node 'failing_node' failed" in output
    assert "Traceback" in output
    assert "boom: the toy node failed on purpose" in output


def test_done_marker_is_written(make_project: Callable[..., Path], tmp_path: Path) -> None:
    project = make_project()
    done = tmp_path / "done"
    result = execute(
        project,
        "--pipeline",
        "toy",
        "--nodes",
        "double_node",
        "--run-id",
        RUN_ID,
        "--output",
        "doubled",
        str(tmp_path / "d"),
        "--done",
        str(done),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (done / "done").read_text().strip() == RUN_ID


def test_arguments_are_decoded() -> None:
    arguments = parse_arguments(
        [
            "--pipeline",
            encode_value("my pipeline"),
            "--nodes",
            "a,b",
            "--run-id",
            RUN_ID,
            "--input",
            encode_value("ns.data set"),
            "/mnt/in",
        ]
    )
    assert arguments.pipeline == "my pipeline"
    assert arguments.params == {}
    assert arguments.input == [[encode_value("ns.data set"), "/mnt/in"]]


@pytest.mark.parametrize("as_folder", [False, True], ids=["file", "folder-with-one-file"])
def test_params_file_replaces_the_inline_params(tmp_path: Path, as_folder: bool) -> None:
    params = {"label": "a\r\nb\n" + "z" * 1_000_000, "factor": 2}
    path = tmp_path / "params.json"
    path.write_text(json.dumps(params), encoding="utf-8")
    given = tmp_path if as_folder else path
    common = ["--pipeline", "p", "--nodes", "a", "--run-id", RUN_ID, "--params", "b64:e30"]
    arguments = parse_arguments([*common, "--params-file", str(given)])
    assert arguments.params == params


def test_unreadable_params_file_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "params.json"
    bad.write_text("{not json", encoding="utf-8")
    common = ["--pipeline", "p", "--nodes", "a", "--run-id", RUN_ID]
    with pytest.raises(SystemExit):
        parse_arguments([*common, "--params-file", str(bad)])


def test_execute_imports_neither_airflow_nor_azure_ai_ml() -> None:
    code = (
        "import sys, airflow_kedro_azureml.compute.execute, airflow_kedro_azureml.compute.runner; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'pydantic') "
        "or m.startswith('azure.ai.ml')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("rank_variable", "rank", "saved"),
    [("RANK", "0", True), ("RANK", "1", False), ("OMPI_COMM_WORLD_RANK", "2", False)],
)
def test_only_rank_0_of_a_distributed_step_saves_outputs(
    make_project: Callable[..., Path], tmp_path: Path, rank_variable: str, rank: str, saved: bool
) -> None:
    project = make_project()
    out, done = tmp_path / "doubled", tmp_path / "done"
    result = execute(
        project,
        "--pipeline",
        "toy",
        "--nodes",
        "double_node,total_node",
        "--run-id",
        RUN_ID,
        "--output",
        "summed",
        str(tmp_path / "summed"),
        "--output",
        "doubled",
        str(out),
        "--done",
        str(done),
        env={rank_variable: rank},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The step's second node read the first one's output in memory either way.
    assert (out / "data.pkl").exists() is saved
    assert (tmp_path / "summed" / "data.pkl").exists() is saved
    assert (done / "done").exists() is saved
    if not saved:
        assert "of a distributed step, not rank 0" in result.stdout + result.stderr
