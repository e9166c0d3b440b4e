"""The rank of a distributed step's process, from each framework's own variables."""

from __future__ import annotations

import json

import pytest

from airflow_kedro_azureml.compute.ranks import process_rank, saves_outputs


def tf_config(kind: str, index: int, chief: bool) -> str:
    cluster = {"worker": ["w0:2222", "w1:2222"], "ps": ["p0:2222"]}
    if chief:
        cluster["chief"] = ["c0:2222"]
    return json.dumps({"cluster": cluster, "task": {"type": kind, "index": index}})


@pytest.mark.parametrize(
    ("environ", "rank"),
    [
        ({}, None),
        ({"RANK": "0"}, 0),
        ({"RANK": "3"}, 3),
        ({"OMPI_COMM_WORLD_RANK": "1"}, 1),
        ({"PMI_RANK": "0"}, 0),
        ({"TF_CONFIG": tf_config("worker", 0, chief=False)}, 0),
        ({"TF_CONFIG": tf_config("worker", 0, chief=True)}, 1),
        ({"TF_CONFIG": tf_config("chief", 0, chief=True)}, 0),
        ({"TF_CONFIG": tf_config("ps", 0, chief=False)}, 3),
        ({"TF_CONFIG": "not json"}, None),
    ],
)
def test_process_rank(environ: dict[str, str], rank: int | None) -> None:
    assert process_rank(environ) == rank
    assert saves_outputs(environ) is (rank in (None, 0))
