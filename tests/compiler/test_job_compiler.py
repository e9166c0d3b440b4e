"""Tests for the compiler: wiring, computes, determinism, golden YAML and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_kedro_azureml.azure.job_yaml import to_yaml
from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
from airflow_kedro_azureml.compiler.kedro_project import PipelineFilters, open_project
from airflow_kedro_azureml.errors import CompileError, ParamsError, PipelineSelectionError
from tests.catalogs import pipeline_dataset
from tests.conftest import DEFAULT_AZUREML

GOLDEN = Path(__file__).parent / "golden" / "toy_job.yaml"
RUN_ID = "2026-11-10T06.00.00.000Z"


def _compile(project: Path, **options: object):
    options.setdefault("run_id", RUN_ID)
    return compile_pipeline(open_project(project), CompileOptions(**options))


def test_memory_datasets_travel_between_steps(toy_project: Path) -> None:
    compiled = _compile(toy_project, pipeline_name="toy")
    assert [s.name for s in compiled.steps] == ["double_node", "total_node", "report_node"]
    double, total, report = compiled.steps
    assert double.outputs == ("doubled",)
    assert total.input_bindings["doubled"] == "${{parent.jobs.double_node.outputs.doubled}}"
    assert report.input_bindings["summed"] == "${{parent.jobs.total_node.outputs.summed}}"
    assert "--output doubled ${{outputs.doubled}}" in double.command
    # catalog datasets on local paths that do not cross steps are not wired
    assert "raw" not in report.input_bindings


def test_compute_comes_from_node_tags(toy_project: Path) -> None:
    compiled = _compile(toy_project, pipeline_name="toy")
    assert compiled.step("report_node").compute == "gpu"
    assert compiled.step("double_node").compute == "__default__"
    assert compiled.computes["gpu"].cluster_name == "gpu-cluster"


def test_golden_yaml(make_project: Callable[..., Path]) -> None:
    project = make_project(package="golden_toy")
    text = to_yaml(_compile(project, pipeline_name="toy", params={"factor": 3}), project)
    if not GOLDEN.exists():  # first run writes the golden file; review it before committing
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_compiling_twice_gives_identical_yaml(toy_project: Path) -> None:
    first = to_yaml(_compile(toy_project, pipeline_name="toy"), toy_project)
    second = to_yaml(_compile(toy_project, pipeline_name="toy"), toy_project)
    assert first == second


def test_yaml_loads_back_with_the_sdk(toy_project: Path, tmp_path: Path) -> None:
    from azure.ai.ml import load_job

    path = toy_project / "job.yaml"
    path.write_text(to_yaml(_compile(toy_project, pipeline_name="toy"), toy_project))
    job = load_job(path)
    assert set(job.jobs) == {"double_node", "total_node", "report_node"}
    assert job.jobs["report_node"].compute == "gpu-cluster"
    assert job.jobs["total_node"].inputs["doubled"]._data == (
        "${{parent.jobs.double_node.outputs.doubled}}"
    )
    assert job.inputs["run_id"]._data == RUN_ID


def test_params_with_any_characters_are_one_safe_word(toy_project: Path) -> None:
    from airflow_kedro_azureml.compute.arg_codec import decode_json

    params = {"label": 'it\'s "odd"\n ü $HOME `x`'}
    compiled = _compile(toy_project, pipeline_name="toy", params=params)
    assert decode_json(compiled.params_word) == params
    assert compiled.params_word.startswith("b64:")


def test_params_that_are_not_json_are_refused(toy_project: Path) -> None:
    from datetime import date

    with pytest.raises(ParamsError, match="JSON-serialisable"):
        _compile(toy_project, pipeline_name="toy", params={"when": date(2026, 1, 1)})


def test_unknown_pipeline_lists_the_registered_ones(toy_project: Path) -> None:
    with pytest.raises(PipelineSelectionError, match=r"'nope' is not registered.*'toy'"):
        _compile(toy_project, pipeline_name="nope")


def test_filter_selecting_no_nodes_is_refused(toy_project: Path) -> None:
    with pytest.raises(PipelineSelectionError, match="selects no nodes"):
        _compile(toy_project, pipeline_name="toy", filters=PipelineFilters(tags=("no_such_tag",)))


def test_filters_narrow_the_job(toy_project: Path) -> None:
    compiled = _compile(
        toy_project, pipeline_name="toy", filters=PipelineFilters(to_nodes=("total_node",))
    )
    assert [s.name for s in compiled.steps] == ["double_node", "total_node"]


def test_free_memory_input_is_refused(toy_project: Path) -> None:
    with pytest.raises(CompileError, match="'doubled' is an input of the pipeline"):
        _compile(
            toy_project, pipeline_name="toy", filters=PipelineFilters(node_names=("total_node",))
        )


LOCAL_INTERMEDIATES = {
    "raw": {"type": "json.JSONDataset", "filepath": "data/raw.json"},
    "doubled": {"type": "json.JSONDataset", "filepath": "data/02_intermediate/doubled.json"},
}


def test_local_file_crossing_steps_travels_as_a_step_output(
    make_project: Callable[..., Path],
) -> None:
    compiled = _compile(make_project(catalog=LOCAL_INTERMEDIATES), pipeline_name="toy")
    assert compiled.promoted == ("doubled",)
    double, total, report = compiled.steps
    assert "doubled" in double.outputs
    assert total.input_bindings["doubled"] == "${{parent.jobs.double_node.outputs.doubled}}"
    assert report.input_bindings["doubled"] == "${{parent.jobs.double_node.outputs.doubled}}"
    assert "--input doubled ${{inputs.doubled}}" in total.command


def test_local_file_crossing_steps_is_an_error_when_promotion_is_off(
    make_project: Callable[..., Path],
) -> None:
    azureml = {**DEFAULT_AZUREML, "execution": {**DEFAULT_AZUREML["execution"]}}
    azureml["execution"]["promote_local_intermediates"] = False
    project = make_project(catalog=LOCAL_INTERMEDIATES, azureml=azureml)
    with pytest.raises(CompileError) as caught:
        _compile(project, pipeline_name="toy")
    message = str(caught.value)
    assert "'doubled'" in message and "data/02_intermediate/doubled.json" in message
    assert "double_node" in message and "total_node" in message
    assert "AzureMLPipelineDataset" in message and "promote_local_intermediates" in message


def test_pipeline_dataset_crossing_steps_is_wired(make_project: Callable[..., Path]) -> None:
    catalog = {
        "raw": {"type": "json.JSONDataset", "filepath": "data/raw.json"},
        "doubled": pipeline_dataset("doubled.json", root_dir="data/02_intermediate"),
    }
    compiled = _compile(make_project(catalog=catalog), pipeline_name="toy")
    assert compiled.step("total_node").input_bindings["doubled"].endswith("outputs.doubled}}")


def test_cloud_path_crossing_steps_only_orders_them(make_project: Callable[..., Path]) -> None:
    catalog = {
        "raw": {"type": "json.JSONDataset", "filepath": "data/raw.json"},
        "summed": {"type": "json.JSONDataset", "filepath": "abfs://container/summed.json"},
    }
    compiled = _compile(make_project(catalog=catalog), pipeline_name="toy")
    total, report = compiled.step("total_node"), compiled.step("report_node")
    assert "kedro_done" in total.outputs
    assert report.input_bindings["kedro_after_total_node"] == (
        "${{parent.jobs.total_node.outputs.kedro_done}}"
    )
    assert "summed" not in report.input_bindings


def test_compute_tag_naming_missing_compute_is_refused(make_project: Callable[..., Path]) -> None:
    nodes = """
