"""The processes of a distributed step as Azure ML starts them: one per rank, each told its place.

Azure ML runs a distributed step's command ``instance_count x process_count_per_instance``
times (PyTorch, MPI) or once per TensorFlow worker and parameter server, and sets each
process's framework variables: ``RANK``/``LOCAL_RANK``/``WORLD_SIZE``/``NODE_RANK``/
``MASTER_ADDR``/``MASTER_PORT`` (PyTorch), ``OMPI_COMM_WORLD_RANK``/``_SIZE``/``_LOCAL_RANK``
(MPI), ``TF_CONFIG`` (TensorFlow). Here every "node" is this machine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_MASTER_PORT = "29500"


def rank_environments(
    distribution: Mapping[str, Any], instance_count: int | None
) -> tuple[dict[str, str], ...]:
    """The variables of each process of a step with ``distribution`` (Azure ML's REST shape:
    ``distribution_type`` PyTorch, Mpi or TensorFlow, and the process counts)."""
    kind = str(distribution.get("distribution_type") or distribution.get("type") or "").lower()
    nodes = int(instance_count or 1)
    if kind == "tensorflow":
        return _tensorflow(
            int(distribution.get("worker_count") or nodes),
            int(distribution.get("parameter_server_count") or 0),
        )
    per_node = int(distribution.get("process_count_per_instance") or 1)
    world = nodes * per_node
    if kind == "pytorch":
        return tuple(
            {
                "RANK": str(rank),
                "LOCAL_RANK": str(rank % per_node),
                "NODE_RANK": str(rank // per_node),
                "WORLD_SIZE": str(world),
                "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": _MASTER_PORT,
            }
            for rank in range(world)
        )
    if kind == "mpi":
        return tuple(
            {
                "OMPI_COMM_WORLD_RANK": str(rank),
                "OMPI_COMM_WORLD_LOCAL_RANK": str(rank % per_node),
                "OMPI_COMM_WORLD_SIZE": str(world),
            }
            for rank in range(world)
        )
    raise ValueError(f"distribution type {kind!r} is not pytorch, mpi or tensorflow")


def _tensorflow(workers: int, parameter_servers: int) -> tuple[dict[str, str], ...]:
    cluster = {
        "worker": [f"127.0.0.1:{2222 + index}" for index in range(workers)],
        "ps": [f"127.0.0.1:{3222 + index}" for index in range(parameter_servers)],
    }
    tasks = [("worker", index) for index in range(workers)]
    tasks += [("ps", index) for index in range(parameter_servers)]
    return tuple(
        {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": kind, "index": index}})}
        for kind, index in tasks
    )
