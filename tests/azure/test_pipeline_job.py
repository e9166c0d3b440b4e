"""Tests for the SDK PipelineJob of a compiled pipeline: its REST body is what Azure gets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from airflow_kedro_azureml.azure.pipeline_job import JobIdentity, to_pipeline_job
from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
from airflow_kedro_azureml.compiler.kedro_project import open_project

RUN_ID = "2026-11-10T06.00.00.000Z"


def rest_properties(project: Path, **options: object) -> dict:
    compiled = compile_pipeline(
        open_project(project), CompileOptions(pipeline_name="toy", run_id=RUN_ID, **options)
    )
    job = to_pipeline_job(compiled, JobIdentity(name="job_1", tags={"a": "b"}))
    return job._to_rest_object().as_dict()["properties"]


def test_rest_body_binds_steps_to_each_other_and_to_pipeline_inputs(toy_project: Path) -> None:
    properties = rest_properties(toy_project, params={"label": "x y"})
    assert properties["inputs"]["run_id"]["value"] == RUN_ID
    total = properties["jobs"]["total_node"]
    assert total["inputs"]["doubled"]["value"] == "${{parent.jobs.double_node.outputs.doubled}}"
    assert total["inputs"]["kedro_run_id"]["value"] == "${{parent.inputs.run_id}}"
    assert properties["jobs"]["report_node"]["computeId"].endswith("gpu-cluster")
    assert properties["tags"] == {"a": "b"}


def test_fresh_objects_on_every_call(toy_project: Path) -> None:
    compiled = compile_pipeline(
        open_project(toy_project), CompileOptions(pipeline_name="toy", run_id=RUN_ID)
    )
    first, second = to_pipeline_job(compiled), to_pipeline_job(compiled)
    assert first.jobs["double_node"] is not second.jobs["double_node"]


def test_asset_input_and_output(make_project: Callable[..., Path]) -> None:
    catalog = {
        "raw": {
            "type": "airflow_kedro_azureml.datasets.AzureMLAssetDataset",
            "azureml_dataset": "raw_numbers",
            "azureml_version": "3",
            "dataset": {"type": "json.JSONDataset", "filepath": "raw.json"},
        },
        "summed": {
            "type": "airflow_kedro_azureml.datasets.AzureMLAssetDataset",
            "azureml_dataset": "sums",
            "dataset": {"type": "json.JSONDataset", "filepath": "sums.json"},
        },
    }
    properties = rest_properties(make_project(catalog=catalog))
    double = properties["jobs"]["double_node"]
    assert double["inputs"]["raw"]["uri"].endswith("raw_numbers:3")
    total = properties["jobs"]["total_node"]
    assert total["outputs"]["summed"]["name"] == "sums"
    assert total["outputs"]["summed"]["version"] == RUN_ID