from kedro.pipeline import Pipeline, node

def double(values, factor):
    return values

def fail(values):
    return values

def toy_pipeline():
    return Pipeline(
        [node(double, ["raw", "params:factor"], "out", name="n1", tags=["compute.huge"])]
    )

total = fail
"""
    project = make_project(nodes=nodes)
    with pytest.raises(CompileError, match=r"tag 'compute.huge'.*no compute 'huge'"):
        _compile(project, pipeline_name="toy")


def test_memory_grouping_joins_nodes_on_one_compute(toy_project: Path) -> None:
    compiled = _compile(toy_project, pipeline_name="toy", node_grouping="memory")
    assert [s.node_names for s in compiled.steps] == [
        ("double_node", "total_node"),
        ("report_node",),
    ]
    report = compiled.steps[1]
    assert set(report.data_inputs) == {"doubled", "summed"}


def test_run_id_must_sort_by_time(toy_project: Path) -> None:
    with pytest.raises(ValueError, match="Kedro save version"):
        _compile(toy_project, pipeline_name="toy", run_id="manual__2026")


def test_unknown_params_are_an_error_naming_the_nearest_key(toy_project: Path) -> None:
    with pytest.raises(ParamsError, match=r"'factr' \(did you mean 'factor'\?\)"):
        _compile(toy_project, pipeline_name="toy", params={"factr": 3})
    compiled = _compile(
        toy_project, pipeline_name="toy", params={"factr": 3}, allow_unknown_params=True
    )
    assert compiled.steps


def test_nested_unknown_params_are_named_by_their_dotted_key() -> None:
    from airflow_kedro_azureml.compiler.params_check import unknown_params

    known = {"training": {"window_end": "2025-12", "window_months": 24}, "seed": 1}
    assert unknown_params({"training": {"window_end": "2026-10"}, "seed": 2}, known) == []
    assert unknown_params({"training": {"windw_end": "x"}}, known) == [
        "'training.windw_end' (did you mean 'training.window_end'?)"
    ]
    assert unknown_params({"other": 1}, known) == ["'other'"]


def test_params_too_long_for_a_command_line_travel_as_a_file_input(
    toy_project: Path, tmp_path: Path
) -> None:
    from azure.ai.ml import load_job

    from airflow_kedro_azureml.compute.arg_codec import decode_json

    params = {"label": "x\r\n" * 400_000}
    compiled = _compile(toy_project, pipeline_name="toy", params=params)
    assert compiled.params_file_text is not None
    assert json.loads(compiled.params_file_text) == params
    assert decode_json(compiled.params_word) == {}
    for step in compiled.steps:
        assert "--params-file ${{inputs.kedro_params_file}}" in step.command
        assert step.input_bindings["kedro_params_file"] == "${{parent.inputs.params_file}}"
        assert len(step.command) < 10_000
    params_file = tmp_path / "job.params.json"
    params_file.write_text(compiled.params_file_text, encoding="utf-8")
    job_file = tmp_path / "job.yaml"
    job_file.write_text(to_yaml(compiled, tmp_path, params_file=params_file))
    job = load_job(job_file)
    params_input = job.inputs["params_file"]._data
    assert params_input.type == "uri_file"
    assert (job_file.parent / params_input.path).resolve() == params_file.resolve()


def test_short_params_stay_on_the_command_line(toy_project: Path) -> None:
    compiled = _compile(toy_project, pipeline_name="toy", params={"label": "x" * 20_000})
    assert compiled.params_file_text is None
    assert all("--params-file" not in step.command for step in compiled.steps)


def test_local_files_azure_ml_would_lack_or_lose_are_reported(toy_project: Path) -> None:
    compiled = _compile(toy_project, pipeline_name="toy")
    found = [(item.role, item.dataset, item.path, item.step) for item in compiled.local_files]
    assert found == [
        ("input", "raw", "data/raw.json", "double_node"),
        ("output", "report", "data/report.json", "report_node"),
    ]
    report = compiled.local_files_report()
    assert report is not None
    assert (
        "input 'raw' (data/raw.json) of step 'double_node': no step of this job writes it" in report
    )
    assert "output 'report' (data/report.json) of step 'report_node': written to the" in report
    assert "AzureMLAssetDataset" in report and "cloud path" in report


def test_inputs_in_the_snapshot_and_kept_outputs_are_not_reported(
    make_project: Callable[..., Path],
) -> None:
    catalog = {
        "raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"},
        "report": pipeline_dataset("report.json", root_dir="data/08_reporting"),
    }
    compiled = _compile(make_project(catalog=catalog), pipeline_name="toy")
    assert compiled.local_files == ()
    assert compiled.local_files_report() is None


def test_a_pipeline_dataset_nobody_in_the_job_writes_is_reported(
    make_project: Callable[..., Path],
) -> None:
    catalog = {
        "raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"},
        "doubled": pipeline_dataset("doubled.json", root_dir="data/02_intermediate"),
    }
    project = make_project(catalog=catalog)
    compiled = _compile(
        project, pipeline_name="toy", filters=PipelineFilters(from_nodes=("total_node",))
    )
    assert [(i.role, i.dataset, i.path) for i in compiled.local_files] == [
        ("input", "doubled", "data/02_intermediate/doubled.json")
    ]


def test_libyaml_writes_the_same_bytes_as_pure_python_yaml(make_project) -> None:
    import yaml

    from airflow_kedro_azureml.azure.job_yaml import dump_yaml

    project = make_project(package="golden_toy")
    from airflow_kedro_azureml.azure.pipeline_job import JobIdentity

    identity = JobIdentity(description="Prévision mensuelle — ünï\nline two", tags={"é": "x: y"})
    compiled = _compile(project, pipeline_name="toy", params={"label": "é x"})
    text = to_yaml(compiled, project, identity)
    assert "Prévision" in text
    document = yaml.safe_load(text)
    pure = yaml.dump(
        document, Dumper=yaml.SafeDumper, sort_keys=False, allow_unicode=True, width=10_000
    )
    assert dump_yaml(document) == pure == text


NONDETERMINISTIC_NODES = """
from kedro.pipeline import Pipeline, node

