"""The processes of a distributed step, and the variables each is told its place with."""

from __future__ import annotations

import json

import pytest

from airflow_kedro_azureml.compute.ranks import process_rank
from airflow_kedro_azureml.local.distributed import rank_environments


def test_pytorch_runs_nodes_times_processes_with_torch_variables() -> None:
    ranks = rank_environments({"distribution_type": "PyTorch", "process_count_per_instance": 3}, 2)
    assert [r["RANK"] for r in ranks] == ["0", "1", "2", "3", "4", "5"]
    assert [r["LOCAL_RANK"] for r in ranks] == ["0", "1", "2", "0", "1", "2"]
    assert [r["NODE_RANK"] for r in ranks] == ["0", "0", "0", "1", "1", "1"]
    assert {r["WORLD_SIZE"] for r in ranks} == {"6"}
    assert [process_rank(r) for r in ranks] == list(range(6))


def test_mpi_uses_open_mpi_variables() -> None:
    ranks = rank_environments({"distribution_type": "Mpi", "process_count_per_instance": 2}, None)
    assert [r["OMPI_COMM_WORLD_RANK"] for r in ranks] == ["0", "1"]
    assert [process_rank(r) for r in ranks] == [0, 1]


def test_tensorflow_has_a_worker_per_rank_and_its_parameter_servers() -> None:
    ranks = rank_environments(
        {"distribution_type": "TensorFlow", "worker_count": 2, "parameter_server_count": 1}, 2
    )
    tasks = [json.loads(r["TF_CONFIG"])["task"] for r in ranks]
    assert tasks == [
        {"type": "worker", "index": 0},
        {"type": "worker", "index": 1},
        {"type": "ps", "index": 0},
    ]
    assert [process_rank(r) for r in ranks] == [0, 1, 3]


def test_an_unknown_framework_is_refused() -> None:
    with pytest.raises(ValueError, match="'ray' is not pytorch, mpi or tensorflow"):
        rank_environments({"distribution_type": "Ray"}, 1)
