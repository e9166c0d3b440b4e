"""The pipeline manifest: what it records, how it reads back, what makes it stale."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from airflow_kedro_azureml.compiler.manifest import (
    ManifestStep,
    PipelineManifest,
    manifest_steps,
    steps_fingerprint,
)
from airflow_kedro_azureml.errors import ConfigError
from airflow_kedro_azureml.operators.pipeline_submit import check_manifest
from tests.test_cli import kedro

STEPS = (
    ManifestStep("prep", ("prep",), ()),
    ManifestStep("model_train", ("model.train",), ("prep",), "model"),
)


def manifest(**changes: object) -> PipelineManifest:
    fields: dict = {
        "pipeline": "training",
        "env": "prod",
        "node_grouping": "namespace",
        "selection": {"node_tags": ("a b", "c")},
        "steps": STEPS,
        "package_name": "toy",
    }
    fields.update(changes)
    return PipelineManifest(**fields)


def test_a_manifest_reads_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "dags" / "m.json"
    manifest().write(path)
    assert PipelineManifest.read(path) == manifest()
    assert not list(path.parent.glob("*.partial"))
    # The same pipeline writes the same bytes (a manifest diff is a pipeline change).
    assert path.read_text() == manifest().to_json()


def test_the_fingerprint_covers_steps_nodes_edges_and_namespaces_only() -> None:
    base = steps_fingerprint(STEPS)
    assert steps_fingerprint(tuple(reversed(STEPS))) == base
    renamed = (STEPS[0], ManifestStep("model_fit", ("model.train",), ("prep",), "model"))
    rewired = (STEPS[0], ManifestStep("model_train", ("model.train",), (), "model"))
    moved = (STEPS[0], ManifestStep("model_train", ("model.train",), ("prep",), None))
    assert len({base, *(steps_fingerprint(s) for s in (renamed, rewired, moved))}) == 4
    assert manifest(env=None).fingerprint == manifest().fingerprint


def test_the_refresh_command_replays_every_option(tmp_path: Path) -> None:
    words = shlex.split(manifest().refresh_command(tmp_path / "my dags" / "m.json"))
    assert words == [
        "kedro", "azureml", "compile", "--pipeline", "training", "--env", "prod",
        "--node-grouping", "namespace", "--tags", "a b,c",
        "--manifest", str(tmp_path / "my dags" / "m.json"),
    ]  # fmt: skip


def test_another_format_or_a_hand_edit_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    data = json.loads(manifest().to_json())
    path.write_text(json.dumps({**data, "format": 99}))
    with pytest.raises(ConfigError, match=r"m\.json is not one this version reads \(format 99"):
        PipelineManifest.read(path)
    data["steps"][0]["upstream"] = ["model_train"]
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="fingerprint does not match its steps"):
        PipelineManifest.read(path)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=r"m\.json cannot be read"):
        PipelineManifest.read(path)


def test_compile_writes_the_manifest_and_no_yaml_on_stdout(toy_project: Path) -> None:
    from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
    from airflow_kedro_azureml.compiler.kedro_project import open_project

    result = kedro(toy_project, "azureml", "compile", "-p", "toy", "--manifest", "dags/m.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "jobs:" not in result.stdout and "$schema" not in result.stdout  # no YAML
    assert "Wrote the manifest of 3 step(s) of pipeline 'toy'" in result.stderr
    written = PipelineManifest.read(toy_project / "dags" / "m.json")
    compiled = compile_pipeline(
        open_project(toy_project), CompileOptions("toy", run_id="2026-01-01T00.00.00.000Z")
    )
    assert written.steps == manifest_steps(compiled)
    assert written.pipeline == "toy" and written.selection == {}
    upstream = [step.upstream for step in written.steps]
    assert upstream == [(), ("double_node",), ("double_node", "total_node")]
    check_manifest(compiled, "m.json", written.fingerprint, "refresh")  # matches: no error
    with pytest.raises(ConfigError, match="no longer matches the project's pipeline"):
        check_manifest(compiled, "m.json", manifest().fingerprint, "refresh")