def double(values, factor):
    return [value * factor for value in values]

def total(values):
    return sum(values)

def fail(values):
    return values

def toy_pipeline():
    return Pipeline(
        [
            node(double, ["raw", "params:factor"], "doubled", name="double_node",
                 tags=["azureml.nondeterministic"]),
            node(total, "doubled", "summed", name="total_node"),
        ]
    )
"""


def test_a_nondeterministic_tag_makes_its_step_never_reused(
    make_project: Callable[..., Path],
) -> None:
    from azure.ai.ml import load_job

    project = make_project(nodes=NONDETERMINISTIC_NODES)
    compiled = _compile(project, pipeline_name="toy")
    assert compiled.step("double_node").deterministic is False
    assert compiled.step("total_node").deterministic is True
    path = project / "job.yaml"
    path.write_text(to_yaml(compiled, project))
    job = load_job(path)
    # A pipeline node cannot say it; its inline component does, and the SDK reads it.
    assert job.jobs["double_node"].component.is_deterministic is False
    assert job.jobs["double_node"].component.command.startswith("python -m ")
    assert job.jobs["total_node"].inputs["doubled"]._data == (
        "${{parent.jobs.double_node.outputs.doubled}}"
    )
    assert "is_deterministic" not in path.read_text().split("total_node:")[1]


def test_run_settings_are_written_in_the_yaml_load_job_reads(
    make_project: Callable[..., Path],
) -> None:
    from tests.operators.test_pipeline_run_settings import AZUREML, CATALOG, NODES, REGISTRY

    project = make_project(nodes=NODES, registry=REGISTRY, catalog=CATALOG, azureml=AZUREML)
    job = load_job_of(project, "main")
    assert job.settings.continue_on_step_failure is True
    score, train = job.jobs["score"], job.jobs["train"]
    assert score.compute is None
    assert score.resources.instance_type == "Standard_NC6s_v3"
    assert score.resources.shm_size == "8g"
    assert (score.queue_settings.job_tier, score.queue_settings.priority) == ("spot", "high")
    assert score.identity.client_id == "0c1d2e3f-0000-4000-8000-000000000001"
    assert train.distribution.process_count_per_instance == 2
    assert train.resources.instance_count == 2
    assert type(train.identity).__name__ == "UserIdentityConfiguration"
    slow = load_job_of(project, "slow")
    assert slow.jobs["slow"].limits.timeout == 3


def load_job_of(project: Path, pipeline: str):
    from azure.ai.ml import load_job

    path = project / f"{pipeline}.yaml"
    path.write_text(to_yaml(_compile(project, pipeline_name=pipeline), project))
    return load_job(path)
