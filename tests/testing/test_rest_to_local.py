"""Tests of the REST job body -> local steps converter, on a body captured from the real SDK."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_kedro_azureml.local.steps import LocalStep
from airflow_kedro_azureml.testing.rest_to_local import (
    PIPELINE_SCOPE,
    CodeReference,
    command_job_to_local,
    pipeline_job_to_local,
)

CAPTURED = json.loads((Path(__file__).parent / "data" / "pipeline_job_put.json").read_text())


def _lookup(component_id: str) -> dict[str, Any] | None:
    return CAPTURED["components"].get(component_id.split("/workspaces/ws-emulator")[1])


@pytest.mark.timeout(10)
def test_captured_pipeline_body_becomes_local_steps() -> None:
    plan = pipeline_job_to_local(CAPTURED["job"]["properties"], _lookup)
    assert plan.steps == (
        LocalStep(
            name="a",
            command="python step.py --out ${{outputs.out}} --p ${{inputs.p}} --n ${{inputs.n}}",
            inputs={"n": "3", "p": "${{parent.inputs.p}}"},
            outputs=("out",),
            environment_variables={"STEP_KIND": "producer"},
        ),
        LocalStep(
            name="consume",
            command="python step.py --inp ${{inputs.inp}}",
            inputs={"inp": "${{parent.jobs.a.outputs.out}}"},
            outputs=(),
        ),
    )
    assert plan.pipeline_inputs == {"p": "hello"}
    assert plan.code == CodeReference("52623dfb-af71-43ba-8af9-a915f9dd9362", "1")
    assert plan.data_inputs == frozenset()


@pytest.mark.timeout(10)
def test_data_inputs_are_listed_and_resolved() -> None:
    properties = copy.deepcopy(CAPTURED["job"]["properties"])
    properties["inputs"]["raw"] = {"jobInputType": "uri_folder", "uri": "azureml:raw:1"}
    properties["jobs"]["consume"]["inputs"]["inp"] = {
        "job_input_type": "uri_folder",
        "uri": "azureml://datastores/workspaceblobstore/paths/x/",
    }
    plan = pipeline_job_to_local(properties, _lookup)
    assert plan.data_inputs == {(PIPELINE_SCOPE, "raw"), ("consume", "inp")}
    local_paths = {
        "azureml:raw:1": "/local/1",
        "azureml://datastores/workspaceblobstore/paths/x/": "/local/x",
    }
    resolved = plan.with_data_paths(local_paths.__getitem__)
    assert resolved.pipeline_inputs["raw"] == "/local/1"
    assert resolved.steps[1].inputs["inp"] == "/local/x"
    assert resolved.steps[0].inputs["p"] == "${{parent.inputs.p}}"


@pytest.mark.timeout(10)
def test_unknown_component_and_mixed_code_are_refused() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        pipeline_job_to_local(CAPTURED["job"]["properties"], lambda _: None)
    components = copy.deepcopy(CAPTURED["components"])
    first = next(iter(components.values()))
    first["properties"]["componentSpec"]["code"] = "azureml:/x/codes/other/versions/2"
    with pytest.raises(ValueError, match="one code snapshot"):
        pipeline_job_to_local(
            CAPTURED["job"]["properties"],
            lambda cid: components.get(cid.split("/workspaces/ws-emulator")[1]),
        )


@pytest.mark.timeout(10)
def test_non_command_steps_are_refused() -> None:
    properties = copy.deepcopy(CAPTURED["job"]["properties"])
    properties["jobs"]["a"]["type"] = "pipeline"
    with pytest.raises(ValueError, match="command steps only"):
        pipeline_job_to_local(properties, _lookup)


@pytest.mark.timeout(10)
def test_command_job_becomes_one_step() -> None:
    plan = command_job_to_local(
        "solo",
        {
            "jobType": "Command",
            "command": "python step.py --text ${{inputs.text}} --out ${{outputs.out}}",
            "codeId": "/subscriptions/s/resourceGroups/r/workspaces/w/codes/c/versions/7",
            "inputs": {"text": {"jobInputType": "literal", "value": "hi"}},
            "outputs": {"out": {"jobOutputType": "uri_folder"}},
            "environmentVariables": {"A": "1"},
        },
    )
    (step,) = plan.steps
    assert step.name == "solo" and step.inputs == {"text": "hi"} and step.outputs == ("out",)
    assert step.environment_variables == {"A": "1"}
    assert plan.code == CodeReference("c", "7")
